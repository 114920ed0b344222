//! A name with a dead IPv6 route, through `gomodwatch run`: the MITM dials as the go command
//! does (Happy Eyeballs, RFC 6555: IPv6 first, IPv4 beside it after 300 ms), so the go
//! command succeeds through gomodwatch as it does alone, and the connection event says what
//! the fallback cost and which address did not answer.
//!
//! The namespace has only loopback and a veth pair: `goproxy.test` is `2001:db8:dead::1`
//! then `127.0.0.1` (`/etc/netns/NAME/hosts`); the IPv6 address is on-link on the veth with a
//! permanent neighbour entry whose MAC nobody has, so its SYNs leave and vanish (no refusal,
//! no ICMP: a dead route), while goproxyd answers on 127.0.0.1. The resolver (RFC 6724:
//! a global IPv6 source beats IPv4) gives the IPv6 address first, as the go command's does.

// Linux only: built on tests/common/fixture.rs (real go commands, network namespaces,
// root); tests/darwin-check.sh type-checks the other tests for macOS.
#![cfg(target_os = "linux")]

mod common;

use common::fixture::*;
use common::*;
use std::process::Command;
use std::time::{Duration, Instant};

const NEEDS: &[Need] = &[Need::Root, Need::Program("ip")];
const PORT: u16 = 4481;
const DEAD: &str = "2001:db8:dead::1";
const TOML: &str = "github.com/BurntSushi/toml@v1.2.0";

fn inside(ns: &str, args: &[&str]) {
    let out = Command::new("ip")
        .args(["netns", "exec", ns])
        .args(args)
        .output()
        .unwrap();
    assert!(out.status.success(), "{args:?}: {out:?}");
}

#[test]
fn a_dead_ipv6_route_costs_300_ms_through_the_mitm_as_without_it() {
    if !can_run(
        "a_dead_ipv6_route_costs_300_ms_through_the_mitm_as_without_it",
        NEEDS,
    ) {
        return;
    }
    let ns = LoNetns::create("he");
    std::fs::write(
        format!("/etc/netns/{}/hosts", ns.name),
        format!("{DEAD} goproxy.test\n127.0.0.1 localhost goproxy.test\n::1 localhost\n"),
    )
    .unwrap();
    let n = ns.name.as_str();
    inside(
        n,
        &[
            "ip", "link", "add", "gmwhe0", "type", "veth", "peer", "name", "gmwhe1",
        ],
    );
    inside(n, &["ip", "link", "set", "gmwhe0", "up"]);
    inside(n, &["ip", "link", "set", "gmwhe1", "up"]);
    inside(
        n,
        &[
            "ip",
            "-6",
            "addr",
            "add",
            "2001:db8:dead::2/64",
            "dev",
            "gmwhe0",
            "nodad",
        ],
    );
    inside(
        n,
        &[
            "ip",
            "-6",
            "neigh",
            "replace",
            DEAD,
            "lladdr",
            "02:00:00:00:de:ad",
            "dev",
            "gmwhe0",
            "nud",
            "permanent",
        ],
    );
    let dir = tempdir("happy-eyeballs");
    let (ca, crt, key) = server_certs(&dir, "gomodwatch test upstream CA", &["goproxy.test"]);
    let _server = goproxyd(
        Some(n),
        &format!("127.0.0.1:{PORT}"),
        &[
            "-cert",
            crt.to_str().unwrap(),
            "-key",
            key.to_str().unwrap(),
        ],
    );
    let goproxy = format!("https://goproxy.test:{PORT}");
    let args = ["mod", "download", "-x", TOML];

    // The oracle: the go command alone falls back to IPv4 and gets the module.
    let t = Instant::now();
    let ca_env = [("SSL_CERT_FILE", ca.to_str().unwrap())];
    let (ok, stderr) = run_go_with(&go127(), &goproxy, &args, Some(n), &ca_env);
    let alone = t.elapsed();
    assert!(ok, "the go command alone failed: {stderr}");

    // Through gomodwatch run: the same, with the MITM dialing.
    let home = tempdir("happy-eyeballs-go");
    let mut cmd = Command::new("ip");
    cmd.args(["netns", "exec", n, bin(), "run", "--json"])
        .arg("--upstream-ca")
        .arg(&ca)
        .arg("--ca-dir")
        .arg(dir.join("gca"))
        .arg("--")
        .arg(go127())
        .args(args);
    hermetic_go_env(&mut cmd, &home, &goproxy).env("PATH", "/usr/bin:/bin:/usr/sbin:/sbin");
    let t = Instant::now();
    let out = cmd.output().unwrap();
    let through = t.elapsed();
    let _ = std::fs::remove_dir_all(&home);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("Gateway Timeout"), "{stderr}");
    let events = parse_ndjson(&out.stdout);
    let mods = of_type(&events, "module");
    assert_eq!(mods.len(), 1, "{mods:?}");
    assert_eq!(mods[0]["outcome"], "ok", "{}", mods[0]);
    // The fallback is a cost the report names (a warning with its cause), never an error.
    let problems = &of_type(&events, "summary")[0]["problems"];
    let fallback = problems
        .as_array()
        .unwrap()
        .iter()
        .find(|p| {
            p["text"]
                .as_str()
                .unwrap_or("")
                .contains("after a fallback")
        })
        .unwrap_or_else(|| panic!("no fallback problem: {problems}"));
    assert_eq!(fallback["severity"], "warning", "{fallback}");
    assert_eq!(fallback["cause"], "timeout", "{fallback}");
    assert!(
        problems
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["severity"] != "error"),
        "{problems}"
    );
    assert_eq!(
        format!(
            "{}@{}",
            mods[0]["module"].as_str().unwrap(),
            mods[0]["version"].as_str().unwrap()
        ),
        TOML
    );

    // The connection to goproxy.test: reached over IPv4, its connect phase holding the
    // 300 ms the IPv6 attempt had alone, and the address that did not answer named.
    let conns: Vec<_> = of_type(&events, "connection")
        .into_iter()
        .filter(|c| c["server_name"] == "goproxy.test")
        .collect();
    assert!(!conns.is_empty(), "{events:?}");
    for c in &conns {
        assert_eq!(c["server"], format!("127.0.0.1:{PORT}").as_str(), "{c}");
        assert!(c["error"].is_null(), "{c}");
        let connect = c["connect_ms"].as_f64().unwrap();
        assert!((300.0..2000.0).contains(&connect), "{c}");
        let up = &c["upstream"];
        let msg = up["message"].as_str().unwrap_or_default();
        assert!(msg.contains("falling back to IPv4"), "{c}");
        assert!(msg.contains(&format!("[{DEAD}]:{PORT}")), "{c}");
        let tried = up["tried"].as_array().unwrap();
        assert_eq!(tried.len(), 2, "{c}");
        assert_eq!(
            tried[0]["address"],
            format!("[{DEAD}]:{PORT}").as_str(),
            "{c}"
        );
        assert_eq!(tried[0]["outcome"], "abandoned", "{c}");
        assert_eq!(
            tried[1]["address"],
            format!("127.0.0.1:{PORT}").as_str(),
            "{c}"
        );
        assert_eq!(tried[1]["outcome"], "connected", "{c}");
        let second = tried[1]["start_ms"].as_f64().unwrap();
        assert!((295.0..400.0).contains(&second), "{c}");
        eprintln!(
            "connect_ms {connect:.1} (IPv4 started at {second:.1} ms); go alone {:.2} s, \
             through gomodwatch run {:.2} s",
            alone.as_secs_f64(),
            through.as_secs_f64()
        );
    }
    // Every exchange paid for at most that one connect (HTTP/2: one connection).
    assert!(of_type(&events, "exchange")
        .iter()
        .all(|e| e["timing"]["connect_ms"].as_f64().unwrap_or(0.0) < 2000.0));
    assert!(through < Duration::from_secs(20), "{through:?}");
    let _ = std::fs::remove_dir_all(&dir);
}
