//! The network between the go command and its proxies, judged on real recordings
//! (captures/README.md: squid as a corporate proxy, dnsmasq, iptables, untrusted TLS, a
//! hanging proxy). Ground truth: the go command's `-x` output, squid's access.log, the
//! recording's metadata, and the packets themselves.

// Linux only: built on tests/common/fixture.rs (real go commands, network namespaces,
// root); tests/darwin-check.sh type-checks the other tests for macOS.
#![cfg(target_os = "linux")]

mod common;

use common::fixture::*;
use common::*;
use gomodwatch::source::file::CaptureFile;
use serde_json::Value;
use std::collections::BTreeMap;

fn meta(name: &str) -> Value {
    let text = std::fs::read_to_string(captures().join(format!("{name}.json"))).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// Replays `file` (a pcap of scenario `name`), telling it the GOPROXY the go command had
/// when `configured`.
fn replay(name: &str, file: &str, configured: bool) -> Vec<Value> {
    let goproxy = meta(name)["env"]["GOPROXY"].as_str().unwrap().to_string();
    let mut args: Vec<&str> = Vec::new();
    if configured {
        args.extend(["--goproxy", &goproxy]);
    }
    replay_json(&captures().join(file), &args)
}

fn problems(events: &[Value]) -> Vec<String> {
    let summary = of_type(events, "summary");
    summary[0]["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            format!(
                "{} {}",
                p["severity"].as_str().unwrap(),
                p["text"].as_str().unwrap()
            )
        })
        .collect()
}

/// The one problem that contains `needle` (and there must be exactly one).
fn problem(events: &[Value], needle: &str) -> String {
    let found: Vec<String> = problems(events)
        .into_iter()
        .filter(|p| p.contains(needle))
        .collect();
    assert_eq!(
        found.len(),
        1,
        "one problem with {needle:?} in {:#?}",
        problems(events)
    );
    found[0].clone()
}

/// squid's access.log: (status, method, target) per line.
fn squid_log(name: &str) -> Vec<(String, String, String)> {
    std::fs::read_to_string(captures().join(format!("{name}.squid.log")))
        .unwrap()
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f[3].to_string(), f[5].to_string(), f[6].to_string())
        })
        .collect()
}

fn count_by<K: Ord>(items: impl Iterator<Item = K>) -> BTreeMap<K, usize> {
    let mut m = BTreeMap::new();
    for k in items {
        *m.entry(k).or_default() += 1;
    }
    m
}

/// CONNECT exchanges as (status, target) counts.
fn connects(events: &[Value]) -> BTreeMap<(u64, String), usize> {
    count_by(
        of_type(events, "exchange")
            .into_iter()
            .filter(|e| e["method"] == "CONNECT")
            .map(|e| {
                (
                    e["status"].as_u64().unwrap(),
                    e["url"].as_str().unwrap().to_string(),
                )
            }),
    )
}

/// The same CONNECTs as squid logged them (`TCP_TUNNEL/200`, `TCP_DENIED/407`).
fn squid_connects(name: &str) -> BTreeMap<(u64, String), usize> {
    count_by(
        squid_log(name)
            .into_iter()
            .filter(|l| l.1 == "CONNECT")
            .map(|l| {
                let status = l.0.rsplit('/').next().unwrap().parse().unwrap();
                (status, l.2)
            }),
    )
}

/// No problem tells the user to take an endpoint out of GOPROXY unless it is in it, and
/// no hang is blamed on a separator.
fn no_wrong_advice(events: &[Value], goproxy: &str) {
    for p in problems(events) {
        if p.contains("remove it from GOPROXY") {
            let named = p.split_whitespace().nth(1).unwrap();
            assert!(goproxy.contains(named), "{p} (GOPROXY={goproxy})");
        }
        if p.contains("has not answered") || p.contains("no-response") {
            assert!(
                !p.contains("stops the walk") && !p.contains("would fall back"),
                "{p}"
            );
        }
    }
}

#[test]
fn a_tunnel_through_squid_is_a_connection_via_the_proxy() {
    for name in [
        "squid-tunnel-go127",
        "squid-tunnel-go119",
        "squid-auth-ok-go127",
    ] {
        // Both legs (squid's own capture), and only the client's leg (a laptop's).
        for file in [format!("{name}.pcap"), format!("{name}-client.pcap")] {
            let events = replay(name, &file, false);
            assert_eq!(connects(&events), squid_connects(name), "{file}");
            let tunnels: Vec<&Value> = of_type(&events, "connection")
                .into_iter()
                .filter(|c| !c["via"].is_null())
                .collect();
            assert_eq!(tunnels.len(), squid_log(name).len(), "{file}");
            for t in &tunnels {
                assert_eq!(t["via"], "10.203.2.2:3128", "{t}");
                assert_eq!(t["server"], "10.203.2.2:3128", "{t}");
                assert_eq!(t["target"], "goproxy.test:3001", "{t}");
                assert_eq!(t["server_name"], "goproxy.test", "{t}");
                assert_eq!(t["tls"]["sni"], "goproxy.test", "{t}");
                assert!(t["tls"]["handshake_ms"].as_f64().unwrap() > 0.0, "{t}");
                assert!(t["connect_ms"].as_f64().unwrap() > 0.0, "{t}");
                assert!(t["bytes_down"].as_u64().unwrap() > 500, "{t}");
            }
            let p = problem(&events, "via 10.203.2.2:3128");
            assert!(
                p.starts_with("info 3 TLS connections to goproxy.test via"),
                "{p}"
            );
            assert!(!p.contains("GOPROXY"), "{p}");
            no_wrong_advice(&events, meta(name)["env"]["GOPROXY"].as_str().unwrap());
        }
    }
}

#[test]
fn proxy_credentials_never_leave_the_capture() {
    let events = replay("squid-auth-ok-go127", "squid-auth-ok-go127.pcap", true);
    let text = serde_json::to_string(&events).unwrap();
    // The CONNECTs carried `Proxy-Authorization: Basic dXNlcjpzZWNyZXQ=` (user:secret).
    assert!(!text.contains("dXNlcjpzZWNyZXQ=") && !text.contains("secret"));
    assert!(problems(&events).iter().all(|p| !p.starts_with("error")));
}

#[test]
fn squid_refusing_a_tunnel_is_said_in_plain_words() {
    let events = replay("squid-403-go127", "squid-403-go127.pcap", true);
    assert_eq!(connects(&events), squid_connects("squid-403-go127"));
    let p = problem(&events, "403");
    assert_eq!(
        p,
        "error the HTTP proxy 10.203.2.2:3128 refused to open a tunnel to goproxy.test:3001 \
         (403 Forbidden, 3 times): your network blocks that host; ask for it to be allowed, or \
         use a GOPROXY it allows"
    );
    // The go command said "Forbidden" for each of its 3 requests.
    let xlog = std::fs::read_to_string(captures().join("squid-403-go127.xlog")).unwrap();
    assert_eq!(xlog.matches("\": Forbidden").count() - 1, 3);
}

#[test]
fn squid_wanting_credentials_names_the_realm() {
    let events = replay("squid-407-go127", "squid-407-go127.pcap", true);
    assert_eq!(connects(&events), squid_connects("squid-407-go127"));
    let p = problem(&events, "407");
    assert_eq!(
        p,
        "error the HTTP proxy 10.203.2.2:3128 wants credentials to open a tunnel to \
         goproxy.test:3001 (407 Proxy Authentication Required, realm \"corp\", 3 times): put \
         user:password in HTTPS_PROXY (http://user:password@host:port)"
    );
}

#[test]
fn an_https_proxy_where_nothing_listens_is_not_called_a_goproxy_entry() {
    let name = "https-proxy-closed-go127";
    let xlog = std::fs::read_to_string(captures().join(format!("{name}.xlog"))).unwrap();
    let refused_gets = parse_xlog(&xlog)
        .iter()
        .filter(|r| {
            r.error
                .as_deref()
                .is_some_and(|e| e.contains("proxyconnect tcp"))
        })
        .count();
    for configured in [false, true] {
        let events = replay(name, &format!("{name}.pcap"), configured);
        let refused = of_type(&events, "connection")
            .iter()
            .filter(|c| c["error"] == "refused" && c["server"] == "10.203.0.2:3128")
            .count();
        assert_eq!(refused, refused_gets);
        let p = problem(&events, "nothing listens at 10.203.0.2:3128");
        assert!(p.starts_with("error"), "{p}");
        assert!(p.contains("3 connections refused"), "{p}");
        assert!(p.contains("HTTPS_PROXY"), "{p}");
        assert!(!p.contains("remove it from GOPROXY"), "{p}");
        if configured {
            assert!(
                p.contains(
                    "it is not in GOPROXY (https://goproxy.test:3001), so it is probably \
                            the HTTP proxy in HTTPS_PROXY or HTTP_PROXY"
                ),
                "{p}"
            );
        }
        no_wrong_advice(&events, "https://goproxy.test:3001");
    }
}

#[test]
fn names_that_do_not_resolve() {
    for (name, what, go_says) in [
        (
            "dns-nxdomain-go127",
            "NXDOMAIN: no such name",
            "no such host",
        ),
        ("dns-servfail-go127", "SERVFAIL", "server misbehaving"),
        ("dns-refused-go127", "REFUSED", "server misbehaving"),
    ] {
        let events = replay(name, &format!("{name}.pcap"), false);
        let queries = of_type(&events, "dns")
            .iter()
            .filter(|d| d["name"] == "goproxy.example")
            .count();
        let p = problem(&events, "DNS lookup of goproxy.example failed");
        assert!(p.contains(what), "{p}");
        assert!(p.contains("at resolver 10.203.0.2:53"), "{p}");
        assert!(p.contains(&format!("({queries} queries)")), "{p}");
        assert!(
            p.contains(&format!(
                "lookup goproxy.example on 10.203.0.2:53: {go_says}"
            )),
            "{p}"
        );
        assert!(p.contains("/etc/resolv.conf"), "{p}");
        // The go command's own words are the ones the problem quotes.
        let key = meta(name)["key_error"].as_str().unwrap().to_string();
        assert!(key.ends_with(&format!(
            "lookup goproxy.example on 10.203.0.2:53: {go_says}"
        )));
    }
    // A proxy's reverse lookups of its clients (REFUSED PTR) are not the go command's.
    let events = replay("squid-407-go127", "squid-407-go127.pcap", false);
    assert!(problems(&events).iter().all(|p| !p.contains("DNS")));
}

/// SYNs (without ACK) to `port` in a capture: what the client tried.
fn syns_to(file: &str, port: u16) -> (usize, usize) {
    let f = std::fs::File::open(captures().join(file)).unwrap();
    let mut cap = CaptureFile::new(f).unwrap();
    let mut syns = 0;
    let mut ports = std::collections::BTreeSet::new();
    while let Some(p) = cap.next_packet().unwrap() {
        let Ok(sliced) = etherparse::SlicedPacket::from_ethernet(p.data) else {
            continue;
        };
        if let Some(etherparse::TransportSlice::Tcp(t)) = sliced.transport {
            if t.syn() && !t.ack() && t.destination_port() == port {
                syns += 1;
                ports.insert(t.source_port());
            }
        }
    }
    (ports.len(), syns)
}

#[test]
fn a_firewall_that_drops_syns() {
    let name = "syn-drop-go127";
    let (conns, syns) = syns_to(&format!("{name}.pcap"), 3000);
    for configured in [false, true] {
        let events = replay(name, &format!("{name}.pcap"), configured);
        let p = problem(
            &events,
            "nothing answered the connection to 10.203.0.2:3000",
        );
        assert!(p.starts_with("error"), "{p}");
        assert!(p.contains("(goproxy.test)"), "{p}");
        assert!(
            p.contains(&format!("({conns} connections, {syns} SYNs over")),
            "{p}"
        );
        assert!(p.contains("a firewall drops it"), "{p}");
        assert!(p.contains("`dial tcp 10.203.0.2:3000: i/o timeout`"), "{p}");
        if configured {
            assert!(
                p.ends_with("it is the GOPROXY entry http://goproxy.test:3000"),
                "{p}"
            );
        }
        let key = meta(name)["key_error"].as_str().unwrap().to_string();
        assert!(key.ends_with("dial tcp 10.203.0.2:3000: i/o timeout"));
        no_wrong_advice(&events, "http://goproxy.test:3000");
    }
}

#[test]
fn an_icmp_rejection_is_told_apart_from_silence_and_rst() {
    let name = "syn-reject-icmp-go127";
    let (conns, _) = syns_to(&format!("{name}.pcap"), 3000);
    let events = replay(name, &format!("{name}.pcap"), true);
    let unreachable: Vec<&Value> = of_type(&events, "connection")
        .into_iter()
        .filter(|c| c["error"] == "unreachable")
        .collect();
    assert_eq!(unreachable.len(), conns);
    for c in &unreachable {
        assert_eq!(c["unreachable"]["reason"], "port unreachable");
        assert_eq!(c["unreachable"]["from"], "10.203.0.2");
    }
    let p = problem(&events, "ICMP port unreachable");
    assert!(
        p.starts_with(&format!(
            "error the host itself rejected the connection to 10.203.0.2:3000 (goproxy.test) \
             with ICMP port unreachable ({conns} attempts)"
        )),
        "{p}"
    );
    assert!(!problems(&events)
        .iter()
        .any(|p| p.contains("nothing answered")));
}

#[test]
fn a_tls_handshake_the_client_abandoned() {
    for name in ["tls-untrusted-go127", "tls-untrusted-go119"] {
        let events = replay(name, &format!("{name}.pcap"), true);
        let conns = of_type(&events, "connection");
        assert!(!conns.is_empty());
        for c in &conns {
            let f = &c["tls"]["failure"];
            assert_eq!(f["by"], "client", "{c}");
            assert_eq!(f["inferred"], true, "{c}");
            assert!(c["tls"]["handshake_ms"].is_null(), "{c}");
        }
        let p = problem(&events, "abandoned the TLS handshake");
        assert!(
            p.starts_with(&format!(
                "error the go command abandoned the TLS handshake with goproxy.test:3001 after \
                 the server's certificate ({} times; inferred: TLS 1.3 encrypts the alert",
                conns.len()
            )),
            "{p}"
        );
        assert!(p.contains("it probably does not trust it"), "{p}");
        assert!(p.contains("SSL_CERT_FILE is ignored"), "{p}");
        // Failed handshakes carried nothing: no "run --mitm to see the modules".
        assert!(problems(&events).iter().all(|p| !p.contains("--mitm")));
        let key = meta(name)["key_error"].as_str().unwrap().to_string();
        assert!(key.contains("x509: certificate signed by unknown authority"));
    }
}

#[test]
fn a_tls12_alert_and_the_inspecting_ca_are_named() {
    let name = "tls12-untrusted-go127";
    let events = replay(name, &format!("{name}.pcap"), true);
    let issuer = meta(name)["tls"]["server_cert_issuer"]
        .as_str()
        .unwrap()
        .to_string();
    for c in of_type(&events, "connection") {
        assert_eq!(c["tls"]["failure"]["alert"], "bad_certificate", "{c}");
        assert_eq!(c["tls"]["failure"]["inferred"], false, "{c}");
        assert_eq!(
            c["tls"]["certificate"]["root_issuer"],
            issuer.as_str(),
            "{c}"
        );
    }
    let p = problem(&events, "abandoned the TLS handshake");
    assert!(p.contains("(3 times; alert bad_certificate)"), "{p}");
    assert!(
        p.contains(&format!(
            "its certificate chain ends at \"{issuer}\", which is not a public CA this machine \
             trusts"
        )),
        "{p}"
    );
}

#[test]
fn a_hang_under_pipe_is_incomplete_and_not_blamed_on_a_separator() {
    let name = "hang-pipe-go127";
    let events = replay(name, &format!("{name}.pcap"), true);
    // B (3001) is never asked: '|' does not fall back from a hang.
    assert!(of_type(&events, "exchange")
        .iter()
        .all(|e| !e["url"].as_str().unwrap().contains(":3001/")));
    let unanswered =
        parse_xlog(&std::fs::read_to_string(captures().join(format!("{name}.xlog"))).unwrap())
            .iter()
            .filter(|r| r.unanswered)
            .count();
    let no_response = of_type(&events, "exchange")
        .iter()
        .filter(|e| e["error"] == "no-response")
        .count();
    assert_eq!(no_response, unanswered);
    for m in of_type(&events, "module") {
        assert_eq!(m["outcome"], "incomplete", "{m}");
        let p = m["problem"].as_str().unwrap();
        assert!(
            p.contains("accepted the connection but has not answered the .info request"),
            "{p}"
        );
        assert!(p.contains("'|' does not fall back from a hang"), "{p}");
    }
    no_wrong_advice(&events, meta(name)["env"]["GOPROXY"].as_str().unwrap());
}

/// Live, the environment says what a refused endpoint is: the HTTPS_PROXY the go command
/// (started from the same shell) was given, named exactly.
#[test]
fn live_a_closed_https_proxy_is_named_from_the_environment() {
    if !can_run(
        "live_a_closed_https_proxy_is_named_from_the_environment",
        LIVE,
    ) {
        return;
    }
    let ns = Netns::create("p", 36);
    // Nothing listens on the host side of the veth at this port.
    let proxy = format!("http://{}:39128", ns.host_ip);
    let run = LiveRun::start(
        &[
            "-i",
            &ns.host_if,
            "--json",
            "--goproxy",
            "https://goproxy.test:3001",
        ],
        &[("HTTPS_PROXY", &proxy)],
    );
    let (ok, xlog) = run_go_with(
        &go127(),
        "https://goproxy.test:3001",
        &["mod", "download", "-x", "github.com/pkg/errors@v0.9.1"],
        Some(&ns.name),
        &[("HTTPS_PROXY", &proxy)],
    );
    assert!(!ok && xlog.contains("proxyconnect tcp"), "{xlog}");
    let out = run.stop();
    assert!(out.status.success(), "{}", out.stderr);
    let events = parse_ndjson(&out.stdout);
    let p = problem(&events, "nothing listens at");
    assert!(
        p.contains(&format!(
            "it is the HTTP proxy your environment names (HTTPS_PROXY={proxy})"
        )),
        "{p}"
    );
    assert!(!p.contains("remove it from GOPROXY"), "{p}");
}
