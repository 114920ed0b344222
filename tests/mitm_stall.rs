//! The relay never waits for the decoder. Here the decoder is stalled for real: its NDJSON
//! goes to a pipe nobody reads (the test reads it only at the end, like a `| less` left
//! paused), so after 64 KiB of events it blocks on write. While it is blocked, thousands of
//! small requests fill the tap's event queue, new connections still get through, and a zip
//! larger than the tap's budget is relayed whole; afterwards the output tells what was not
//! decoded (the exchanges cut by the gap, their hashes given up, the drops counted) and the
//! proxy's memory stayed bounded.

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
    let out = Command::new("ip")
        .args([
            "netns",
            "exec",
            ns,
            "curl",
            "-sS",
            "--http2",
            "--max-time",
            "60",
        ])
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

#[test]
fn a_stalled_decoder_never_holds_up_the_relay() {
    if !can_run("a_stalled_decoder_never_holds_up_the_relay", LIVE_CURL) {
        return;
    }
    let ns = LoNetns::create("stall");
    let dir = tempdir("mitm-stall");
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
    let run = LiveRun::start_in(
        &ns.name,
        &[
            "--mitm",
            "127.0.0.1:8080",
            "--ca-dir",
            ca_dir.to_str().unwrap(),
            "--upstream-ca",
            upstream_ca.to_str().unwrap(),
            "--json",
        ],
    );
    let ca = ca_dir.join("ca.pem");
    // Enough exchanges to fill the unread pipe: the decoder now blocks on its output.
    let (ok, err) = curl(&ns.name, &ca, &["-K", &many_small(&dir, "fill.curl", 300)]);
    assert!(ok, "{err}");
    // More than the tap's event queue holds (4096), on one connection while the decoder
    // is blocked: their events are dropped and counted, none waited for.
    let (ok, err) = curl(
        &ns.name,
        &ca,
        &["-K", &many_small(&dir, "flood.curl", 2500)],
    );
    assert!(ok, "{err}");
    // New connections are still served, and a zip bigger than the tap's budget arrives
    // whole (three times: each on its own connection).
    let url = format!("https://goproxy.test:{PORT}/example.com/big/@v/v1.0.0.zip");
    for i in 0..3 {
        let got = dir.join(format!("got{i}.zip"));
        let (ok, err) = curl(&ns.name, &ca, &["-o", got.to_str().unwrap(), &url]);
        assert!(
            ok,
            "download {i} through a proxy whose decoder is blocked: {err}\nits threads: {}\nit said: {:?}",
            threads(run.pid),
            run.stderr_so_far()
        );
        assert!(std::fs::read(&got).unwrap() == zip, "download {i} differs");
    }
    // Nothing was buffered without bound: three 12 MiB zips passed.
    let hwm = vm_hwm_kib(run.pid);
    assert!(hwm < 40 << 10, "peak RSS {hwm} KiB");
    // Reading the output now lets the decoder go on; everything queued is told.
    let out = run.stop();
    assert!(out.status.success(), "{}", out.stderr);
    let events = parse_ndjson(&out.stdout);
    let summary = of_type(&events, "summary").pop().expect("a summary");
    assert!(summary["dropped"].as_u64().unwrap() > 0, "{summary}");
    assert!(
        out.stderr.contains("decoding fell behind"),
        "the drops are told: {}",
        out.stderr
    );
    // A zip whose bytes were dropped is marked so (or, untapped, not shown at all), and no
    // hash is ever computed on part of one: every h1 given is the zip's real one.
    let sums = std::fs::read_to_string(tree.join("go.sum.expected")).unwrap();
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
