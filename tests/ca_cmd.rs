//! `gomodwatch ca ...`: the key is private and refused when it is not, an existing
//! directory keeps its mode, name constraints hold for a real client (curl, openssl), and
//! `trust --apply`/`untrust --apply` add the CA to Debian's bundle and take it out again
//! (root only; a guard restores the store whatever happens).

// Linux only: built on tests/common/fixture.rs (real go commands, network namespaces,
// root); tests/darwin-check.sh type-checks the other tests for macOS.
#![cfg(target_os = "linux")]

mod common;

use common::fixture::*;
use common::*;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn ca(dir: &Path, args: &[&str]) -> Output {
    Command::new(bin())
        .arg("ca")
        .args(args)
        .arg("--ca-dir")
        .arg(dir)
        .output()
        .unwrap()
}

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn init_makes_a_private_key_and_refuses_a_loose_one() {
    let dir = tempdir("ca-init").join("gca");
    let out = ca(&dir, &["init"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(mode(&dir.join("ca.key")), 0o600);
    assert_eq!(mode(&dir), 0o700);
    let pem = std::fs::read_to_string(dir.join("ca.pem")).unwrap();
    // Again: kept as it is.
    let out = ca(&dir, &["init"]);
    assert!(text(&out).contains("already exists"), "{}", text(&out));
    assert_eq!(std::fs::read_to_string(dir.join("ca.pem")).unwrap(), pem);
    // path and show.
    let out = ca(&dir, &["path"]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        dir.join("ca.pem").to_str().unwrap()
    );
    assert_eq!(String::from_utf8_lossy(&ca(&dir, &["show"]).stdout), pem);
    // A key others can read is refused, and left as it is.
    std::fs::set_permissions(dir.join("ca.key"), std::fs::Permissions::from_mode(0o640)).unwrap();
    for args in [&["init"][..], &["show"], &["path"]] {
        let out = ca(&dir, args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let t = text(&out);
        assert!(
            t.contains("readable by other users") && t.lines().count() == 1,
            "{t}"
        );
    }
    assert_eq!(mode(&dir.join("ca.key")), 0o640);
    std::fs::set_permissions(dir.join("ca.key"), std::fs::Permissions::from_mode(0o600)).unwrap();
    // A key that belongs to someone else is refused (root can hand it to nobody).
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        std::os::unix::fs::chown(dir.join("ca.key"), Some(65534), None).unwrap();
        let out = ca(&dir, &["show"]);
        assert_eq!(out.status.code(), Some(1));
        assert!(
            text(&out).contains("belongs to another user"),
            "{}",
            text(&out)
        );
    }
    // Other constraints than the CA has: refused, nothing replaced.
    let out = ca(&dir, &["init", "--permit", "proxy.golang.org"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(std::fs::read_to_string(dir.join("ca.pem")).unwrap(), pem);
    // No CA yet: said in one line.
    let out = ca(&tempdir("ca-none").join("x"), &["path"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out).contains("run gomodwatch ca init"));
    // A bad name: usage.
    assert_eq!(
        ca(&dir, &["init", "--permit", "*.golang.org"])
            .status
            .code(),
        Some(2)
    );
}

#[test]
fn an_existing_ca_dir_keeps_its_mode_and_an_open_one_is_refused() {
    let dir = tempdir("ca-dir").join("mine");
    std::fs::create_dir(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o751)).unwrap();
    let out = ca(&dir, &["init"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(mode(&dir), 0o751);
    let open = tempdir("ca-dir").join("open");
    std::fs::create_dir(&open).unwrap();
    std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o777)).unwrap();
    let out = ca(&open, &["init"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out).contains("writable by other users"),
        "{}",
        text(&out)
    );
    assert_eq!(mode(&open), 0o777);
    assert!(!open.join("ca.key").exists());
    // The MITM refuses it the same way (it used to chmod the directory).
    let out = Command::new(bin())
        .args(["--mitm", "127.0.0.1:0", "--json", "--ca-dir"])
        .arg(&open)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(mode(&open), 0o777);
}

/// A leaf for `name` signed by the CA in `dir` (as a leaked key could), verified by
/// openssl against that CA alone: (verified, openssl's words).
fn openssl_verifies(dir: &Path, name: &str) -> (bool, String) {
    let key =
        rcgen::KeyPair::from_pem(&std::fs::read_to_string(dir.join("ca.key")).unwrap()).unwrap();
    // The CA's name as gomodwatch gives it (crates/mitm/src/ca.rs): its signatures chain.
    let mut params = rcgen::CertificateParams::default();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "gomodwatch local CA");
    params
        .distinguished_name
        .push(rcgen::DnType::OrganizationName, "gomodwatch");
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Constrained(0));
    let issuer = rcgen::Issuer::new(params, key);
    let leaf_key = rcgen::KeyPair::generate().unwrap();
    let leaf = rcgen::CertificateParams::new(vec![name.to_string()])
        .unwrap()
        .signed_by(&leaf_key, &issuer)
        .unwrap();
    let path = dir.join(format!("leaf-{name}.pem"));
    std::fs::write(&path, leaf.pem()).unwrap();
    let out = Command::new("openssl")
        .args(["verify", "-CAfile"])
        .arg(dir.join("ca.pem"))
        .arg(&path)
        .output()
        .unwrap();
    (out.status.success(), text(&out))
}

#[test]
fn name_constraints_hold_for_real_clients_and_the_mitm_refuses_other_names() {
    if !can_run(
        "name_constraints_hold_for_real_clients_and_the_mitm_refuses_other_names",
        &[
            Need::Root,
            Need::Program("ip"),
            Need::Program("curl"),
            Need::Program("openssl"),
        ],
    ) {
        return;
    }
    let ns = LoNetns::create("canc");
    // A second name on loopback, outside the constraints.
    std::fs::write(
        PathBuf::from("/etc/netns").join(&ns.name).join("hosts"),
        "127.0.0.1 localhost goproxy.test other.test\n::1 localhost\n",
    )
    .unwrap();
    let dir = tempdir("ca-nc");
    let (up_ca, crt, key) = server_certs(&dir, "upstream CA", &["goproxy.test", "other.test"]);
    let _server = goproxyd(
        Some(&ns.name),
        "127.0.0.1:4471",
        &[
            "-cert",
            crt.to_str().unwrap(),
            "-key",
            key.to_str().unwrap(),
        ],
    );
    let gca = dir.join("gca");
    let out = ca(&gca, &["init", "--permit", "goproxy.test,proxy.golang.org"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&ca(&gca, &["show"])).contains("may certify only goproxy.test, proxy.golang.org"));
    // What a client does with leaves from this CA: within the constraints, fine; outside,
    // refused.
    let (ok, why) = openssl_verifies(&gca, "goproxy.test");
    assert!(ok, "{why}");
    let (ok, why) = openssl_verifies(&gca, "other.test");
    assert!(!ok && why.contains("permitted subtree violation"), "{why}");
    // Through the MITM: the permitted name is intercepted and decoded; the other one is
    // refused with a 403 saying why, never handed a leaf.
    let run = Mitm {
        listen: "127.0.0.1:8080",
        ca_dir: gca.clone(),
        upstream_ca: Some(&up_ca),
        extra: &[],
    }
    .start(Some(&ns.name));
    let curl = |url: &str| {
        Command::new("ip")
            .args([
                "netns",
                "exec",
                &ns.name,
                "curl",
                "-sS",
                "-o",
                "/dev/null",
                "-w",
                "%{http_code}",
            ])
            .args(["--proxy", "http://127.0.0.1:8080", "--cacert"])
            .arg(gca.join("ca.pem"))
            .arg(url)
            .output()
            .unwrap()
    };
    let path = "/github.com/%21burnt%21sushi/toml/@v/v1.2.0.info";
    let out = curl(&format!("https://goproxy.test:4471{path}"));
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "200");
    let out = curl(&format!("https://other.test:4471{path}"));
    assert!(!out.status.success());
    assert!(text(&out).contains("403"), "{}", text(&out));
    let got = run.stop();
    let events = parse_ndjson(&got.stdout);
    let ex = of_type(&events, "exchange");
    assert_eq!(ex.len(), 1, "{ex:?}");
    assert_eq!(ex[0]["url"], format!("https://goproxy.test:4471{path}"));
    let refused: Vec<_> = of_type(&events, "connection")
        .into_iter()
        .filter(|c| c["error"] == "tls")
        .collect();
    assert_eq!(refused.len(), 1, "{refused:?}");
    let msg = refused[0]["upstream"]["message"].as_str().unwrap();
    assert!(msg.contains("not intercepting other.test"), "{msg}");
}

/// Takes gomodwatch's CA out of the system store again, whatever the test did.
struct StoreGuard;

impl Drop for StoreGuard {
    fn drop(&mut self) {
        let anchor = Path::new("/usr/local/share/ca-certificates/gomodwatch.crt");
        if anchor.exists() {
            let _ = std::fs::remove_file(anchor);
            let _ = Command::new("update-ca-certificates").output();
        }
    }
}

const BUNDLE: &str = "/etc/ssl/certs/ca-certificates.crt";

fn body(pem: &str) -> String {
    pem.lines().filter(|l| !l.starts_with("-----")).collect()
}

#[test]
fn trust_and_untrust_apply_on_debian() {
    if !can_run(
        "trust_and_untrust_apply_on_debian",
        &[
            Need::Root,
            Need::Program("ip"),
            Need::Program("curl"),
            Need::Program("/usr/sbin/update-ca-certificates"),
        ],
    ) {
        return;
    }
    let anchor = Path::new("/usr/local/share/ca-certificates/gomodwatch.crt");
    assert!(
        !anchor.exists(),
        "{} exists already: not touching someone's trust",
        anchor.display()
    );
    let _guard = StoreGuard;
    let ns = LoNetns::create("catr");
    let dir = tempdir("ca-trust");
    let (up_ca, crt, key) = server_certs(&dir, "upstream CA", &["goproxy.test"]);
    let _server = goproxyd(
        Some(&ns.name),
        "127.0.0.1:4472",
        &[
            "-cert",
            crt.to_str().unwrap(),
            "-key",
            key.to_str().unwrap(),
        ],
    );
    let gca = dir.join("gca");
    assert!(ca(&gca, &["init"]).status.success());
    let ours = body(&std::fs::read_to_string(gca.join("ca.pem")).unwrap());
    let in_bundle = || body(&std::fs::read_to_string(BUNDLE).unwrap()).contains(&ours);
    assert!(!in_bundle());
    // Without --apply: the commands, nothing done.
    let out = ca(&gca, &["trust"]);
    assert!(text(&out).contains(&format!(
        "install -m 644 {} /usr/local/share/ca-certificates/gomodwatch.crt\nupdate-ca-certificates",
        gca.join("ca.pem").display()
    )));
    assert!(!anchor.exists());
    let _run = Mitm {
        listen: "127.0.0.1:8080",
        ca_dir: gca.clone(),
        upstream_ca: Some(&up_ca),
        extra: &[],
    }
    .start(Some(&ns.name));
    // curl with no options but the proxy: it trusts only the system store.
    let curl = || {
        Command::new("ip")
            .args(["netns", "exec", &ns.name, "curl", "-sS", "-o", "/dev/null"])
            .args(["--proxy", "http://127.0.0.1:8080"])
            .arg("https://goproxy.test:4472/github.com/%21burnt%21sushi/toml/@v/list")
            .output()
            .unwrap()
    };
    assert!(!curl().status.success());
    let out = ca(&gca, &["trust", "--apply"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(in_bundle());
    let out = curl();
    assert!(out.status.success(), "{}", text(&out));
    let out = ca(&gca, &["untrust", "--apply"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(!anchor.exists());
    assert!(!in_bundle());
    assert!(!curl().status.success());
    // A file at the anchor path that is not this CA is never replaced or removed.
    std::fs::write(anchor, std::fs::read_to_string(&up_ca).unwrap()).unwrap();
    for action in ["trust", "untrust"] {
        let out = ca(&gca, &[action, "--apply"]);
        assert_eq!(out.status.code(), Some(1), "{}", text(&out));
        assert!(text(&out).contains("is not this CA"));
    }
    assert_eq!(
        std::fs::read_to_string(anchor).unwrap(),
        std::fs::read_to_string(&up_ca).unwrap()
    );
}
