//! Live capture with real traffic: a real go command fetches real modules from a real
//! GOPROXY server while gomodwatch captures; the go command's own `-x` output is the truth.
//! Needs root (CI runs as root).

// Linux only: built on tests/common/fixture.rs (real go commands, network namespaces,
// root); tests/darwin-check.sh type-checks the other tests for macOS.
#![cfg(target_os = "linux")]

mod common;

use common::fixture::*;
use common::*;
use gomodwatch::source::file::CaptureFile;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

/// The (url, status) multiset the -x log shows, and the one the events show.
fn compare(xlog: &str, events: &[Value]) {
    let mut want: BTreeMap<(String, Option<u16>), usize> = BTreeMap::new();
    for r in parse_xlog(xlog) {
        assert!(r.error.is_none(), "go reported a transport error: {r:?}");
        *want.entry((r.url, r.status)).or_default() += 1;
    }
    let mut got: BTreeMap<(String, Option<u16>), usize> = BTreeMap::new();
    for e in of_type(events, "exchange") {
        let status = e["status"].as_u64().map(|s| s as u16);
        *got.entry((e["url"].as_str().unwrap().to_string(), status))
            .or_default() += 1;
    }
    assert!(!want.is_empty());
    assert_eq!(got, want);
}

fn exchange_set(events: &[Value]) -> Vec<String> {
    let mut v: Vec<String> = of_type(events, "exchange")
        .iter()
        .map(|e| {
            format!(
                "{} {} {} {}",
                e["ts"], e["url"], e["status"], e["resp_bytes"]
            )
        })
        .collect();
    v.sort();
    v
}

/// Replays what `-w` wrote and checks tcpdump reads it too.
fn replay_matches(written: &Path, live: &[Value]) {
    let replayed = replay_json(written, &[]);
    assert_eq!(exchange_set(&replayed), exchange_set(live));
    let out = std::process::Command::new("tcpdump")
        .args(["-nn", "-r"])
        .arg(written)
        .output()
        .expect("tcpdump");
    assert!(
        out.status.success(),
        "tcpdump -r: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stdout.len() > 1000);
}

#[test]
fn live_on_loopback_matches_the_go_command() {
    if !can_run("live_on_loopback_matches_the_go_command", LIVE) {
        return;
    }
    let _proxy = goproxyd(None, "127.0.0.1:3411", &[]);
    let dir = tempdir("live-lo");
    let pcap = dir.join("lo.pcap");
    let run = LiveRun::start(
        &[
            "-i",
            "lo",
            "-f",
            "tcp port 3411",
            "--json",
            "-w",
            pcap.to_str().unwrap(),
        ],
        &[],
    );
    let xlog = run_go(
        &go127(),
        "http://127.0.0.1:3411",
        &[
            "get",
            "-x",
            "github.com/ghodss/yaml@v1.0.0",
            "github.com/BurntSushi/toml@v1.2.0",
        ],
        None,
    );
    let out = run.stop();
    assert!(out.status.success(), "{}", out.stderr);
    let events = parse_ndjson(&out.stdout);
    compare(&xlog, &events);
    let summary = of_type(&events, "summary")[0];
    assert_eq!(summary["dropped"], 0);
    // Hashes of what was captured live equal the tree's go.sum.
    let sums = std::fs::read_to_string(tools().tree.join("go.sum.expected")).unwrap();
    let modules = of_type(&events, "module");
    let toml = modules
        .iter()
        .find(|m| m["module"] == "github.com/BurntSushi/toml")
        .unwrap();
    assert!(sums.contains(toml["h1"].as_str().unwrap()), "{toml}");
    replay_matches(&pcap, &events);
    // The capture's very first packet is kept: the go command's first SYN (issue 26: an
    // `inbound` kernel filter made libpcap reject the ring's first block in user space).
    let first = std::process::Command::new("tcpdump")
        .args(["-nn", "-c", "1", "-r"])
        .arg(&pcap)
        .output()
        .expect("tcpdump");
    let first = String::from_utf8_lossy(&first.stdout);
    assert!(
        first.contains("Flags [S],"),
        "the first packet written: {first}"
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn live_on_an_mtu_1500_veth_matches_the_go_command() {
    if !can_run("live_on_an_mtu_1500_veth_matches_the_go_command", LIVE) {
        return;
    }
    let ns = Netns::create("a", 31);
    let _proxy = goproxyd(Some(&ns.name), &format!("{}:3412", ns.ns_ip), &[]);
    let dir = tempdir("live-veth");
    let pcap = dir.join("veth.pcap");
    let run = LiveRun::start(
        &["-i", &ns.host_if, "--json", "-w", pcap.to_str().unwrap()],
        &[],
    );
    let xlog = run_go(
        &go119(),
        &format!("http://{}:3412", ns.ns_ip),
        &[
            "mod",
            "download",
            "-x",
            "github.com/BurntSushi/toml@v1.2.0",
            "gopkg.in/yaml.v2@v2.2.2",
        ],
        None,
    );
    let out = run.stop();
    assert!(out.status.success(), "{}", out.stderr);
    let events = parse_ndjson(&out.stdout);
    compare(&xlog, &events);
    // Real MTU-sized frames: the 217 KiB zip crossed in ≤ 1514-byte frames.
    let mut f = CaptureFile::new(std::fs::File::open(&pcap).unwrap()).unwrap();
    let mut max = 0;
    let mut n = 0;
    while let Some(p) = f.next_packet().unwrap() {
        max = max.max(p.wire_len);
        n += 1;
    }
    assert!(max <= 1514 && n > 150, "max frame {max}, {n} packets");
    replay_matches(&pcap, &events);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn live_on_two_interfaces_merges_them() {
    if !can_run("live_on_two_interfaces_merges_them", LIVE) {
        return;
    }
    let ns = Netns::create("b", 32);
    // A (loopback) serves only BurntSushi, 404 for the rest; B (behind the veth) everything.
    let _a = goproxyd(
        None,
        "127.0.0.1:3413",
        &["-only", "github.com/BurntSushi", "-miss", "404"],
    );
    let _b = goproxyd(Some(&ns.name), &format!("{}:3414", ns.ns_ip), &[]);
    let dir = tempdir("live-two");
    let pcapng = dir.join("two.pcapng");
    let filter = "tcp port 3413 or tcp port 3414";
    let run = LiveRun::start(
        &[
            "-i",
            "lo",
            "-i",
            &ns.host_if,
            "-f",
            filter,
            "--json",
            "-w",
            pcapng.to_str().unwrap(),
        ],
        &[],
    );
    let goproxy = format!("http://127.0.0.1:3413,http://{}:3414", ns.ns_ip);
    let xlog = run_go(
        &go127(),
        &goproxy,
        &[
            "mod",
            "download",
            "-x",
            "github.com/BurntSushi/toml@v1.2.0",
            "github.com/ghodss/yaml@v1.0.0",
        ],
        None,
    );
    let out = run.stop();
    assert!(out.status.success(), "{}", out.stderr);
    let events = parse_ndjson(&out.stdout);
    compare(&xlog, &events);
    // Both interfaces contributed, and the chain is right.
    let yaml = of_type(&events, "module")
        .into_iter()
        .find(|m| m["module"] == "github.com/ghodss/yaml")
        .unwrap()
        .clone();
    let zip: Vec<&Value> = yaml["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["kind"] == "zip")
        .collect();
    assert_eq!(zip[0]["status"], 404);
    assert_eq!(zip[1]["status"], 200);
    assert_eq!(
        yaml["served_by"]["zip"],
        format!("http://{}:3414", ns.ns_ip)
    );
    // The -w file is a pcapng with both interfaces, in time order.
    let mut f = CaptureFile::new(std::fs::File::open(&pcapng).unwrap()).unwrap();
    let mut last = gomodwatch::vocab::time::Ts(0);
    let mut ifaces = std::collections::BTreeSet::new();
    while let Some(p) = f.next_packet().unwrap() {
        // Within one interface the kernel may stamp a packet a hair before the one queued
        // ahead of it (two CPUs); across interfaces the merge keeps time order.
        assert!(
            p.ts.0 >= last.0 - 1_000_000,
            "packets out of time order: {} after {}",
            p.ts,
            last
        );
        last = p.ts;
        ifaces.insert(p.iface);
    }
    assert_eq!(f.interfaces().len(), 2);
    assert_eq!(ifaces.len(), 2);
    replay_matches(&pcapng, &events);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn privileges_are_dropped_to_the_sudo_user() {
    if !can_run("privileges_are_dropped_to_the_sudo_user", LIVE) {
        return;
    }
    let dir = tempdir("live-priv");
    let pcap = dir.join("priv.pcap");
    let run = LiveRun::start(
        &[
            "-i",
            "lo",
            "-f",
            "tcp port 3415",
            "--json",
            "-w",
            pcap.to_str().unwrap(),
        ],
        &[("SUDO_UID", "65534"), ("SUDO_GID", "65534")],
    );
    let status = std::fs::read_to_string(format!("/proc/{}/status", run.pid)).unwrap();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .unwrap()
            .split_whitespace()
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    assert_eq!(field("Uid:"), ["65534"; 4]);
    assert_eq!(field("Gid:"), ["65534"; 4]);
    assert_eq!(field("Groups:"), ["65534"]);
    // Capabilities are gone with root.
    assert_eq!(field("CapEff:"), ["0000000000000000"]);
    let out = run.stop();
    assert!(out.status.success(), "{}", out.stderr);
    use std::os::unix::fs::MetadataExt;
    assert_eq!(
        std::fs::metadata(&pcap).unwrap().uid(),
        65534,
        "the -w file belongs to the user"
    );
    // -Z names the user explicitly (looked up with getpwnam).
    let named = LiveRun::start(
        &["-i", "lo", "-f", "tcp port 3415", "--json", "-Z", "nobody"],
        &[],
    );
    let status = std::fs::read_to_string(format!("/proc/{}/status", named.pid)).unwrap();
    let uid = status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_string();
    assert_eq!(uid, "65534");
    assert!(named.stop().status.success());
    let unknown = common::run(&["-i", "lo", "-Z", "no-such-user-here", "--json"]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no user named no-such-user-here"));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn live_usage_errors_are_clear() {
    if !can_run("live_usage_errors_are_clear", LIVE) {
        return;
    }
    let out = run(&["-i", "no-such-if0", "--json"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no interface named no-such-if0; available:") && err.contains("lo"),
        "{err}"
    );
    let out = run(&["-i", "lo", "-f", "tcp port", "--json"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("bad filter"));
    let dir = tempdir("live-exists");
    let existing = dir.join("keep.pcap");
    std::fs::write(&existing, b"precious").unwrap();
    let out = run(&["-i", "lo", "-w", existing.to_str().unwrap(), "--json"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(std::fs::read(&existing).unwrap(), b"precious");
    let out = run(&["-D"]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("lo [Up, Running, Loopback]"));
    std::fs::remove_dir_all(&dir).ok();
}

/// Credentials reach no view or export: not the Authorization header a client sent, not
/// the password in a configured GOPROXY.
#[test]
fn credentials_are_redacted_everywhere() {
    if !can_run("credentials_are_redacted_everywhere", LIVE) {
        return;
    }
    let _proxy = goproxyd(None, "127.0.0.1:3416", &[]);
    let dir = tempdir("live-creds");
    let har = dir.join("creds.har");
    let goproxy = "http://alice:s3cret@127.0.0.1:3416";
    let run = LiveRun::start(
        &[
            "-i",
            "lo",
            "-f",
            "tcp port 3416",
            "--json",
            "--har",
            har.to_str().unwrap(),
            "--goproxy",
            goproxy,
        ],
        &[],
    );
    // curl sends the userinfo as `Authorization: Basic YWxpY2U6czNjcmV0`.
    for path in [
        "github.com/%21burnt%21sushi/toml/@v/list",
        "github.com/%21burnt%21sushi/toml/@v/v1.2.0.info",
    ] {
        let out = std::process::Command::new("curl")
            .args(["-sf", "-o", "/dev/null", &format!("{goproxy}/{path}")])
            .output()
            .expect("curl");
        assert!(out.status.success());
    }
    let out = run.stop();
    assert!(out.status.success(), "{}", out.stderr);
    let events = parse_ndjson(&out.stdout);
    assert_eq!(of_type(&events, "exchange").len(), 2);
    let json = String::from_utf8_lossy(&out.stdout);
    let har_text = std::fs::read_to_string(&har).unwrap();
    for text in [json.as_ref(), har_text.as_str(), out.stderr.as_str()] {
        assert!(
            !text.contains("s3cret") && !text.contains("YWxpY2U6czNjcmV0"),
            "{text}"
        );
    }
    // The configured proxy still matches the traffic (without its credentials).
    let summary = of_type(&events, "summary")[0];
    assert_eq!(
        summary["goproxy"]["entries"][0]["url"],
        "http://127.0.0.1:3416"
    );
    assert_eq!(summary["proxies"][0]["proxy"], "http://127.0.0.1:3416");
    std::fs::remove_dir_all(&dir).ok();
}

/// A proxy mounted under a path that sends zips to storage elsewhere (as proxy.golang.org
/// does with 302s to storage.googleapis.com, and Athens in redirect mode).
#[test]
fn redirects_stay_with_their_request_and_path_prefixes_are_bases() {
    if !can_run(
        "redirects_stay_with_their_request_and_path_prefixes_are_bases",
        LIVE,
    ) {
        return;
    }
    let _storage = goproxyd(None, "127.0.0.1:3418", &[]);
    let _proxy = goproxyd(
        None,
        "127.0.0.1:3417",
        &["-prefix", "/goproxy", "-redirect", "http://127.0.0.1:3418"],
    );
    let run = LiveRun::start(
        &["-i", "lo", "-f", "tcp port 3417 or tcp port 3418", "--json"],
        &[],
    );
    let xlog = run_go(
        &go119(),
        "http://127.0.0.1:3417/goproxy",
        &["mod", "download", "-x", "github.com/BurntSushi/toml@v1.2.0"],
        None,
    );
    let out = run.stop();
    assert!(out.status.success(), "{}", out.stderr);
    let events = parse_ndjson(&out.stdout);
    // -x shows the proxy URL with the final status; the wire shows the 302 and the hop.
    assert!(
        xlog.contains("/goproxy/github.com/%21burnt%21sushi/toml/@v/v1.2.0.zip: 200 OK"),
        "{xlog}"
    );
    let exchanges = of_type(&events, "exchange");
    let first = exchanges
        .iter()
        .find(|e| e["status"] == 302)
        .expect("a 302");
    let hop = exchanges
        .iter()
        .find(|e| e["redirect_of"] == first["id"])
        .expect("the hop");
    assert_eq!(hop["status"], 200);
    assert!(hop["url"]
        .as_str()
        .unwrap()
        .starts_with("http://127.0.0.1:3418/"));
    assert_eq!(first["go"]["proxy"], "http://127.0.0.1:3417/goproxy");
    let toml = of_type(&events, "module")
        .into_iter()
        .find(|m| m["module"] == "github.com/BurntSushi/toml")
        .unwrap();
    let zip: Vec<&Value> = toml["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["kind"] == "zip")
        .collect();
    assert_eq!(zip.len(), 1, "the hop is not a second attempt: {toml}");
    assert_eq!(zip[0]["status"], 200);
    assert_eq!(zip[0]["redirected_to"], "127.0.0.1:3418");
    assert_eq!(toml["served_by"]["zip"], "http://127.0.0.1:3417/goproxy");
    assert_eq!(toml["served_by"]["info"], "http://127.0.0.1:3417/goproxy");
    let sums = std::fs::read_to_string(tools().tree.join("go.sum.expected")).unwrap();
    assert!(
        sums.contains(toml["h1"].as_str().unwrap()),
        "the hop's body was hashed: {toml}"
    );
    assert_eq!(toml["outcome"], "ok");
}

#[test]
fn an_interface_that_goes_away_is_reported_not_a_crash() {
    if !can_run("an_interface_that_goes_away_is_reported_not_a_crash", LIVE) {
        return;
    }
    let ns = Netns::create("g", 33);
    let run = LiveRun::start(&["-i", &ns.host_if, "--json"], &[]);
    std::thread::sleep(std::time::Duration::from_millis(300));
    let del = std::process::Command::new("ip")
        .args(["link", "del", &ns.host_if])
        .output()
        .unwrap();
    assert!(del.status.success());
    // With its only interface gone the capture ends by itself: no Ctrl-C needed.
    let out = run.wait(std::time::Duration::from_secs(10));
    assert!(out.status.success(), "{}", out.stderr);
    assert!(
        out.stderr
            .contains(&format!("capture on {} ended", ns.host_if)),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("panicked"));
    assert_eq!(of_type(&parse_ndjson(&out.stdout), "summary").len(), 1);
}
