//! `--daemon`: headless, NDJSON to a file that rotates by size (FILE → FILE.1 → …), SIGHUP
//! reopens the file (after logrotate moved it), SIGTERM writes the summary and exits 0;
//! the systemd unit and the launchd plist in contrib/.

// Linux only: built on tests/common/fixture.rs (real go commands, network namespaces,
// root); tests/darwin-check.sh type-checks the other tests for macOS.
#![cfg(target_os = "linux")]

mod common;

use common::fixture::*;
use common::*;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

fn numbered(path: &Path, n: u32) -> PathBuf {
    PathBuf::from(format!("{}.{n}", path.display()))
}

/// The files of a rotated output, oldest first.
fn generations(path: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = (1..1000)
        .map(|n| numbered(path, n))
        .take_while(|p| p.exists())
        .collect();
    v.reverse();
    v.push(path.to_path_buf());
    v
}

#[test]
fn the_output_rotates_by_size_and_keeps_every_line() {
    let capture = captures().join("fallback-404-go127.pcap");
    let cap = capture.to_str().unwrap();
    let whole = run(&["-r", cap, "--json"]);
    assert!(whole.status.success());
    let dir = tempdir("rotate");
    let path = dir.join("events.ndjson");
    // What was there is kept: appended to, then rotated away, never truncated.
    std::fs::write(&path, "{\"type\":\"earlier\"}\n").unwrap();
    let out = run(&[
        "-r",
        cap,
        "--daemon",
        "--output",
        path.to_str().unwrap(),
        "--rotate-size",
        "4k",
        "--rotate-keep",
        "1000",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stdout.is_empty(), "a daemon prints nothing on stdout");
    let files = generations(&path);
    assert!(files.len() >= 3, "{files:?}");
    let mut all = Vec::new();
    for f in &files {
        let bytes = std::fs::read(f).unwrap();
        let lines = bytes
            .split(|&b| b == b'\n')
            .filter(|l| !l.is_empty())
            .count();
        assert!(
            bytes.len() <= 4096 || lines == 1,
            "{} has {} bytes in {lines} lines",
            f.display(),
            bytes.len()
        );
        assert!(bytes.ends_with(b"\n"), "lines are never split");
        all.extend(bytes);
    }
    let mut want = b"{\"type\":\"earlier\"}\n".to_vec();
    want.extend(&whole.stdout);
    assert_eq!(
        String::from_utf8(all).unwrap(),
        String::from_utf8(want).unwrap()
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn rotation_keeps_only_the_newest_files() {
    let capture = captures().join("fallback-404-go127.pcap");
    let dir = tempdir("rotate-keep");
    let path = dir.join("events.ndjson");
    let out = run(&[
        "-r",
        capture.to_str().unwrap(),
        "--daemon",
        "--output",
        path.to_str().unwrap(),
        "--rotate-size",
        "2k",
        "--rotate-keep",
        "2",
    ]);
    assert!(out.status.success());
    assert!(path.exists() && numbered(&path, 1).exists() && numbered(&path, 2).exists());
    assert!(!numbered(&path, 3).exists());
    // The newest file ends with the summary.
    let last = std::fs::read_to_string(&path).unwrap();
    assert!(last
        .trim_end()
        .lines()
        .last()
        .unwrap()
        .contains("\"type\":\"summary\""));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_daemon_needs_somewhere_to_write() {
    let capture = captures().join("fallback-404-go127.pcap");
    let out = run(&["-r", capture.to_str().unwrap(), "--daemon"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--output"), "{err}");
}

/// One plain HTTP GET to the fixture proxy.
fn fetch(addr: &str, path: &str) {
    let mut s = TcpStream::connect(addr).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut body = Vec::new();
    s.read_to_end(&mut body).unwrap();
    assert!(
        body.starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&body)
    );
}

fn exchanges_in(path: &Path) -> usize {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter(|l| l.contains("\"type\":\"exchange\""))
        .count()
}

fn wait_for(what: &str, mut ok: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while !ok() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Live, as systemd runs it: SIGHUP after logrotate moved the file opens a new one;
/// SIGTERM writes the module events and the summary and exits 0.
#[test]
fn sighup_reopens_the_output_and_sigterm_stops_cleanly() {
    if !can_run("sighup_reopens_the_output_and_sigterm_stops_cleanly", LIVE) {
        return;
    }
    let addr = "127.0.0.1:3441";
    let _proxy = goproxyd(None, addr, &[]);
    let dir = tempdir("daemon-live");
    let path = dir.join("events.ndjson");
    let moved = dir.join("events.ndjson.logrotated");
    let run = LiveRun::start(
        &[
            "-i",
            "lo",
            "-f",
            "tcp port 3441",
            "--daemon",
            "--output",
            path.to_str().unwrap(),
        ],
        &[],
    );
    let info = "/github.com/!burnt!sushi/toml/@v/v1.2.0.info";
    let gomod = "/gopkg.in/yaml.v2/@v/v2.2.2.mod";
    // The decoder may hold a connection's last packets until more come: keep fetching
    // until exchanges show up.
    let mut fetched = 0;
    let mut until = |path: &Path, what: &str, url: &str| {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            fetch(addr, url);
            fetched += 1;
            std::thread::sleep(Duration::from_millis(200));
            if exchanges_in(path) >= 2 {
                return;
            }
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
        }
    };
    until(&path, "exchanges in the file", info);
    // logrotate's move, then its postrotate `kill -HUP`.
    std::fs::rename(&path, &moved).unwrap();
    run.signal(libc::SIGHUP);
    wait_for("a new file", || path.exists());
    until(&path, "exchanges in the new file", gomod);
    let out = run.stop_with(libc::SIGTERM);
    assert!(out.status.success(), "{}", out.stderr);
    assert!(out.stdout.is_empty());
    let before = exchanges_in(&moved);
    assert!(before >= 2, "{before}");
    assert_eq!(before + exchanges_in(&path), fetched);
    let text = std::fs::read_to_string(&path).unwrap();
    let last: serde_json::Value =
        serde_json::from_str(text.trim_end().lines().last().unwrap()).unwrap();
    assert_eq!(last["type"], "summary");
    assert_eq!(last["exchanges"], fetched as u64);
    assert_eq!(last["modules"], 2);
    assert!(text.contains("\"type\":\"module\""));
    std::fs::remove_dir_all(&dir).ok();
}

fn contrib(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("contrib")
        .join(name)
}

#[test]
fn the_systemd_unit_verifies() {
    let unit = std::fs::read_to_string(contrib("gomodwatch.service")).unwrap();
    assert!(unit.contains("--daemon") && unit.contains("ExecReload=/bin/kill -HUP $MAINPID"));
    if !can_run(
        "the_systemd_unit_verifies",
        &[Need::Program("systemd-analyze")],
    ) {
        return;
    }
    // systemd-analyze checks that ExecStart's program exists: point it at this build.
    let dir = tempdir("unit");
    let copy = dir.join("gomodwatch.service");
    std::fs::write(&copy, unit.replace("/usr/local/bin/gomodwatch", bin())).unwrap();
    let out = Command::new("systemd-analyze")
        .args(["verify", "--man=no"])
        .arg(&copy)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && !err.contains("gomodwatch.service:"),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn the_launchd_plist_is_a_valid_property_list() {
    let plist = contrib("com.gomodwatch.daemon.plist");
    let out = Command::new("python3")
        .args([
            "-c",
            "import plistlib,sys; p=plistlib.load(open(sys.argv[1],'rb')); \
             a=p['ProgramArguments']; assert p['Label']=='com.gomodwatch.daemon'; \
             assert '--daemon' in a and '--output' in a; print(a[0])",
        ])
        .arg(&plist)
        .output()
        .expect("python3");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "/usr/local/bin/gomodwatch"
    );
}
