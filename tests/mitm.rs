//! MITM mode with real go commands (1.19 and 1.27) talking HTTPS to real GOPROXY servers in
//! a network namespace (the go command never sends loopback addresses through a proxy).
//! Upstream certificates come from a test CA that gomodwatch is told to trust.

// Linux only: built on tests/common/fixture.rs (real go commands, network namespaces,
// root); tests/darwin-check.sh type-checks the other tests for macOS.
#![cfg(target_os = "linux")]

mod common;

use common::fixture::*;
use common::*;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A test CA and a server certificate for `ip`, written as PEM files.
fn upstream_certs(dir: &Path, ip: &str) -> (PathBuf, PathBuf, PathBuf) {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "test upstream CA");
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params, ca_key);
    let key = KeyPair::generate().unwrap();
    let cert = CertificateParams::new(vec![ip.to_string()])
        .unwrap()
        .signed_by(&key, &issuer)
        .unwrap();
    let (ca, crt, k) = (
        dir.join("upstream-ca.pem"),
        dir.join("srv.pem"),
        dir.join("srv.key"),
    );
    std::fs::write(&ca, ca_cert.pem()).unwrap();
    std::fs::write(&crt, cert.pem()).unwrap();
    std::fs::write(&k, key.serialize_pem()).unwrap();
    (ca, crt, k)
}

struct Setup {
    ns: Netns,
    _a: Proc,
    _b: Proc,
    dir: PathBuf,
    upstream_ca: PathBuf,
    goproxy: String,
}

/// Proxy A serves only BurntSushi (404 for the rest), B everything; both over HTTPS.
fn setup(tag: &str, subnet: u8, ports: (u16, u16)) -> Setup {
    let ns = Netns::create(tag, subnet);
    let dir = tempdir(&format!("mitm-{tag}"));
    let (ca, crt, key) = upstream_certs(&dir, &ns.ns_ip);
    let tls = [
        "-cert",
        crt.to_str().unwrap(),
        "-key",
        key.to_str().unwrap(),
    ];
    let mut a_args = tls.to_vec();
    a_args.extend(["-only", "github.com/BurntSushi", "-miss", "404"]);
    let a = goproxyd(
        Some(&ns.name),
        &format!("{}:{}", ns.ns_ip, ports.0),
        &a_args,
    );
    let b = goproxyd(Some(&ns.name), &format!("{}:{}", ns.ns_ip, ports.1), &tls);
    let goproxy = format!(
        "https://{ip}:{},https://{ip}:{}",
        ports.0,
        ports.1,
        ip = ns.ns_ip
    );
    Setup {
        ns,
        _a: a,
        _b: b,
        dir,
        upstream_ca: ca,
        goproxy,
    }
}

/// Runs the go command through the proxy (HTTPS_PROXY, trusting gomodwatch's CA).
fn go_through(go: &Path, s: &Setup, proxy: &str, args: &[&str]) -> (bool, String) {
    let home = s.dir.join(format!("home-{}", args.len()));
    let out = hermetic_go_env(&mut Command::new(go), &home, &s.goproxy)
        .args(args)
        .env("HTTPS_PROXY", format!("http://{proxy}"))
        .env("SSL_CERT_FILE", s.dir.join("ca/ca.pem"))
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&home);
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn start_mitm(s: &Setup, addr: &str, trust_upstream: bool) -> LiveRun {
    Mitm {
        listen: addr,
        ca_dir: s.dir.join("ca"),
        upstream_ca: trust_upstream.then_some(s.upstream_ca.as_path()),
        extra: &["--goproxy", &s.goproxy],
    }
    .start(None)
}

fn module<'a>(events: &'a [Value], path: &str) -> &'a Value {
    of_type(events, "module")
        .into_iter()
        .find(|m| m["module"] == path)
        .unwrap_or_else(|| panic!("no module {path}"))
}

#[test]
fn https_fallback_chain_through_mitm_with_both_go_versions() {
    if !can_run(
        "https_fallback_chain_through_mitm_with_both_go_versions",
        LIVE,
    ) {
        return;
    }
    let s = setup("m", 41, (3451, 3452));
    for (go, retries) in [(go119(), 1), (go127(), 2)] {
        let addr = if retries == 1 {
            "127.0.0.1:18461"
        } else {
            "127.0.0.1:18462"
        };
        let run = start_mitm(&s, addr, true);
        let (ok, xlog) = go_through(
            &go,
            &s,
            addr,
            &[
                "mod",
                "download",
                "-x",
                "github.com/ghodss/yaml@v1.0.0",
                "github.com/BurntSushi/toml@v1.2.0",
            ],
        );
        assert!(ok, "go failed: {xlog}");
        let out = run.stop();
        assert!(out.status.success(), "{}", out.stderr);
        let events = parse_ndjson(&out.stdout);
        // Every request the go command printed is an exchange; Go ≥ 1.24 sends each 4xx
        // on https twice (its GOAUTH retry), which -x prints once.
        let x = parse_xlog(&xlog);
        let not_found = x.iter().filter(|r| r.status == Some(404)).count();
        assert!(not_found >= 3, "{xlog}");
        let exchanges = of_type(&events, "exchange");
        assert_eq!(
            exchanges.len(),
            x.len() + (retries - 1) * not_found,
            "{xlog}"
        );
        for e in &exchanges {
            assert_eq!(e["source"], "mitm");
            assert!(e["url"]
                .as_str()
                .unwrap()
                .starts_with("https://10.206.41.2:345"));
        }
        // The chain, with the retry folded into one attempt of count 2.
        let yaml = module(&events, "github.com/ghodss/yaml");
        let info: Vec<&Value> = yaml["attempts"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| a["kind"] == "info")
            .collect();
        assert_eq!(info.len(), 2, "{yaml}");
        assert_eq!(info[0]["status"], 404);
        assert_eq!(info[0]["count"], retries);
        assert_eq!(info[1]["status"], 200);
        assert_eq!(yaml["served_by"]["zip"], "https://10.206.41.2:3452");
        assert_eq!(yaml["outcome"], "ok");
        assert!(yaml["problem"].is_null(), "{yaml}");
        // Hashes are computed on the decrypted zips.
        let sums = std::fs::read_to_string(tools().tree.join("go.sum.expected")).unwrap();
        for m in ["github.com/ghodss/yaml", "github.com/BurntSushi/toml"] {
            let h1 = module(&events, m)["h1"].as_str().unwrap().to_string();
            assert!(sums.contains(&h1), "{m} {h1}");
        }
        // Connections show the upstream TLS handshake and the server's name.
        let conns = of_type(&events, "connection");
        assert!(!conns.is_empty());
        for c in conns {
            assert_eq!(c["tls"]["version"], "TLS 1.3", "{c}");
            assert!(c["tls"]["handshake_ms"].as_f64().is_some());
            assert!(c["error"].is_null(), "{c}");
        }
    }
    drop(s.ns);
}

#[test]
fn an_untrusted_upstream_certificate_is_refused_and_said() {
    if !can_run(
        "an_untrusted_upstream_certificate_is_refused_and_said",
        LIVE,
    ) {
        return;
    }
    let s = setup("u", 42, (3453, 3454));
    let run = start_mitm(&s, "127.0.0.1:18463", false);
    let (ok, xlog) = go_through(
        &go127(),
        &s,
        "127.0.0.1:18463",
        &["mod", "download", "-x", "github.com/BurntSushi/toml@v1.2.0"],
    );
    assert!(
        !ok,
        "the go command must fail when the upstream cannot be verified"
    );
    assert!(
        xlog.contains("Bad Gateway") || xlog.contains("502"),
        "{xlog}"
    );
    let out = run.stop();
    let events = parse_ndjson(&out.stdout);
    let conns = of_type(&events, "connection");
    assert!(!conns.is_empty());
    assert!(conns.iter().all(|c| c["error"] == "tls"), "{conns:?}");
    assert!(out.stderr.contains("certificate"), "{}", out.stderr);
    assert!(of_type(&events, "exchange").is_empty());
}

#[test]
fn the_ca_key_is_private_and_printable() {
    let dir = tempdir("mitm-ca");
    let out = Command::new(env!("CARGO_BIN_EXE_gomodwatch"))
        .args(["--print-ca", "--ca-dir"])
        .arg(dir.join("ca"))
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("-----BEGIN CERTIFICATE-----"));
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(dir.join("ca/ca.key"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    // The proxy binds loopback by default.
    let help = Command::new(env!("CARGO_BIN_EXE_gomodwatch"))
        .arg("--help")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&help.stdout).contains("127.0.0.1:8080"));
}
