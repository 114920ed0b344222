//! The relay waits for a busy decoder (backpressure), but not for a stuck one: at most 1 s
//! for a chunk, then not at all until the decoder has caught up. Here the decoder is
//! stalled for real: its NDJSON goes to a pipe nobody reads (the test reads it only at the
//! end, like a `| less` left paused), so after 64 KiB of events it blocks on write. While it
//! is blocked, thousands of small requests fill the tap's event queue, new connections still
//! get through, and a zip larger than the tap's budget is relayed whole; afterwards the
//! output tells what was not decoded (the exchanges cut by the gap, their hashes given up,
//! the drops counted) and the proxy's memory stayed bounded.

// Linux only: built on tests/common/fixture.rs (real go commands, network namespaces,
// root); tests/darwin-check.sh type-checks the other tests for macOS.
#![cfg(target_os = "linux")]

mod common;

use common::fixture::*;
use common::*;
use std::path::Path;
use std::process::Command;

const LIVE_CURL: &[Need] = &[Need::Root, Need::Program("ip"), Need::Program("curl")];
const PORT: u16 = 4461;
/// Bigger than the tap's budget (2 MiB) several times over, and incompressible.
const ZIP_FILES: usize = 3;
const FILE_BYTES: usize = 4 << 20;

/// Pseudo-random bytes (xorshift): a zip of them does not compress.
fn noise(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend_from_slice(&x.to_le_bytes());
    }
    out.truncate(len);
    out
}

fn curl(ns: &str, ca: &Path, args: &[&str]) -> (bool, String) {
    curl_within(ns, ca, 60, args)
}

fn curl_within(ns: &str, ca: &Path, max_secs: u32, args: &[&str]) -> (bool, String) {
    let out = Command::new("ip")
        .args(["netns", "exec", ns, "curl", "-sS", "--http2", "--max-time"])
        .arg(max_secs.to_string())
        .args(["--proxy", "http://127.0.0.1:8080", "--cacert"])
        .arg(ca)
        .args(args)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A large download through the stalled proxy, tried once: a transfer that stalls fails
/// the test, whatever stalled it. (Earlier versions tried three times because a loopback
/// transfer on this VM now and then stopped in the kernel (benches/README.md, "A loopback
/// TCP stall"); retrying hid any stall, the relay's included.) If it has not finished
/// after 20 s, the sockets of the namespace (`ss -tnie`: queues, retransmissions, drops)
/// are taken for the failure message while the stall lasts.
fn download(st: &Stalled, args: &[&str]) -> (bool, String) {
    download_within(st, 60, args)
}

fn download_within(st: &Stalled, max_secs: u32, args: &[&str]) -> (bool, String) {
    let mut child = Command::new("ip")
        .args([
            "netns",
            "exec",
            &st.ns.name,
            "curl",
            "-sS",
            "--http2",
            "--max-time",
        ])
        .arg(max_secs.to_string())
        .args(["--proxy", "http://127.0.0.1:8080", "--cacert"])
        .arg(&st.ca)
        .args(args)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    let mut sockets = None;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if sockets.is_none() && started.elapsed() > std::time::Duration::from_secs(20) {
            let ss = Command::new("ip")
                .args(["netns", "exec", &st.ns.name, "ss", "-tnie"])
                .output()
                .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
                .unwrap_or_else(|e| format!("ss: {e}"));
            sockets = Some(ss);
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    if let Some(ss) = sockets {
        err.push_str(&format!("\nsockets 20 s into the download:\n{ss}"));
    }
    (status.success(), err)
}

/// A curl config asking for `n` small files over one connection.
fn many_small(dir: &Path, name: &str, n: usize) -> String {
    let url = format!("https://goproxy.test:{PORT}/example.com/big/@v/v1.0.0.info");
    let cfg: String = (0..n)
        .map(|_| format!("url = \"{url}\"\noutput = \"/dev/null\"\n"))
        .collect();
    let path = dir.join(name);
    std::fs::write(&path, cfg).unwrap();
    path.to_str().unwrap().to_string()
}

/// Each thread's name, state and what it waits in (for a failure message).
fn threads(pid: u32) -> String {
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).unwrap();
    tasks
        .filter_map(|t| {
            let t = t.ok()?.path();
            let read = |f: &str| std::fs::read_to_string(t.join(f)).unwrap_or_default();
            let state = read("stat").split(") ").nth(1)?.chars().next()?;
            Some(format!("{} {state} {}", read("comm").trim(), read("wchan")))
        })
        .collect::<Vec<_>>()
        .join("; ")
}

fn vm_hwm_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// A fixture GOPROXY (https, HTTP/2) serving one big incompressible module, and
/// gomodwatch's MITM in front of it writing NDJSON to a pipe nobody reads yet.
struct Stalled {
    ns: LoNetns,
    dir: std::path::PathBuf,
    tree: std::path::PathBuf,
    zip: Vec<u8>,
    _server: Proc,
    run: LiveRun,
    ca: std::path::PathBuf,
}

/// One stalled proxy at a time: two of them saturating both cores with 12 MB zips at once
/// tell nothing more, and made a loopback TCP stall in the kernel more likely (the server
/// retransmitting, the receiving socket empty and dropping the segments; see benches/README).
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

impl Stalled {
    fn start(name: &str) -> Stalled {
        let ns = LoNetns::create(name);
        let dir = tempdir(name);
        let (upstream_ca, crt, key) = server_certs(&dir, "stall test CA", &["goproxy.test"]);
        // The big module, made into a GOPROXY tree by the fixture's own mkproxy.
        let src = dir.join("src");
        std::fs::create_dir_all(&src).unwrap();
        std::fs::write(src.join("go.mod"), "module example.com/big\n\ngo 1.19\n").unwrap();
        for i in 0..ZIP_FILES {
            std::fs::write(
                src.join(format!("blob{i}.go")),
                noise(i as u64 + 7, FILE_BYTES),
            )
            .unwrap();
        }
        let tree = dir.join("tree");
        let t = tools();
        let built = Command::new(&t.mkproxy)
            .arg(&tree)
            .arg(format!("example.com/big@v1.0.0={}", src.display()))
            .output()
            .unwrap();
        assert!(built.status.success(), "{built:?}");
        let zip_path = tree.join("example.com/big/@v/v1.0.0.zip");
        let zip = std::fs::read(&zip_path).unwrap();
        assert!(zip.len() > 3 * FILE_BYTES);
        let _server = goproxyd(
            Some(&ns.name),
            &format!("127.0.0.1:{PORT}"),
            &[
                "-root",
                tree.to_str().unwrap(),
                "-cert",
                crt.to_str().unwrap(),
                "-key",
                key.to_str().unwrap(),
            ],
        );
        let ca_dir = dir.join("gca");
        let run = Mitm {
            listen: "127.0.0.1:8080",
            ca_dir: ca_dir.clone(),
            upstream_ca: Some(&upstream_ca),
            extra: &[],
        }
        .start(Some(&ns.name));
        let ca = ca_dir.join("ca.pem");
        Stalled {
            ns,
            dir,
            tree,
            zip,
            _server,
            run,
            ca,
        }
    }

    /// Enough exchanges to fill the unread pipe: the decoder then blocks on its output.
    fn stall_the_decoder(&self) {
        let cfg = many_small(&self.dir, "fill.curl", 300);
        let (ok, err) = curl(&self.ns.name, &self.ca, &["-K", &cfg]);
        assert!(ok, "{err}");
    }
}

#[test]
fn a_stalled_decoder_never_holds_up_the_relay() {
    if !can_run("a_stalled_decoder_never_holds_up_the_relay", LIVE_CURL) {
        return;
    }
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let st = Stalled::start("stall");
    st.stall_the_decoder();
    // More than the tap's event queue holds (4096), on one connection while the decoder
    // is blocked: their events are dropped and counted, none waited for.
    let (ok, err) = curl(
        &st.ns.name,
        &st.ca,
        &["-K", &many_small(&st.dir, "flood.curl", 2500)],
    );
    assert!(ok, "{err}");
    // New connections are still served, and a zip bigger than the tap's budget arrives
    // whole (three times: each on its own connection).
    let url = format!("https://goproxy.test:{PORT}/example.com/big/@v/v1.0.0.zip");
    for i in 0..3 {
        let got = st.dir.join(format!("got{i}.zip"));
        let (ok, err) = download(&st, &["-o", got.to_str().unwrap(), &url]);
        assert!(
            ok,
            "download {i} through a proxy whose decoder is blocked: {err}\nits threads: {}\nit said: {:?}",
            threads(st.run.pid),
            st.run.stderr_so_far()
        );
        assert!(
            std::fs::read(&got).unwrap() == st.zip,
            "download {i} differs"
        );
    }
    // Nothing was buffered without bound: three 12 MiB zips passed.
    let hwm = vm_hwm_kib(st.run.pid);
    assert!(hwm < 40 << 10, "peak RSS {hwm} KiB");
    // Reading the output now lets the decoder go on; everything queued is told.
    let out = st.run.stop();
    assert!(out.status.success(), "{}", out.stderr);
    let events = parse_ndjson(&out.stdout);
    let summary = of_type(&events, "summary").pop().expect("a summary");
    assert!(summary["dropped"].as_u64().unwrap() > 0, "{summary}");
    // The relay waited (1 s, then stopped waiting for a decoder that made no room): said.
    assert!(
        summary["mitm_relay_waits"].as_u64().unwrap() > 0,
        "{summary}"
    );
    assert!(
        out.stderr.contains("decoding fell behind"),
        "the drops are told: {}",
        out.stderr
    );
    // A zip whose bytes were dropped is marked so (or, untapped, not shown at all), and no
    // hash is ever computed on part of one: every h1 given is the zip's real one.
    let sums = std::fs::read_to_string(st.tree.join("go.sum.expected")).unwrap();
    for z in of_type(&events, "exchange")
        .into_iter()
        .filter(|e| e["go"]["kind"] == "zip")
    {
        let hash = of_type(&events, "hash")
            .into_iter()
            .find(|h| h["exchange"] == z["id"]);
        match (z["error"].as_str(), hash) {
            (Some("gap"), Some(h)) => assert!(h["h1"].is_null() && h["error"].is_string(), "{h}"),
            (Some("gap"), None) => assert_eq!(z["resp_bytes"], 0, "a body began: {z}"),
            (None, Some(h)) => {
                let h1 = h["h1"].as_str().unwrap_or_else(|| panic!("{h}"));
                assert!(sums.contains(h1), "{h1} is not the zip's");
            }
            other => panic!("{other:?}: {z}"),
        }
    }
}

/// A decoder that falls behind on an HTTP/2 connection loses bodies, not the connection:
/// while it is blocked, a zip larger than the tap's budget passes on the connection that
/// curl then reuses for the module's `.info` and `.mod`. Only DATA payload was dropped, so
/// afterwards all three are reported with their status (HPACK state intact), the zip with
/// `error: "gap"`, all its bytes counted and its hash given up.
#[test]
fn a_stalled_decoder_loses_http2_bodies_not_the_connection() {
    if !can_run(
        "a_stalled_decoder_loses_http2_bodies_not_the_connection",
        LIVE_CURL,
    ) {
        return;
    }
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let st = Stalled::start("stall-h2");
    st.stall_the_decoder();
    let base = format!("https://goproxy.test:{PORT}/example.com/big/@v/v1.0.0");
    let got = st.dir.join("got.zip");
    let cfg = st.dir.join("zip-then-small.curl");
    std::fs::write(
        &cfg,
        format!(
            "url = \"{base}.zip\"\noutput = \"{}\"\nurl = \"{base}.info\"\noutput = \"/dev/null\"\n\
             url = \"{base}.mod\"\noutput = \"/dev/null\"\n",
            got.display()
        ),
    )
    .unwrap();
    let (ok, err) = download(&st, &["-K", cfg.to_str().unwrap()]);
    assert!(ok, "{err}");
    assert!(
        std::fs::read(&got).unwrap() == st.zip,
        "the zip arrived whole"
    );
    let out = st.run.stop();
    assert!(out.status.success(), "{}", out.stderr);
    let events = parse_ndjson(&out.stdout);
    let summary = of_type(&events, "summary").pop().expect("a summary");
    assert!(summary["dropped"].as_u64().unwrap() > 0, "{summary}");
    assert_eq!(summary["limits"]["h2_undecodable"], 0, "{summary}");
    let exchanges = of_type(&events, "exchange");
    let last = |ext: &str| {
        exchanges
            .iter()
            .rfind(|e| e["url"].as_str().is_some_and(|u| u.ends_with(ext)))
            .unwrap_or_else(|| panic!("no {ext} exchange"))
    };
    let (zip, module) = (last(".zip"), last(".mod"));
    assert_eq!(zip["status"], 200, "{zip}");
    assert_eq!(zip["http_version"], "HTTP/2", "{zip}");
    assert_eq!(zip["error"], "gap", "{zip}");
    assert_eq!(zip["resp_bytes"], st.zip.len() as u64, "{zip}");
    let hash = of_type(&events, "hash")
        .into_iter()
        .find(|h| h["exchange"] == zip["id"])
        .expect("a hash event for the zip");
    assert!(hash["h1"].is_null() && hash["error"].is_string(), "{hash}");
    // The .info after the zip on the same connection, and the .mod, decoded: their heads
    // came through (their bodies too, unless the queue was still full when they passed).
    let info = last(".info");
    for e in [info, module] {
        assert_eq!(e["status"], 200, "{e}");
        assert!(e["error"].is_null() || e["error"] == "gap", "{e}");
        assert_eq!(e["connection"], zip["connection"], "{e}");
    }
    assert!(module["resp_bytes"].as_u64().unwrap() > 0, "{module}");
}

/// The check above can fail: a relay that stalls for a while makes `download` fail, where
/// the three tries of earlier versions passed (the second try, after the stall, succeeded).
/// The stall is seeded from outside: the proxy is stopped (SIGSTOP) for 4 s while a
/// download with a 3 s limit runs.
#[test]
fn a_relay_that_stalls_fails_the_download_check() {
    if !can_run("a_relay_that_stalls_fails_the_download_check", LIVE_CURL) {
        return;
    }
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let st = Stalled::start("stall-seed");
    let pid = st.run.pid as libc::pid_t;
    // SAFETY: signals to the proxy this test started; it is continued below.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGSTOP) }, 0);
    let cont = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_secs(4));
        // SAFETY: as above.
        unsafe { libc::kill(pid, libc::SIGCONT) };
    });
    let url = format!("https://goproxy.test:{PORT}/example.com/big/@v/v1.0.0.info");
    let (ok, err) = download_within(&st, 3, &["-o", "/dev/null", &url]);
    cont.join().unwrap();
    assert!(!ok, "a 4 s stall went unnoticed");
    assert!(err.contains("timed out"), "{err}");
    // Continued, the proxy serves again: the stall was the only cause.
    let (ok, err) = download_within(&st, 30, &["-o", "/dev/null", &url]);
    assert!(ok, "{err}");
    let out = st.run.stop();
    assert!(out.status.success(), "{}", out.stderr);
}
