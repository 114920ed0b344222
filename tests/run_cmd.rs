//! `gomodwatch run -- go ...`: the real go command (1.27 from PyPI) run by gomodwatch with
//! no proxy or certificate variables from the test, against goproxyd over HTTPS as
//! `goproxy.test` inside a network namespace (`/etc/netns/NAME/hosts` maps it to
//! 127.0.0.1; the go command proxies a name, never a loopback address). What the go
//! command printed (`-x`) is exactly what gomodwatch saw; the exit status is the go
//! command's; an HTTPS_PROXY the user had (a real squid) carries the traffic.

// Linux only: built on tests/common/fixture.rs (real go commands, network namespaces,
// root); tests/darwin-check.sh type-checks the other tests for macOS.
#![cfg(target_os = "linux")]

mod common;

use common::fixture::*;
use common::*;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const NEEDS: &[Need] = &[Need::Root, Need::Program("ip")];

struct World {
    ns: LoNetns,
    dir: PathBuf,
    upstream_ca: PathBuf,
    _servers: Vec<Proc>,
}

fn world(tag: &str, port: u16) -> World {
    let ns = LoNetns::create(&format!("run{tag}"));
    let dir = tempdir(&format!("run-cmd-{tag}"));
    let (ca, crt, key) = server_certs(&dir, "gomodwatch test upstream CA", &["goproxy.test"]);
    let server = goproxyd(
        Some(&ns.name),
        &format!("127.0.0.1:{port}"),
        &[
            "-cert",
            crt.to_str().unwrap(),
            "-key",
            key.to_str().unwrap(),
        ],
    );
    World {
        ns,
        dir,
        upstream_ca: ca,
        _servers: vec![server],
    }
}

impl World {
    /// `gomodwatch run --json ... -- go ARGS` inside the namespace, in a fresh module and
    /// module cache, with only the go settings (and `extra`) in its environment.
    fn run(&self, goproxy: &str, go_args: &[&str], extra: &[(&str, &str)]) -> Output {
        self.run_with(&[], goproxy, go_args, extra)
    }

    /// As `run`, with more options for gomodwatch (`gmw`).
    fn run_with(
        &self,
        gmw: &[&str],
        goproxy: &str,
        go_args: &[&str],
        extra: &[(&str, &str)],
    ) -> Output {
        self.run_gosum(gmw, goproxy, go_args, extra, None)
    }

    /// As `run_with`, the module's go.sum being `gosum` when given.
    fn run_gosum(
        &self,
        gmw: &[&str],
        goproxy: &str,
        go_args: &[&str],
        extra: &[(&str, &str)],
        gosum: Option<&str>,
    ) -> Output {
        let home = tempdir("run-go");
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &self.ns.name, bin(), "run", "--json"])
            .arg("--upstream-ca")
            .arg(&self.upstream_ca)
            .arg("--ca-dir")
            .arg(self.dir.join("gca"))
            .args(gmw)
            .arg("--")
            .arg(go127())
            .args(go_args);
        hermetic_go_env(&mut cmd, &home, goproxy).env("PATH", "/usr/bin:/bin:/usr/sbin:/sbin");
        if let Some(sums) = gosum {
            std::fs::write(home.join("m/go.sum"), sums).unwrap();
        }
        for (k, v) in extra {
            cmd.env(k, v);
        }
        let out = cmd.output().unwrap();
        let _ = std::fs::remove_dir_all(&home);
        out
    }
}

/// (url, status) of every exchange, sorted.
fn wire(events: &[Value]) -> Vec<(String, u64)> {
    let mut v: Vec<(String, u64)> = of_type(events, "exchange")
        .iter()
        .map(|e| {
            (
                e["url"].as_str().unwrap_or("").to_string(),
                e["status"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    v.sort();
    v
}

/// What `-x` printed, each https 4xx twice (Go ≥ 1.24 retries it for GOAUTH and prints
/// it once), sorted.
fn xlog_wire(xlog: &str) -> Vec<(String, u64)> {
    let mut v = Vec::new();
    for r in parse_xlog(xlog) {
        let status = u64::from(r.status.unwrap_or(0));
        let times = if (400..500).contains(&status) { 2 } else { 1 };
        for _ in 0..times {
            v.push((r.url.clone(), status));
        }
    }
    v.sort();
    v
}

const PORT: u16 = 4461;
const TOML: &str = "github.com/BurntSushi/toml@v1.2.0";
const YAML: &str = "github.com/ghodss/yaml@v1.0.0";

fn base(port: u16) -> String {
    format!("https://goproxy.test:{port}")
}

#[test]
fn a_go_command_run_through_the_mitm_is_seen_whole() {
    if !can_run("a_go_command_run_through_the_mitm_is_seen_whole", NEEDS) {
        return;
    }
    let w = world("a", PORT);
    let out = w.run(&base(PORT), &["mod", "download", "-x", TOML, YAML], &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let events = parse_ndjson(&out.stdout);
    let mods = of_type(&events, "module");
    let mut seen: Vec<String> = mods
        .iter()
        .map(|m| {
            format!(
                "{}@{}",
                m["module"].as_str().unwrap(),
                m["version"].as_str().unwrap()
            )
        })
        .collect();
    seen.sort();
    assert_eq!(seen, [TOML, YAML], "{stderr}");
    for m in &mods {
        assert_eq!(m["outcome"], "ok", "{m}");
        assert_eq!(m["served_by"]["zip"], base(PORT).as_str(), "{m}");
    }
    // Every request the go command made (its -x lines) is an exchange, and nothing else.
    let xlog = xlog_wire(&stderr);
    assert!(!xlog.is_empty(), "{stderr}");
    assert_eq!(wire(&events), xlog);
    // The chain came from the go command's own configuration.
    let summary = of_type(&events, "summary")[0];
    assert_eq!(summary["goproxy"]["source"], "go-env", "{summary}");
    // A MITM run counts the relay's waits for the decoder (a capture has none: null).
    assert!(summary["mitm_relay_waits"].is_u64(), "{summary}");
    assert!(stderr.contains("gomodwatch: go env: GOPROXY=https://goproxy.test"));
    // HTTP/2 all the way, as without gomodwatch.
    assert!(of_type(&events, "exchange")
        .iter()
        .all(|e| e["http_version"] == "HTTP/2"));
    // The time budget is over the go command's lifetime, which holds every request, and
    // its parts add up to it.
    let b = of_type(&events, "budget")[0];
    assert_eq!(b["wall_from"], "run", "{b}");
    let (start, end) = (b["start"].as_str().unwrap(), b["end"].as_str().unwrap());
    for e in of_type(&events, "exchange") {
        // RFC 3339 with microseconds, all in UTC: they compare as strings.
        assert!(start <= e["ts"].as_str().unwrap() && e["ts"].as_str().unwrap() <= end);
    }
    let parts: f64 = [
        "dns_ms",
        "connect_ms",
        "tls_ms",
        "wait_ms",
        "fallback_ms",
        "transfer_ms",
        "checksum_db_ms",
        "idle_ms",
    ]
    .iter()
    .map(|p| b[p].as_f64().unwrap())
    .sum();
    assert!((parts - b["wall_ms"].as_f64().unwrap()).abs() < 1e-6, "{b}");
    assert!(b["wait_ms"].as_f64().unwrap() > 0.0, "{b}");
    assert!(b["path_steps"].as_u64().unwrap() >= 3, "{b}");
}

/// Under `run` a zip the go command saved takes the `h1:` it saved with the same bytes (and
/// says so); one it refused is hashed from the wire, to the hash the go command printed.
#[test]
fn saved_zips_take_the_go_commands_h1_and_a_refused_one_is_hashed_here() {
    if !can_run(
        "saved_zips_take_the_go_commands_h1_and_a_refused_one_is_hashed_here",
        NEEDS,
    ) {
        return;
    }
    let port = PORT + 8;
    let w = world("h", port);
    // One zip per run: with two, the go command may give up on the second before it asks
    // for it (it fails at the first mismatch), so what it fetched would be a race.
    let wrong = "h1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
    let gosum = format!("github.com/BurntSushi/toml v1.2.0 {wrong}\n");
    let args = ["mod", "download", "-x", TOML];
    let out = w.run_gosum(&[], &base(port), &args, &[], Some(&gosum));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("checksum mismatch"), "{stderr}");
    let downloaded = stderr
        .lines()
        .find_map(|l| l.trim().strip_prefix("downloaded:"))
        .map(str::trim)
        .unwrap_or_else(|| panic!("the go command printed no hash: {stderr}"));
    let events = parse_ndjson(&out.stdout);
    // Refused and never saved: hashed here, to the hash the go command printed.
    let toml = hash_of(&events, "github.com/BurntSushi/toml");
    assert_eq!(toml["h1"], downloaded, "{toml}");
    assert!(toml.get("h1_from").is_none(), "{toml}");
    let toml_h1 = downloaded.to_string();
    let gosum = format!("github.com/BurntSushi/toml v1.2.0 {toml_h1}\n");
    let out = w.run_gosum(
        &[],
        &base(port),
        &["mod", "download", TOML],
        &[],
        Some(&gosum),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let again = parse_ndjson(&out.stdout);
    let toml = hash_of(&again, "github.com/BurntSushi/toml");
    assert_eq!(toml["h1"], toml_h1.as_str(), "{toml}");
    assert_eq!(toml["h1_from"], "module-cache", "{toml}");
}

/// The `hash` event of `module`'s zip download.
fn hash_of(events: &[Value], module: &str) -> Value {
    let ex = of_type(events, "exchange")
        .into_iter()
        .find(|e| {
            e["go"]["module"] == module && e["url"].as_str().is_some_and(|u| u.ends_with(".zip"))
        })
        .unwrap_or_else(|| panic!("no zip of {module}"))["id"]
        .clone();
    of_type(events, "hash")
        .into_iter()
        .find(|h| h["exchange"] == ex)
        .unwrap_or_else(|| panic!("no hash of {module}"))
        .clone()
}

#[test]
fn a_module_that_does_not_exist_fails_the_run_as_it_fails_go() {
    if !can_run(
        "a_module_that_does_not_exist_fails_the_run_as_it_fails_go",
        NEEDS,
    ) {
        return;
    }
    let w = world("b", PORT + 1);
    let missing = "example.org/nothing/here@v1.0.0";
    let out = w.run(&base(PORT + 1), &["mod", "download", "-x", missing], &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let events = parse_ndjson(&out.stdout);
    let mods = of_type(&events, "module");
    assert!(
        mods.iter()
            .any(|m| m["module"] == "example.org/nothing/here" && m["outcome"] == "not-found"),
        "{mods:?}"
    );
    assert_eq!(wire(&events), xlog_wire(&stderr));
}

#[test]
fn usage_errors_and_the_childs_status() {
    // Needs nothing: no network, no root.
    let out = run(&["run", "--", "/nonexistent/gomodwatch-test-cmd"]);
    assert_eq!(out.status.code(), Some(127));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("cannot run /nonexistent/gomodwatch-test-cmd"),
        "{err}"
    );
    let dir = tempdir("run-status");
    let ca = dir.join("gca");
    let ca = ca.to_str().unwrap();
    let out = run(&["run", "--ca-dir", ca, "--", "sh", "-c", "exit 7"]);
    assert_eq!(out.status.code(), Some(7));
    let out = run(&["run", "--ca-dir", ca, "--", "sh", "-c", "kill -TERM $$"]);
    assert_eq!(out.status.code(), Some(128 + 15));
    // The child alone gets the proxy and a private bundle holding the CA.
    let out = run(&[
        "run",
        "--ca-dir",
        ca,
        "--",
        "sh",
        "-c",
        "echo $HTTPS_PROXY $HTTP_PROXY; stat -c %a $SSL_CERT_FILE; test \"$SSL_CERT_FILE\" = \"$GIT_SSL_CAINFO\" && tail -c 2000 $SSL_CERT_FILE",
    ]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    let mut lines = text.lines();
    let proxies: Vec<&str> = lines.next().unwrap().split(' ').collect();
    assert!(proxies[0].starts_with("http://127.0.0.1:") && proxies[0] == proxies[1]);
    assert_eq!(lines.next(), Some("600"));
    let pem = std::fs::read_to_string(Path::new(ca).join("ca.pem")).unwrap();
    assert!(text.contains(pem.trim()), "{text}");
    // `run` without a command is a usage error.
    assert_eq!(run(&["run"]).status.code(), Some(2));
    // An HTTPS_PROXY that cannot be an upstream proxy is said, not ignored.
    let out = Command::new(bin())
        .args(["run", "--ca-dir", ca, "--", "true"])
        .env("HTTPS_PROXY", "socks5://127.0.0.1:1080")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("HTTPS_PROXY=socks5://"));
}

/// A real squid in the namespace, allowing CONNECT to `port`; its access.log path.
fn squid(w: &World, listen: u16, port: u16) -> (Proc, PathBuf) {
    squid_with(
        w,
        listen,
        port,
        &[],
        "http_access allow CONNECT goproxy_port",
    )
}

/// A squid with more configuration (`extra`, before the ACL that allows) and `allow`.
fn squid_with(w: &World, listen: u16, port: u16, extra: &[String], allow: &str) -> (Proc, PathBuf) {
    squid_in(&w.ns.name, &w.dir, listen, port, extra, allow)
}

#[test]
fn an_https_proxy_the_user_had_carries_the_traffic() {
    if !can_run(
        "an_https_proxy_the_user_had_carries_the_traffic",
        &[
            Need::Root,
            Need::Program("ip"),
            Need::Program("/usr/sbin/squid"),
        ],
    ) {
        return;
    }
    let port = PORT + 2;
    let w = world("c", port);
    let (_squid, log) = squid(&w, 3129, port);
    let out = w.run(
        &base(port),
        &["mod", "download", "-x", TOML],
        &[("HTTPS_PROXY", "http://127.0.0.1:3129")],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("upstream proxy http://127.0.0.1:3129"),
        "{stderr}"
    );
    let events = parse_ndjson(&out.stdout);
    assert_eq!(wire(&events), xlog_wire(&stderr));
    let module = of_type(&events, "module")[0];
    assert_eq!(module["outcome"], "ok");
    let (connects, text) = squid_connects(&log, port);
    assert!(!connects.is_empty(), "squid log: {text}");
    assert!(
        connects.iter().all(|l| l.contains("TCP_TUNNEL/200")),
        "{text}"
    );
    // Through an upstream proxy, the connection's server is the proxy.
    let conns = of_type(&events, "connection");
    assert!(
        conns.iter().any(|c| c["server"] == "127.0.0.1:3129"),
        "{conns:?}"
    );
}

#[test]
fn a_loopback_goproxy_is_said_and_captured_on_lo() {
    if !can_run(
        "a_loopback_goproxy_is_said_and_captured_on_lo",
        &[Need::Root, Need::Program("ip")],
    ) {
        return;
    }
    let port = PORT + 3;
    let ns = LoNetns::create("rund");
    let _plain = goproxyd(Some(&ns.name), &format!("127.0.0.1:{port}"), &[]);
    let w = World {
        ns,
        dir: tempdir("run-cmd-d"),
        upstream_ca: PathBuf::from("/etc/ssl/certs/ca-certificates.crt"),
        _servers: vec![],
    };
    let goproxy = format!("http://127.0.0.1:{port}");
    let out = w.run(&goproxy, &["mod", "download", "-x", TOML], &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains(&format!("GOPROXY entry {goproxy} is on loopback")),
        "{stderr}"
    );
    assert!(stderr.contains("capturing loopback (lo)"), "{stderr}");
    // What the go command fetched there was captured and decoded all the same.
    let events = parse_ndjson(&out.stdout);
    assert_eq!(wire(&events), xlog_wire(&stderr));
    let m = of_type(&events, "module")[0];
    assert_eq!(m["outcome"], "ok");
    assert_eq!(m["served_by"]["zip"], goproxy.as_str());
    // The capture's last packets (the connections closing as the go command exits) reached
    // the decoder before the end: none is cut off. The capture thread once held the tail
    // of a burst until the next packet came, which after the child's exit never did.
    let conns = of_type(&events, "connection");
    assert!(!conns.is_empty());
    for c in conns {
        assert!(c["error"].is_null(), "{c}");
    }
}

/// tmux's screen of `session`.
fn pane(session: &str) -> String {
    let out = Command::new("tmux")
        .args(["capture-pane", "-p", "-t", session])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn wait_for(session: &str, what: &str) -> String {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let p = pane(session);
        if p.contains(what) {
            return p;
        }
        assert!(std::time::Instant::now() < deadline, "no {what:?} in:\n{p}");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

#[test]
fn the_tui_opens_after_the_child_has_had_the_terminal() {
    if !can_run(
        "the_tui_opens_after_the_child_has_had_the_terminal",
        &[Need::Program("tmux")],
    ) {
        return;
    }
    let dir = tempdir("run-tui");
    let status = dir.join("status");
    let session = format!("gmwruntui{}", std::process::id());
    let script = format!(
        "{} run --tui --ca-dir {} -- sh -c 'echo child-owns-the-terminal; sleep 1; exit 4'; echo $? > {}; sleep 30",
        bin(),
        dir.join("gca").display(),
        status.display()
    );
    let ok = Command::new("tmux")
        .args([
            "new-session",
            "-d",
            "-s",
            &session,
            "-x",
            "120",
            "-y",
            "30",
            &script,
        ])
        .status()
        .unwrap();
    assert!(ok.success());
    struct Kill(String);
    impl Drop for Kill {
        fn drop(&mut self) {
            let _ = Command::new("tmux")
                .args(["kill-session", "-t", &self.0])
                .status();
        }
    }
    let _kill = Kill(session.clone());
    let first = wait_for(&session, "child-owns-the-terminal");
    assert!(!first.contains("Modules 0"), "{first}");
    wait_for(&session, "Modules 0");
    Command::new("tmux")
        .args(["send-keys", "-t", &session, "q"])
        .status()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !status.exists() {
        assert!(std::time::Instant::now() < deadline, "no exit after q");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    std::thread::sleep(std::time::Duration::from_millis(100));
    assert_eq!(std::fs::read_to_string(&status).unwrap().trim(), "4");
    // The terminal is given back: the child's line is on the main screen again.
    assert!(pane(&session).contains("child-owns-the-terminal"));
}

#[test]
fn credentials_in_https_proxy_are_used_and_never_shown() {
    if !can_run(
        "credentials_in_https_proxy_are_used_and_never_shown",
        &[
            Need::Root,
            Need::Program("ip"),
            Need::Program("openssl"),
            Need::Program("/usr/sbin/squid"),
            Need::Program("/usr/lib/squid/basic_ncsa_auth"),
        ],
    ) {
        return;
    }
    let port = PORT + 4;
    let w = world("e", port);
    let auth = squid_basic_auth(&w.dir, "alice", "s3cret-pw");
    let (_squid, log) = squid_with(
        &w,
        3130,
        port,
        &auth,
        "http_access allow CONNECT goproxy_port authed",
    );
    let out = w.run(
        &base(port),
        &["mod", "download", "-x", TOML],
        &[("HTTPS_PROXY", "http://alice:s3cret-pw@127.0.0.1:3130")],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        !stdout.contains("s3cret-pw") && !stderr.contains("s3cret-pw"),
        "{stderr}"
    );
    let (tunnels, text) = squid_connects(&log, port);
    assert!(!tunnels.is_empty(), "{text}");
    assert!(
        tunnels
            .iter()
            .all(|l| l.contains("TCP_TUNNEL/200") && l.contains(" alice ")),
        "{text}"
    );
}

/// The fleet issue's CI step: `gomodwatch run --push-metrics URL -- go mod download` against
/// a real Pushgateway; the pushed group holds the run's counts (requests as in `-x`).
#[test]
fn run_pushes_the_go_commands_counts_to_a_pushgateway() {
    let needs = &[
        Need::Root,
        Need::Program("ip"),
        Need::Program("prometheus-pushgateway"),
        Need::Program("curl"),
    ];
    if !can_run("run_pushes_the_go_commands_counts_to_a_pushgateway", needs) {
        return;
    }
    let port = PORT + 7;
    let w = world("p", port);
    let gw_addr = "127.0.0.1:39291";
    let _gw = Proc(
        Command::new("ip")
            .args(["netns", "exec", &w.ns.name, "prometheus-pushgateway"])
            .arg(format!("--web.listen-address={gw_addr}"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start prometheus-pushgateway"),
    );
    let in_ns = |url: &str| -> Option<String> {
        let out = Command::new("ip")
            .args(["netns", "exec", &w.ns.name, "curl", "-sf", url])
            .output()
            .ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while in_ns(&format!("http://{gw_addr}/-/ready")).is_none() {
        assert!(
            std::time::Instant::now() < deadline,
            "the pushgateway did not start"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let push = format!("http://{gw_addr}");
    let out = w.run_with(
        &["--push-metrics", &push, "--push-job", "go-download"],
        &base(port),
        &["mod", "download", "-x", TOML],
        &[],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let xlog = xlog_wire(&stderr);
    assert!(!xlog.is_empty(), "{stderr}");
    let text = in_ns(&format!("http://{gw_addr}/metrics")).expect("the pushgateway's metrics");
    let sum = |name: &str| -> f64 {
        text.lines()
            .filter(|l| l.starts_with(name) && l.contains("job=\"go-download\""))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum()
    };
    assert_eq!(
        sum("gomodwatch_requests_total{") as usize,
        xlog.len(),
        "{text}"
    );
    assert_eq!(
        sum("gomodwatch_ttfb_seconds_count{") as usize,
        xlog.len(),
        "{text}"
    );
    assert_eq!(sum("gomodwatch_modules_total{"), 1.0, "{text}");
}
