//! MITM mode keeps HTTP/2: real go commands (1.27 from PyPI, Debian's 1.19) and curl
//! through `--mitm` to goproxyd over HTTPS with a test CA, all on loopback inside a network
//! namespace where `goproxy.test` resolves to 127.0.0.1 (the go command never proxies a
//! loopback address, but it does proxy a name). ALPN is mirrored, every exchange is
//! decoded from HTTP/2 with its timing, and what the go command printed (`-x`) is exactly
//! what gomodwatch saw. Also: plain HTTP_PROXY requests, RST_STREAM and GOAWAY from the
//! fixture, an upstream that does not verify, an upstream proxy, and the key log.

// Linux only: built on tests/common/fixture.rs (real go commands, network namespaces,
// root); tests/darwin-check.sh type-checks the other tests for macOS.
#![cfg(target_os = "linux")]

mod common;

use common::fixture::*;
use common::*;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

struct World {
    ns: LoNetns,
    dir: PathBuf,
    upstream_ca: PathBuf,
    _servers: Vec<Proc>,
}

/// The live tests' needs, and curl (tests/deps.sh installs it).
const LIVE_CURL: &[Need] = &[
    Need::Root,
    Need::Program("/usr/lib/go-1.19/bin/go"),
    Need::Program("ip"),
    Need::Program("curl"),
];

const A: u16 = 4451; // serves only BurntSushi (404 for the rest)
const B: u16 = 4452; // serves everything
const PLAIN: u16 = 4453; // plain http
const RST: u16 = 4454;
const GOAWAY: u16 = 4455;
const TLS12_RSA: u16 = 4456;

fn world(tag: &str) -> World {
    let ns = LoNetns::create(tag);
    let dir = tempdir(&format!("mitm-h2-{tag}"));
    let (ca, crt, key) = server_certs(&dir, "gomodwatch test upstream CA", &["goproxy.test"]);
    let tls = vec![
        "-cert",
        crt.to_str().unwrap(),
        "-key",
        key.to_str().unwrap(),
    ];
    let with = |extra: &[&'static str]| {
        let mut v = tls.clone();
        v.extend_from_slice(extra);
        v
    };
    let addr = |p: u16| format!("127.0.0.1:{p}");
    let n = Some(ns.name.as_str());
    let servers = vec![
        goproxyd(
            n,
            &addr(A),
            &with(&["-only", "github.com/BurntSushi", "-miss", "404"]),
        ),
        goproxyd(n, &addr(B), &tls),
        goproxyd(n, &addr(PLAIN), &[]),
        goproxyd(n, &addr(RST), &with(&["-mode", "rst"])),
        goproxyd(n, &addr(GOAWAY), &with(&["-mode", "goaway"])),
    ];
    World {
        ns,
        dir,
        upstream_ca: ca,
        _servers: servers,
    }
}

impl World {
    fn ca(&self) -> PathBuf {
        self.dir.join("gca/ca.pem")
    }

    fn mitm(&self, extra: &[&str]) -> LiveRun {
        Mitm {
            listen: "127.0.0.1:8080",
            ca_dir: self.dir.join("gca"),
            upstream_ca: None,
            extra,
        }
        .start(Some(&self.ns.name))
    }

    fn trusting(&self) -> LiveRun {
        let ca = self.upstream_ca.to_str().unwrap().to_string();
        self.mitm(&["--upstream-ca", &ca])
    }

    /// A go command inside the namespace through the proxy; (success, stderr).
    fn go(&self, go: &Path, goproxy: &str, args: &[&str]) -> (bool, String) {
        let home = tempdir("go-h2");
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &self.ns.name]).arg(go);
        let out = hermetic_go_env(&mut cmd, &home, goproxy)
            .args(args)
            .env("HTTPS_PROXY", "http://127.0.0.1:8080")
            .env("HTTP_PROXY", "http://127.0.0.1:8080")
            .env("SSL_CERT_FILE", self.ca())
            .output()
            .unwrap();
        let _ = std::fs::remove_dir_all(&home);
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// curl inside the namespace through the proxy; (exit ok, stdout, stderr).
    fn curl(&self, args: &[&str]) -> (bool, String, String) {
        let out = Command::new("ip")
            .args(["netns", "exec", &self.ns.name, "curl", "-sS"])
            .args(["--proxy", "http://127.0.0.1:8080", "--cacert"])
            .arg(self.ca())
            .args(args)
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }
}

fn https(port: u16) -> String {
    format!("https://goproxy.test:{port}")
}

const TOML: &str = "github.com/BurntSushi/toml@v1.2.0";
const YAML: &str = "github.com/ghodss/yaml@v1.0.0";

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

/// What `-x` printed, each https 4xx twice for Go ≥ 1.24 (its GOAUTH retry, which -x
/// prints once), sorted.
fn xlog_wire(xlog: &str, doubled_4xx: bool) -> Vec<(String, u64)> {
    let mut v = Vec::new();
    for r in parse_xlog(xlog) {
        let status = u64::from(r.status.unwrap_or(0));
        let times = if doubled_4xx && (400..500).contains(&status) && r.url.starts_with("https:") {
            2
        } else {
            1
        };
        for _ in 0..times {
            v.push((r.url.clone(), status));
        }
    }
    v.sort();
    v
}

fn h1_sums() -> String {
    std::fs::read_to_string(tools().tree.join("go.sum.expected")).unwrap()
}

#[test]
fn go_commands_keep_http2_through_mitm() {
    if !can_run("go_commands_keep_http2_through_mitm", LIVE) {
        return;
    }
    let w = world("a");
    let goproxy = format!("{},{}", https(A), https(B));
    for (go, doubled) in [(go127(), true), (go119(), false)] {
        let run = w.trusting();
        let (ok, xlog) = w.go(&go, &goproxy, &["mod", "download", "-x", YAML, TOML]);
        assert!(ok, "{} failed: {xlog}", go.display());
        let out = run.stop();
        assert!(out.status.success(), "{}", out.stderr);
        let events = parse_ndjson(&out.stdout);
        // Exactly the requests the go command made, with their statuses.
        assert_eq!(wire(&events), xlog_wire(&xlog, doubled), "{xlog}");
        let exchanges = of_type(&events, "exchange");
        assert!(exchanges.len() >= 8);
        for e in &exchanges {
            assert_eq!(e["http_version"], "HTTP/2", "{e}");
            assert!(e["error"].is_null(), "{e}");
            assert!(e["timing"]["ttfb_ms"].as_f64().is_some(), "{e}");
            assert!(e["timing"]["transfer_ms"].as_f64().is_some(), "{e}");
        }
        // ALPN h2 on both legs, one connection per host:port, phases timed.
        let conns = of_type(&events, "connection");
        assert_eq!(conns.len(), 2, "{conns:?}");
        for c in &conns {
            assert_eq!(c["protocol"], "http2", "{c}");
            assert_eq!(c["tls"]["alpn"][0], "h2", "{c}");
            assert_eq!(c["tls"]["alpn_selected"], "h2", "{c}");
            assert_eq!(c["tls"]["alpn_selected_client"], "h2", "{c}");
            assert!(c["error"].is_null(), "{c}");
            // The first exchange on it paid for the connection; the others reused it.
            let on: Vec<&&Value> = exchanges
                .iter()
                .filter(|e| e["connection"] == c["id"])
                .collect();
            let first = on.iter().min_by_key(|e| e["id"].as_u64()).unwrap();
            assert_eq!(first["timing"]["reused"], false, "{first}");
            assert!(first["timing"]["tls_ms"].as_f64().unwrap() > 0.0, "{first}");
            assert!(first["timing"]["dns_ms"].as_f64().is_some(), "{first}");
            for e in on.iter().filter(|e| e["id"] != first["id"]) {
                assert_eq!(e["timing"]["reused"], true, "{e}");
                assert_eq!(e["timing"]["tls_ms"], 0.0, "{e}");
            }
        }
        // Zips hashed per stream on the multiplexed connection.
        let sums = h1_sums();
        let hashes = of_type(&events, "hash");
        assert_eq!(hashes.len(), 2, "{hashes:?}");
        for h in hashes {
            let h1 = h["h1"].as_str().unwrap_or_else(|| panic!("{h}"));
            assert!(sums.contains(h1), "{h1}");
        }
    }
}

/// A zip's `h1:` (and so a checksum mismatch) is told as its download ends, while the MITM
/// keeps running — not when gomodwatch exits (issue 24).
#[test]
fn zip_hashes_arrive_while_the_mitm_runs() {
    if !can_run("zip_hashes_arrive_while_the_mitm_runs", LIVE) {
        return;
    }
    let w = world("hl");
    let events_file = w.dir.join("events.ndjson");
    let ca = w.upstream_ca.to_str().unwrap().to_string();
    let run = w.mitm(&[
        "--upstream-ca",
        &ca,
        "--output",
        events_file.to_str().unwrap(),
    ]);
    let goproxy = format!("{},{}", https(A), https(B));
    let (ok, xlog) = w.go(&go127(), &goproxy, &["mod", "download", "-x", YAML, TOML]);
    assert!(ok, "go failed: {xlog}");
    // The proxy is still running: its events so far must hold both zips' hashes.
    let sums = h1_sums();
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    let hashed = loop {
        let text = std::fs::read_to_string(&events_file).unwrap_or_default();
        let events = parse_ndjson(text.as_bytes());
        let hashed: Vec<String> = of_type(&events, "hash")
            .iter()
            .filter_map(|h| h["h1"].as_str().map(str::to_string))
            .collect();
        if hashed.len() >= 2 || std::time::Instant::now() > deadline {
            break hashed;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let out = run.stop();
    assert!(out.status.success(), "{}", out.stderr);
    assert_eq!(hashed.len(), 2, "hashes seen while running: {hashed:?}");
    for h1 in &hashed {
        assert!(sums.contains(h1.as_str()), "{h1}");
    }
}

#[test]
fn curl_over_http2_and_http1_and_plain_http_proxying() {
    if !can_run(
        "curl_over_http2_and_http1_and_plain_http_proxying",
        LIVE_CURL,
    ) {
        return;
    }
    let w = world("b");
    let run = w.trusting();
    let info = |base: &str| format!("{base}/github.com/%21burnt%21sushi/toml/@v/v1.2.0.info");
    let zip = |base: &str| format!("{base}/github.com/%21burnt%21sushi/toml/@v/v1.2.0.zip");
    let fmt = "%{http_version} %{http_code}\n";
    let (ok, out, err) = w.curl(&[
        "--http2",
        "-o",
        "/dev/null",
        "-w",
        fmt,
        &info(&https(B)),
        "-o",
        "/dev/null",
        &zip(&https(B)),
    ]);
    assert!(ok, "{err}");
    assert_eq!(out, "2 200\n2 200\n", "{err}");
    let (ok, out, err) = w.curl(&[
        "-v",
        "--http1.1",
        "-o",
        "/dev/null",
        "-w",
        fmt,
        &info(&https(B)),
    ]);
    assert!(ok && out == "1.1 200\n", "{out} {err}");
    // The client leg negotiates the version and cipher suite the server chose (curl would
    // put AES-256-GCM first where the Go server picks AES-128-GCM or ChaCha20).
    let direct = w.curl(&[
        "-v",
        "--noproxy",
        "*",
        "--cacert",
        w.upstream_ca.to_str().unwrap(),
        "-o",
        "/dev/null",
        &info(&https(B)),
    ]);
    let suite = |v: &str| -> String {
        let line = v.lines().find(|l| l.contains("SSL connection using"));
        line.unwrap_or_else(|| panic!("no cipher in {v}"))
            .to_string()
    };
    assert!(direct.0, "{}", direct.2);
    assert_eq!(suite(&err), suite(&direct.2));
    // Plain http through the proxy (absolute-form), keep-alive over two requests.
    let plain = format!("http://goproxy.test:{PLAIN}");
    let (ok, out, err) = w.curl(&[
        "-o",
        "/dev/null",
        "-w",
        fmt,
        &info(&plain),
        "-o",
        "/dev/null",
        &zip(&plain),
    ]);
    assert!(ok && out == "1.1 200\n1.1 200\n", "{out} {err}");
    // And the go command with HTTP_PROXY and a plain GOPROXY.
    let (ok, xlog) = w.go(&go127(), &plain, &["mod", "download", "-x", YAML]);
    assert!(ok, "{xlog}");
    let out = run.stop();
    let events = parse_ndjson(&out.stdout);
    let ex = of_type(&events, "exchange");
    let of = |prefix: &str| -> Vec<(String, String, u64)> {
        ex.iter()
            .filter(|e| e["url"].as_str().unwrap().starts_with(prefix))
            .map(|e| {
                (
                    e["url"].as_str().unwrap().to_string(),
                    e["http_version"].as_str().unwrap().to_string(),
                    e["status"].as_u64().unwrap(),
                )
            })
            .collect()
    };
    let h = |v: &str| v.to_string();
    assert_eq!(
        of(&https(B)),
        [
            (info(&https(B)), h("HTTP/2"), 200),
            (zip(&https(B)), h("HTTP/2"), 200),
            (info(&https(B)), h("HTTP/1.1"), 200),
        ]
    );
    let plain_seen = of(&plain);
    assert_eq!(
        plain_seen[..2],
        [
            (info(&plain), h("HTTP/1.1"), 200),
            (zip(&plain), h("HTTP/1.1"), 200)
        ]
    );
    // The go command's plain requests, exactly as -x printed them.
    let go_seen: Vec<(String, u64)> = plain_seen[2..]
        .iter()
        .map(|(u, _, s)| (u.clone(), *s))
        .collect();
    let mut go_seen = go_seen;
    go_seen.sort();
    assert_eq!(go_seen, xlog_wire(&xlog, false));
    // The two curl zips (h2 and plain) were hashed.
    let sums = h1_sums();
    let hashed: Vec<&str> = of_type(&events, "hash")
        .iter()
        .filter_map(|h| h["h1"].as_str())
        .collect();
    assert!(
        hashed.len() >= 3 && hashed.iter().all(|h| sums.contains(h)),
        "{hashed:?}"
    );
    let conns = of_type(&events, "connection");
    let plain_conns: Vec<_> = conns.iter().filter(|c| c["tls"].is_null()).collect();
    assert!(!plain_conns.is_empty() && plain_conns.iter().all(|c| c["protocol"] == "http1"));
    assert!(conns
        .iter()
        .any(|c| c["tls"]["alpn_selected"] == "http/1.1"));
}

#[test]
fn rst_stream_and_goaway_from_the_server_are_exchange_errors() {
    if !can_run(
        "rst_stream_and_goaway_from_the_server_are_exchange_errors",
        LIVE,
    ) {
        return;
    }
    let w = world("c");
    let run = w.trusting();
    let (ok, rst_log) = w.go(&go127(), &https(RST), &["mod", "download", "-x", YAML]);
    assert!(!ok, "the zip was cut: the go command must fail");
    assert!(rst_log.contains("INTERNAL_ERROR"), "{rst_log}");
    let (ok, goaway_log) = w.go(&go127(), &https(GOAWAY), &["mod", "download", "-x", YAML]);
    assert!(!ok);
    assert!(goaway_log.contains("GOAWAY"), "{goaway_log}");
    let out = run.stop();
    let events = parse_ndjson(&out.stdout);
    let zips: Vec<&Value> = of_type(&events, "exchange")
        .into_iter()
        .filter(|e| e["go"]["kind"] == "zip")
        .collect();
    let error_of = |port: u16| -> String {
        let z = zips
            .iter()
            .find(|e| e["url"].as_str().unwrap().contains(&format!(":{port}/")))
            .unwrap_or_else(|| panic!("no zip exchange on {port}: {zips:?}"));
        assert_eq!(z["status"], 200, "{z}");
        assert!(z["resp_bytes"].as_u64().unwrap() > 0, "{z}");
        // The hash of a cut zip is given up, not computed on half of it.
        let h = of_type(&events, "hash")
            .into_iter()
            .find(|h| h["exchange"] == z["id"])
            .unwrap_or_else(|| panic!("no hash event for {z}"));
        assert!(h["h1"].is_null() && h["error"].is_string(), "{h}");
        z["error"].as_str().unwrap_or("").to_string()
    };
    assert_eq!(error_of(RST), "stream reset: INTERNAL_ERROR");
    let g = error_of(GOAWAY);
    assert!(g.starts_with("goaway: INTERNAL_ERROR"), "{g}");
    assert!(g.contains("goproxyd -mode goaway"), "{g}");
}

#[test]
fn an_upstream_that_does_not_verify_gets_a_502_naming_the_issuer() {
    if !can_run(
        "an_upstream_that_does_not_verify_gets_a_502_naming_the_issuer",
        LIVE,
    ) {
        return;
    }
    let w = world("d");
    // Not told to trust the fixture's CA: its chain is what a TLS-inspecting proxy shows.
    let run = w.mitm(&[]);
    let (ok, xlog) = w.go(&go127(), &https(B), &["mod", "download", "-x", TOML]);
    assert!(!ok, "nothing may be downloaded from an unverified server");
    assert!(xlog.contains("502 Bad Gateway"), "{xlog}");
    assert!(
        xlog.contains("gomodwatch test upstream CA"),
        "the 502's body names the issuer: {xlog}"
    );
    let (_, body, _) = w.curl(&[&format!(
        "{}/github.com/%21burnt%21sushi/toml/@v/list",
        https(B)
    )]);
    assert!(
        body.contains("TLS handshake failed") && body.contains("--upstream-ca"),
        "{body}"
    );
    let out = run.stop();
    let events = parse_ndjson(&out.stdout);
    assert!(of_type(&events, "exchange").is_empty());
    let conns = of_type(&events, "connection");
    assert!(!conns.is_empty());
    for c in conns {
        assert_eq!(c["error"], "tls", "{c}");
        assert_eq!(
            c["upstream"]["issuer"], "CN=gomodwatch test upstream CA",
            "{c}"
        );
    }
    assert!(
        out.stderr.contains("gomodwatch test upstream CA"),
        "{}",
        out.stderr
    );
}

#[test]
fn an_upstream_proxy_carries_the_tunnel_or_its_refusal_is_said() {
    let needs = [
        LIVE_CURL,
        &[
            Need::Program("openssl"),
            Need::Program("/usr/sbin/squid"),
            Need::Program("/usr/lib/squid/basic_ncsa_auth"),
        ],
    ]
    .concat();
    if !can_run(
        "an_upstream_proxy_carries_the_tunnel_or_its_refusal_is_said",
        &needs,
    ) {
        return;
    }
    let w = world("e");
    // A real corporate proxy: squid asking for Basic credentials, tunnels to the fixture.
    let auth = squid_basic_auth(&w.dir, "user", "pa55-word");
    let allow = "http_access allow CONNECT goproxy_port authed";
    let (_squid, log) = squid_in(&w.ns.name, &w.dir, 3128, B, &auth, allow);
    let ca = w.upstream_ca.to_str().unwrap().to_string();
    let url = format!(
        "{}/github.com/%21burnt%21sushi/toml/@v/v1.2.0.info",
        https(B)
    );
    // Without credentials: the proxy's 407 becomes a 502 saying so.
    let run = w.mitm(&[
        "--upstream-ca",
        &ca,
        "--upstream-proxy",
        "http://127.0.0.1:3128",
    ]);
    // (A raw CONNECT: curl does not show the body of a refused CONNECT.)
    let answer = w.ns.run(|| {
        use std::io::{Read, Write};
        let mut c = std::net::TcpStream::connect("127.0.0.1:8080").unwrap();
        c.write_all(b"CONNECT goproxy.test:4452 HTTP/1.1\r\nHost: goproxy.test:4452\r\n\r\n")
            .unwrap();
        let mut s = String::new();
        let _ = c.read_to_string(&mut s);
        s
    });
    assert!(answer.starts_with("HTTP/1.1 502"), "{answer}");
    assert!(
        answer.contains("refused the CONNECT: 407") && answer.contains("realm \"corp\""),
        "{answer}"
    );
    let events = parse_ndjson(&run.stop().stdout);
    let c = of_type(&events, "connection");
    assert_eq!(c.len(), 1, "{c:?}");
    assert_eq!(c[0]["error"], "proxy", "{}", c[0]);
    assert_eq!(c[0]["upstream"]["proxy_status"], 407);
    assert_eq!(c[0]["upstream"]["proxy_realm"], "corp");
    assert_eq!(c[0]["upstream"]["proxy"], "http://127.0.0.1:3128");
    // With them: the download goes through the tunnel, decoded as usual.
    let run = w.mitm(&[
        "--upstream-ca",
        &ca,
        "--upstream-proxy",
        "http://user:pa55-word@127.0.0.1:3128",
    ]);
    let (ok, body, err) = w.curl(&["--http2", &url]);
    assert!(ok && body.contains("v1.2.0"), "{body} {err}");
    let out = run.stop();
    let events = parse_ndjson(&out.stdout);
    let shown = String::from_utf8_lossy(&out.stdout) + out.stderr.as_str();
    assert!(!shown.contains("pa55-word"), "the password is never shown");
    let ex = of_type(&events, "exchange");
    assert_eq!(ex.len(), 1);
    assert_eq!(
        (ex[0]["status"].as_u64(), ex[0]["http_version"].as_str()),
        (Some(200), Some("HTTP/2"))
    );
    assert!(ex[0]["timing"]["connect_ms"].as_f64().is_some());
    // squid saw the tunnel, authenticated; the refused one it logged as a 407.
    let (connects, text) = squid_connects(&log, B);
    assert!(
        connects
            .iter()
            .any(|l| l.contains("TCP_TUNNEL/200") && l.contains(" user ")),
        "{text}"
    );
    assert!(connects.iter().any(|l| l.contains("/407 ")), "{text}");
}

/// An RSA certificate for goproxy.test and the CA that signed it, made with openssl
/// (rcgen's ring backend cannot generate RSA keys); (ca, cert, key).
fn rsa_server_cert(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let p = |f: &str| dir.join(f).to_str().unwrap().to_string();
    std::fs::write(dir.join("rsa.ext"), "subjectAltName=DNS:goproxy.test\n").unwrap();
    let steps: [&[&str]; 3] = [
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            &p("rsa-ca.key"),
            "-out",
            &p("rsa-ca.pem"),
            "-days",
            "2",
            "-subj",
            "/CN=gomodwatch test RSA CA",
        ],
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            &p("rsa.key"),
            "-out",
            &p("rsa.csr"),
            "-subj",
            "/CN=goproxy.test",
        ],
        &[
            "x509",
            "-req",
            "-in",
            &p("rsa.csr"),
            "-CA",
            &p("rsa-ca.pem"),
            "-CAkey",
            &p("rsa-ca.key"),
            "-CAcreateserial",
            "-out",
            &p("rsa.pem"),
            "-days",
            "1",
            "-extfile",
            &p("rsa.ext"),
        ],
    ];
    for args in steps {
        let out = Command::new("openssl").args(args).output().unwrap();
        assert!(out.status.success(), "openssl {args:?}: {out:?}");
    }
    (
        dir.join("rsa-ca.pem"),
        dir.join("rsa.pem"),
        dir.join("rsa.key"),
    )
}

#[test]
fn a_tls12_rsa_server_is_reached_whatever_suites_the_client_offers() {
    let needs = [LIVE_CURL, &[Need::Program("openssl")]].concat();
    if !can_run(
        "a_tls12_rsa_server_is_reached_whatever_suites_the_client_offers",
        &needs,
    ) {
        return;
    }
    let w = world("r");
    let (ca, crt, key) = rsa_server_cert(&w.dir);
    let _server = goproxyd(
        Some(&w.ns.name),
        &format!("127.0.0.1:{TLS12_RSA}"),
        &[
            "-cert",
            crt.to_str().unwrap(),
            "-key",
            key.to_str().unwrap(),
            "-tls-max",
            "1.2",
        ],
    );
    let run = w.mitm(&["--upstream-ca", ca.to_str().unwrap()]);
    let url = format!(
        "{}/github.com/%21burnt%21sushi/toml/@v/v1.2.0.info",
        https(TLS12_RSA)
    );
    // The server picks an ECDHE_RSA suite upstream. A client offering only those for TLS
    // 1.2 (and TLS 1.3 besides) must not be held to it: gomodwatch's leaf is ECDSA. A client
    // that offers the ECDSA twin gets it: TLS 1.2 with the bulk cipher the server chose.
    let rsa_only =
        "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-CHACHA20-POLY1305";
    let suite = |verbose: &str| -> String {
        let line = verbose.lines().find(|l| l.contains("SSL connection using"));
        let line = line.unwrap_or_else(|| panic!("no cipher in {verbose}"));
        line.replace("ECDHE-RSA-", "ECDHE-ECDSA-")
    };
    for (args, twin) in [
        (&["--ciphers", rsa_only][..], false),
        (&["--tls-max", "1.2"][..], true),
        (&[][..], true),
    ] {
        let mut all = args.to_vec();
        all.extend(["-v", "-o", "/dev/null", "-w", "%{http_code}", url.as_str()]);
        let (ok, out, err) = w.curl(&all);
        assert!(ok && out == "200", "curl {args:?}: {out} {err}");
        if twin {
            let ca = ca.to_str().unwrap();
            all.extend(["--noproxy", "*", "--cacert", ca]);
            let (ok, _, direct) = w.curl(&all);
            assert!(ok, "{direct}");
            assert_eq!(suite(&err), suite(&direct), "curl {args:?}");
        }
    }
    let out = run.stop();
    let events = parse_ndjson(&out.stdout);
    let conns = of_type(&events, "connection");
    assert_eq!(conns.len(), 3, "{}", out.stderr);
    assert!(
        conns.iter().all(|c| c["tls"]["version"] == "TLS 1.2"),
        "{conns:?}"
    );
}

#[test]
fn the_key_log_covers_both_legs_and_is_private() {
    if !can_run("the_key_log_covers_both_legs_and_is_private", LIVE_CURL) {
        return;
    }
    let w = world("f");
    let keylog = w.dir.join("keys.log");
    let ca = w.upstream_ca.to_str().unwrap().to_string();
    let k = keylog.to_str().unwrap().to_string();
    let run = w.mitm(&["--upstream-ca", &ca, "--keylog", &k]);
    let (ok, _, err) = w.curl(&[&format!(
        "{}/github.com/%21burnt%21sushi/toml/@v/list",
        https(B)
    )]);
    assert!(ok, "{err}");
    run.stop();
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&keylog).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    let text = std::fs::read_to_string(&keylog).unwrap();
    // Two handshakes (client side, server side): two client randoms with traffic secrets.
    let mut randoms: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("CLIENT_TRAFFIC_SECRET_0 "))
        .filter_map(|l| l.split(' ').nth(1))
        .collect();
    randoms.sort();
    randoms.dedup();
    assert_eq!(randoms.len(), 2, "{text}");
    // An existing key log is not overwritten without --force.
    let out = Command::new("ip")
        .args([
            "netns",
            "exec",
            &w.ns.name,
            bin(),
            "--mitm",
            "127.0.0.1:8081",
            "--keylog",
            &k,
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--force"));
}
