//! `--mitm ADDR --transparent`: a go command in a network namespace with no proxy settings
//! at all reaches the fixture at `https://goproxy.test:3443` on the host; iptables
//! REDIRECT in PREROUTING on the veth hands its connections to gomodwatch, which finds the
//! original destination (SO_ORIGINAL_DST) and the name (SNI), verifies the real server and
//! decodes everything. What the go command printed (`-x`) is exactly what gomodwatch saw.

// Linux only: built on tests/common/fixture.rs (real go commands, network namespaces,
// root); tests/darwin-check.sh type-checks the other tests for macOS.
#![cfg(target_os = "linux")]

mod common;

use common::fixture::*;
use common::*;
use std::path::PathBuf;
use std::process::Command;

/// An iptables rule, deleted when dropped.
struct Rule(Vec<String>);

impl Rule {
    fn add(args: &[&str]) -> Rule {
        let v: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        let out = Command::new("iptables")
            .args(["-t", "nat", "-A"])
            .args(&v)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        Rule(v)
    }
}

impl Drop for Rule {
    fn drop(&mut self) {
        let _ = Command::new("iptables")
            .args(["-t", "nat", "-D"])
            .args(&self.0)
            .output();
    }
}

/// `/etc/netns/NAME/hosts`, removed when dropped.
struct Hosts(PathBuf);

impl Hosts {
    fn write(ns: &str, text: &str) -> Hosts {
        let dir = PathBuf::from("/etc/netns").join(ns);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("hosts"), text).unwrap();
        Hosts(dir)
    }
}

impl Drop for Hosts {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn a_redirected_go_command_is_intercepted_without_any_proxy_setting() {
    if !can_run(
        "a_redirected_go_command_is_intercepted_without_any_proxy_setting",
        &[Need::Root, Need::Program("ip"), Need::Program("iptables")],
    ) {
        return;
    }
    let ns = Netns::create("tp", 41);
    let _hosts = Hosts::write(
        &ns.name,
        &format!("127.0.0.1 localhost\n{} goproxy.test\n", ns.host_ip),
    );
    let dir = tempdir("transparent");
    let (up_ca, crt, key) = server_certs(&dir, "gomodwatch test upstream CA", &["goproxy.test"]);
    let server_addr = format!("{}:3443", ns.host_ip);
    let _server = goproxyd(
        None,
        &server_addr,
        &[
            "-cert",
            crt.to_str().unwrap(),
            "-key",
            key.to_str().unwrap(),
        ],
    );
    let listen = format!("{}:4481", ns.host_ip);
    let gca = dir.join("gca");
    let run = Mitm {
        listen: &listen,
        ca_dir: gca.clone(),
        upstream_ca: Some(&up_ca),
        extra: &["--transparent", "--goproxy", "https://goproxy.test:3443"],
    }
    .start(None);
    assert!(run.first_line.contains("transparent MITM listening on"));
    let _rule = Rule::add(&[
        "PREROUTING",
        "-i",
        &ns.host_if,
        "-p",
        "tcp",
        "--dport",
        "3443",
        "-j",
        "REDIRECT",
        "--to-ports",
        "4481",
    ]);
    // The go command trusts gomodwatch's CA through SSL_CERT_FILE, nothing else: no proxy.
    let ca = gca.join("ca.pem");
    let (ok, xlog) = run_go_with(
        &go127(),
        "https://goproxy.test:3443",
        &[
            "mod",
            "download",
            "-x",
            "github.com/BurntSushi/toml@v1.2.0",
            "github.com/ghodss/yaml@v1.0.0",
        ],
        Some(&ns.name),
        &[("SSL_CERT_FILE", ca.to_str().unwrap())],
    );
    assert!(ok, "{xlog}");
    let out = run.stop();
    let events = parse_ndjson(&out.stdout);
    // The printed rules, and the warning for listening beyond loopback.
    assert!(
        out.stderr.contains("-j REDIRECT --to-ports 4481"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("can use it as a proxy"),
        "{}",
        out.stderr
    );
    let mut wire: Vec<(String, u64)> = of_type(&events, "exchange")
        .iter()
        .map(|e| {
            (
                e["url"].as_str().unwrap().to_string(),
                e["status"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    wire.sort();
    let mut x: Vec<(String, u64)> = parse_xlog(&xlog)
        .into_iter()
        .map(|r| (r.url, u64::from(r.status.unwrap_or(0))))
        .collect();
    x.sort();
    assert!(!x.is_empty(), "{xlog}");
    assert_eq!(wire, x);
    for m in of_type(&events, "module") {
        assert_eq!(m["outcome"], "ok", "{m}");
        assert_eq!(m["served_by"]["zip"], "https://goproxy.test:3443", "{m}");
    }
    // The connections carry the name from the SNI and the original destination.
    let conns = of_type(&events, "connection");
    assert!(!conns.is_empty());
    for c in &conns {
        assert_eq!(c["server"], server_addr.as_str(), "{c}");
        assert_eq!(c["tls"]["sni"], "goproxy.test", "{c}");
        assert_eq!(c["tls"]["alpn_selected_client"], "h2", "{c}");
    }
}

#[test]
fn transparent_needs_mitm() {
    let out = run(&["--transparent"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn a_name_outside_the_cas_constraints_is_not_intercepted() {
    if !can_run(
        "a_name_outside_the_cas_constraints_is_not_intercepted",
        &[
            Need::Root,
            Need::Program("ip"),
            Need::Program("iptables"),
            Need::Program("curl"),
        ],
    ) {
        return;
    }
    let ns = Netns::create("tq", 42);
    let _hosts = Hosts::write(
        &ns.name,
        &format!(
            "127.0.0.1 localhost\n{} goproxy.test other.test\n",
            ns.host_ip
        ),
    );
    let dir = tempdir("transparent-nc");
    let (up_ca, crt, key) = server_certs(&dir, "upstream CA", &["goproxy.test", "other.test"]);
    let _server = goproxyd(
        None,
        &format!("{}:3443", ns.host_ip),
        &[
            "-cert",
            crt.to_str().unwrap(),
            "-key",
            key.to_str().unwrap(),
        ],
    );
    let gca = dir.join("gca");
    let out = run(&[
        "ca",
        "init",
        "--permit",
        "goproxy.test",
        "--ca-dir",
        gca.to_str().unwrap(),
    ]);
    assert!(out.status.success());
    let listen = format!("{}:4482", ns.host_ip);
    let run = Mitm {
        listen: &listen,
        ca_dir: gca.clone(),
        upstream_ca: Some(&up_ca),
        extra: &["--transparent"],
    }
    .start(None);
    let _rule = Rule::add(&[
        "PREROUTING",
        "-i",
        &ns.host_if,
        "-p",
        "tcp",
        "--dport",
        "3443",
        "-j",
        "REDIRECT",
        "--to-ports",
        "4482",
    ]);
    let curl = |host: &str| {
        Command::new("ip")
            .args([
                "netns",
                "exec",
                &ns.name,
                "curl",
                "-sS",
                "-o",
                "/dev/null",
                "--cacert",
            ])
            .arg(gca.join("ca.pem"))
            .arg(format!(
                "https://{host}:3443/github.com/%21burnt%21sushi/toml/@v/list"
            ))
            .output()
            .unwrap()
    };
    let ok = curl("goproxy.test");
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let refused = curl("other.test");
    assert!(!refused.status.success());
    let out = run.stop();
    let events = parse_ndjson(&out.stdout);
    assert_eq!(of_type(&events, "exchange").len(), 1);
    let failed: Vec<_> = of_type(&events, "connection")
        .into_iter()
        .filter(|c| c["error"] == "tls")
        .collect();
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert!(failed[0]["upstream"]["message"]
        .as_str()
        .unwrap()
        .contains("not intercepting other.test"));
}
