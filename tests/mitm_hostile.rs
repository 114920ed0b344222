//! The MITM proxy under hostile or broken peers: the real gomodwatch binary (`--mitm
//! 127.0.0.1:PORT --json`) in a loopback-only network namespace, often under a lowered
//! descriptor limit (prlimit), met by real clients (curl, raw sockets) and by the fixture
//! GOPROXY server (goproxyd, over TLS with a test CA; `-mode hang` for a server that never
//! answers). Timeouts are configured short and every wait has a generous margin: nothing
//! here measures speed.

// Linux only: built on tests/common/fixture.rs (real go commands, network namespaces,
// root); tests/darwin-check.sh type-checks the other tests for macOS.
#![cfg(target_os = "linux")]

mod common;

use common::fixture::*;
use common::*;
use serde_json::Value;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

const NEEDS: &[Need] = &[
    Need::Root,
    Need::Program("ip"),
    Need::Program("curl"),
    Need::Program("prlimit"),
    Need::Program("/usr/bin/go"),
];

const PROXY: &str = "127.0.0.1:8080";
const GOOD: u16 = 4481; // goproxyd over TLS
const HANG: u16 = 4482; // goproxyd over TLS, -mode hang
const PLAIN_HANG: u16 = 4483; // goproxyd plain http, -mode hang

struct World {
    ns: LoNetns,
    dir: PathBuf,
    upstream_ca: PathBuf,
    _servers: Vec<Proc>,
}

fn refs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

fn world(tag: &str) -> World {
    let ns = LoNetns::create(&format!("h{tag}"));
    let dir = tempdir(&format!("mitm-hostile-{tag}"));
    let (ca, crt, key) = server_certs(&dir, "gomodwatch hostile test CA", &["goproxy.test"]);
    let tls = vec![
        "-cert".to_string(),
        crt.to_str().unwrap().to_string(),
        "-key".to_string(),
        key.to_str().unwrap().to_string(),
    ];
    let n = Some(ns.name.as_str());
    let mut hang = tls.clone();
    hang.extend(["-mode".to_string(), "hang".to_string()]);
    let servers = vec![
        goproxyd(n, &format!("127.0.0.1:{GOOD}"), &refs(&tls)),
        goproxyd(n, &format!("127.0.0.1:{HANG}"), &refs(&hang)),
        goproxyd(n, &format!("127.0.0.1:{PLAIN_HANG}"), &["-mode", "hang"]),
    ];
    World {
        ns,
        dir,
        upstream_ca: ca,
        _servers: servers,
    }
}

impl World {
    fn proxy<'a>(&'a self, listen: &'a str, extra: &'a [&'a str]) -> Mitm<'a> {
        Mitm {
            listen,
            ca_dir: self.dir.join("gca"),
            upstream_ca: Some(&self.upstream_ca),
            extra,
        }
    }

    fn mitm(&self, nofile: u32, extra: &[&str]) -> LiveRun {
        self.proxy(PROXY, extra)
            .start_limited(&self.ns.name, nofile)
    }

    /// curl through the proxy: (CONNECT status, final status, body, stderr).
    fn curl(&self, proxy: &str, args: &[&str]) -> (u32, u32, String, String) {
        let ca = self.dir.join("gca/ca.pem");
        let out = Command::new("ip")
            .args([
                "netns",
                "exec",
                &self.ns.name,
                "curl",
                "-sS",
                "--max-time",
                "60",
            ])
            .args(["--proxy", &format!("http://{proxy}"), "--cacert"])
            .arg(ca)
            .args(["-w", "\n%{http_connect} %{http_code}"])
            .args(args)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let (body, codes) = stdout.rsplit_once('\n').unwrap_or(("", &stdout));
        let mut c = codes.split(' ').map(|c| c.trim().parse().unwrap_or(0));
        (
            c.next().unwrap_or(0),
            c.next().unwrap_or(0),
            body.to_string(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// A raw client socket to `addr` inside the namespace.
    fn connect(&self, addr: &str) -> TcpStream {
        let addr = addr.to_string();
        let s = self
            .ns
            .run(move || TcpStream::connect(addr).expect("connect to the proxy"));
        s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        s
    }

    /// Sends `bytes` on a new connection and reads the answer to its end.
    fn ask(&self, addr: &str, bytes: &[u8]) -> String {
        let mut s = self.connect(addr);
        s.write_all(bytes).unwrap();
        read_all(&mut s)
    }
}

fn read_all(s: &mut TcpStream) -> String {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) => {
                assert!(
                    e.kind() == std::io::ErrorKind::ConnectionReset,
                    "no answer: {e} (so far {:?})",
                    String::from_utf8_lossy(&out)
                );
                break;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Open descriptors of a process.
fn fds(pid: u32) -> usize {
    fd_numbers(pid).len()
}

/// The numbers of a process's open descriptors.
fn fd_numbers(pid: u32) -> Vec<usize> {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .collect()
}

/// Asserts that the descriptors `what` took are given back (within 10 s; two may stay for
/// the runtime's own use).
fn descriptors_given_back(pid: u32, before: usize, what: &str) {
    let after = eventually(Duration::from_secs(10), || fds(pid), |n| *n <= before + 2);
    assert!(
        after <= before + 2,
        "descriptors before {before}, after {what}: {after}"
    );
    eprintln!("descriptors: {before} before {what}, {after} after");
}

/// Waits (at most `limit`) until `ok` holds; the last value either way.
fn eventually<T>(limit: Duration, mut f: impl FnMut() -> T, ok: impl Fn(&T) -> bool) -> T {
    let end = Instant::now() + limit;
    loop {
        let v = f();
        if ok(&v) || Instant::now() > end {
            return v;
        }
        std::thread::sleep(Duration::from_millis(250));
    }
}

fn summary(events: &[Value]) -> &Value {
    of_type(events, "summary").pop().expect("a summary")
}

const LIST: &str = "/github.com/!burnt!sushi/toml/@v/list";

#[test]
fn idle_sockets_under_a_low_descriptor_limit_do_not_stop_service() {
    if !can_run(
        "idle_sockets_under_a_low_descriptor_limit_do_not_stop_service",
        NEEDS,
    ) {
        return;
    }
    let w = world("idle");
    let run = w.mitm(256, &["--mitm-timeouts", "head=8s"]);
    // 256 descriptors hold 104 clients (two each, some in reserve): said, and applied. The
    // warning comes after the "listening on" lines: wait for it, not for the first line.
    let said = eventually(
        Duration::from_secs(5),
        || run.stderr_so_far().join("\n"),
        |s| s.contains("lowered to"),
    );
    assert!(
        said.contains("--mitm-max-clients 512 lowered to 104"),
        "{said}"
    );
    let url = format!("https://goproxy.test:{GOOD}{LIST}");
    let (_, code, body, err) = w.curl(PROXY, &[&url]);
    assert_eq!(code, 200, "{err}");
    assert!(body.contains("v1.2.0"), "{body}");
    let before = eventually(Duration::from_secs(10), || fds(run.pid), |_| true);

    // 300 clients that connect and say nothing.
    let mut idle: Vec<TcpStream> = w.ns.run(|| {
        (0..300)
            .map(|_| TcpStream::connect(PROXY).expect("connect to the proxy"))
            .collect()
    });
    for s in &idle {
        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    }
    // Past the cap: answered 503 at once, and the proxy is still serving (with 503 too).
    let mut last = idle.pop().unwrap();
    let busy = read_all(&mut last);
    assert!(
        busy.starts_with("HTTP/1.1 503 Service Unavailable\r\n"),
        "{busy}"
    );
    assert!(busy.contains("--mitm-max-clients"), "{busy}");
    let (connect, _, _, err) = w.curl(PROXY, &[&url]);
    assert_eq!(connect, 503, "{err}");
    // The idle ones run out of time (408), and service comes back.
    let (_, code, _, err) = eventually(
        Duration::from_secs(30),
        || w.curl(PROXY, &[&url]),
        |r| r.1 == 200,
    );
    assert_eq!(code, 200, "{err}");
    let timed_out = read_all(&mut idle[0]);
    assert!(
        timed_out.starts_with("HTTP/1.1 408 Request Timeout\r\n"),
        "{timed_out}"
    );
    assert!(timed_out.contains("head="), "{timed_out}");
    drop(idle);
    // Every descriptor the idle clients took is given back.
    descriptors_given_back(run.pid, before, "300 idle clients");

    let out = run.stop();
    assert!(out.status.success(), "{}", out.stderr);
    let events = parse_ndjson(&out.stdout);
    let s = summary(&events);
    assert_eq!(s["mitm_client_limit"], 104, "{s}");
    let refused = s["mitm_refused"].as_u64().unwrap();
    assert!(refused >= 300 - 104, "{s}");
    assert!(
        out.stderr.contains("clients answered 503"),
        "{}",
        out.stderr
    );
}

#[test]
fn connect_to_itself_is_refused_in_every_alias_without_leaking() {
    if !can_run(
        "connect_to_itself_is_refused_in_every_alias_without_leaking",
        NEEDS,
    ) {
        return;
    }
    let w = world("self");
    let run = w.mitm(256, &[]);
    let before = fds(run.pid);
    let aliases = [
        "127.0.0.1:8080",
        "localhost:8080",
        "0.0.0.0:8080",
        "[::ffff:127.0.0.1]:8080",
    ];
    for round in 0..10 {
        for a in aliases {
            let req = format!("CONNECT {a} HTTP/1.1\r\nHost: {a}\r\n\r\n");
            let answer = w.ask(PROXY, req.as_bytes());
            assert!(
                answer.starts_with("HTTP/1.1 508 Loop Detected\r\n"),
                "{a} round {round}: {answer}"
            );
            assert!(
                answer.contains("gomodwatch's own proxy address"),
                "{answer}"
            );
        }
        let plain = w.ask(
            PROXY,
            b"GET http://127.0.0.1:8080/x HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n",
        );
        assert!(plain.starts_with("HTTP/1.1 508 "), "{plain}");
    }
    let (connect, _, _, err) = w.curl(PROXY, &["https://localhost:8080/"]);
    assert_eq!(connect, 508, "{err}");
    // Two of slack for anything opened lazily; a leak would be three per request.
    descriptors_given_back(run.pid, before, "51 self-CONNECTs");
    // Still serving.
    let url = format!("https://goproxy.test:{GOOD}{LIST}");
    let (_, code, _, err) = w.curl(PROXY, &[&url]);
    assert_eq!(code, 200, "{err}");
    let out = run.stop();
    let events = parse_ndjson(&out.stdout);
    let loops: Vec<&Value> = of_type(&events, "connection")
        .into_iter()
        .filter(|c| {
            c["upstream"]["message"]
                .as_str()
                .is_some_and(|m| m.contains("own proxy address"))
        })
        .collect();
    assert_eq!(loops.len(), 51, "{events:?}");
    assert!(loops.iter().all(|c| c["error"] == "refused"));
}

/// Runs `f` on a thread inside the network namespace `name`.
fn in_ns<T: Send + 'static>(name: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let path = format!("/var/run/netns/{name}");
    std::thread::spawn(move || {
        use std::os::fd::AsRawFd;
        let ns = std::fs::File::open(&path).unwrap();
        // SAFETY: setns on a namespace file just opened; it affects this thread only.
        assert_eq!(
            unsafe { libc::setns(ns.as_raw_fd(), libc::CLONE_NEWNET) },
            0
        );
        f()
    })
    .join()
    .unwrap()
}

fn ask_on(mut s: TcpStream, bytes: &[u8]) -> String {
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    s.write_all(bytes).unwrap();
    read_all(&mut s)
}

#[test]
fn beyond_loopback_it_warns_refuses_itself_and_keeps_details_home() {
    if !can_run(
        "beyond_loopback_it_warns_refuses_itself_and_keeps_details_home",
        NEEDS,
    ) {
        return;
    }
    let w = world("any");
    // gomodwatch on 0.0.0.0 in a namespace behind a veth pair: the host is a remote client.
    let net = Netns::create("hany", 231);
    let run = w.proxy("0.0.0.0:8090", &[]).start(Some(&net.name));
    // The warning comes after the "listening on" lines: wait for it, not for the first line.
    let said = eventually(
        Duration::from_secs(5),
        || run.stderr_so_far().join("\n"),
        |s| s.contains("anyone who can reach"),
    );
    assert!(
        said.contains("the MITM proxy listens on 0.0.0.0:8090: anyone who can reach this machine on port 8090 can use it as a proxy"),
        "{said}"
    );
    let remote = format!("{}:8090", net.ns_ip);
    let from_host = |bytes: String| {
        let s = TcpStream::connect(&remote).expect("connect from the host");
        ask_on(s, bytes.as_bytes())
    };
    let inside = |bytes: String| {
        in_ns(&net.name, move || {
            let s = TcpStream::connect("127.0.0.1:8090").expect("connect inside");
            ask_on(s, bytes.as_bytes())
        })
    };
    // Its own port on any local address is itself: the veth address, loopback, 0.0.0.0.
    for a in [remote.as_str(), "127.0.0.9:8090", "0.0.0.0:8090"] {
        let answer = from_host(format!("CONNECT {a} HTTP/1.1\r\n\r\n"));
        assert!(answer.starts_with("HTTP/1.1 508 "), "{a}: {answer}");
        let answer = inside(format!("CONNECT {a} HTTP/1.1\r\n\r\n"));
        assert!(answer.starts_with("HTTP/1.1 508 "), "{a}: {answer}");
    }
    // A remote client is not told whether a port refused; a loopback one is.
    let answer = from_host("CONNECT 127.0.0.1:9 HTTP/1.1\r\n\r\n".into());
    assert!(
        answer.starts_with("HTTP/1.1 502 Bad Gateway\r\n"),
        "{answer}"
    );
    assert!(
        answer.contains("details are in gomodwatch's output"),
        "{answer}"
    );
    assert!(!answer.contains("refused"), "{answer}");
    let answer = inside("CONNECT 127.0.0.1:9 HTTP/1.1\r\n\r\n".into());
    assert!(answer.starts_with("HTTP/1.1 502 "), "{answer}");
    assert!(answer.contains("connection refused"), "{answer}");
    // The NDJSON keeps the details of both.
    let out = run.stop();
    let events = parse_ndjson(&out.stdout);
    let refused: Vec<&Value> = of_type(&events, "connection")
        .into_iter()
        .filter(|c| c["server"] == "127.0.0.1:9")
        .collect();
    assert_eq!(refused.len(), 2, "{refused:?}");
    for c in refused {
        assert_eq!(c["error"], "refused", "{c}");
        assert!(c["upstream"]["message"]
            .as_str()
            .unwrap()
            .contains("connection refused"));
    }
}

#[test]
fn servers_that_never_answer_get_a_timeout_answer() {
    if !can_run("servers_that_never_answer_get_a_timeout_answer", NEEDS) {
        return;
    }
    let w = world("hang");
    // A socket that accepts and never speaks (not even TLS).
    let mute =
        w.ns.run(|| std::net::TcpListener::bind("127.0.0.1:4484").unwrap());
    let run = w.mitm(256, &["--mitm-timeouts", "tls=2s,first-byte=2s"]);
    // TLS never answered: the client's request in the tunnel gets a 504 that says so.
    let (connect, code, body, err) = w.curl(PROXY, &["--http1.1", "https://goproxy.test:4484/x"]);
    assert_eq!((connect, code), (200, 504), "{body} {err}");
    assert!(body.contains("TLS handshake timed out after 2s"), "{body}");
    // HTTP/1.1 in the tunnel, a server that accepts the request and never answers.
    let url = format!("https://goproxy.test:{HANG}{LIST}");
    let (_, code, body, err) = w.curl(PROXY, &["--http1.1", &url]);
    assert_eq!(code, 504, "{body} {err}");
    assert!(body.contains("sent no response within 2s"), "{body}");
    // HTTP/2: the owed stream gets its 504 and the connection a GOAWAY.
    let (_, code, body, err) = w.curl(PROXY, &["--http2", &url]);
    assert_eq!(code, 504, "{body} {err}");
    assert!(body.contains("sent no response within 2s"), "{body}");
    // Plain http through the proxy.
    let url = format!("http://goproxy.test:{PLAIN_HANG}{LIST}");
    let (_, code, body, err) = w.curl(PROXY, &[&url]);
    assert_eq!(code, 504, "{body} {err}");
    assert!(body.contains("no first byte"), "{body}");
    drop(mute);
    let out = run.stop();
    let events = parse_ndjson(&out.stdout);
    let conns = of_type(&events, "connection");
    let timeouts: Vec<&&Value> = conns.iter().filter(|c| c["error"] == "timeout").collect();
    assert_eq!(timeouts.len(), 3, "{conns:?}");
    let tls = conns
        .iter()
        .find(|c| c["server"] == "127.0.0.1:4484")
        .expect("the mute server's connection");
    assert_eq!(tls["error"], "tls", "{tls}");
    let hung: Vec<&Value> = of_type(&events, "exchange")
        .into_iter()
        .filter(|e| e["url"].as_str().unwrap_or("").ends_with(LIST))
        .collect();
    assert_eq!(hung.len(), 3, "{hung:?}");
    for e in hung {
        assert!(e["status"].is_null(), "{e}");
        assert_eq!(e["error"], "no-response", "{e}");
    }
}

#[test]
fn what_is_not_a_proxy_request_is_answered_400_at_once() {
    if !can_run("what_is_not_a_proxy_request_is_answered_400_at_once", NEEDS) {
        return;
    }
    let w = world("bad");
    // A long head timeout: an answer that comes is not the timeout's.
    let run = w.mitm(256, &["--mitm-timeouts", "head=60s"]);
    let before = fds(run.pid);
    let hello: &[u8] = &[
        0x16, 0x03, 0x01, 0x00, 0xc8, 0x01, 0x00, 0x00, 0xc4, 0x03, 0x03, 0xaa, 0xbb,
    ];
    for (what, bytes) in [
        ("garbage", b"\x00\x01\x02 hello there\r\n".as_slice()),
        ("a bare ClientHello", hello),
        (
            "origin-form GET",
            b"GET / HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n".as_slice(),
        ),
        (
            "CONNECT without a port",
            b"CONNECT goproxy.test HTTP/1.1\r\n\r\n".as_slice(),
        ),
    ] {
        let mut s = w.connect(PROXY);
        s.write_all(bytes).unwrap();
        // Not closed by us: the answer must come while the client still waits.
        let answer = read_all(&mut s);
        assert!(
            answer.starts_with("HTTP/1.1 400 Bad Request\r\n"),
            "{what}: {answer}"
        );
    }
    // A real client pointed at it as an https:// proxy.
    let out = Command::new("ip")
        .args([
            "netns",
            "exec",
            &w.ns.name,
            "curl",
            "-sS",
            "--max-time",
            "20",
            "--proxy-insecure",
        ])
        .args([
            "--proxy",
            "https://127.0.0.1:8080",
            "https://goproxy.test:4481/",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    descriptors_given_back(run.pid, before, "the bad requests");
    let out = run.stop();
    let events = parse_ndjson(&out.stdout);
    assert_eq!(summary(&events)["mitm_refused"], 0);
}

/// CPU time (user + system) a process has used, in clock ticks.
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // Fields after the command name (which is in parentheses and may hold spaces).
    let rest = &stat[stat.rfind(')').unwrap() + 2..];
    let f: Vec<&str> = rest.split(' ').collect();
    f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap()
}

/// Sets a running process's soft descriptor limit (its hard limit stays 256).
fn set_nofile(pid: u32, n: usize) {
    let ok = Command::new("prlimit")
        .args(["--pid", &pid.to_string(), &format!("--nofile={n}:256")])
        .status()
        .unwrap()
        .success();
    assert!(ok, "prlimit --pid {pid} --nofile={n}");
}

#[test]
fn out_of_descriptors_clients_get_503_and_the_proxy_does_not_spin() {
    if !can_run(
        "out_of_descriptors_clients_get_503_and_the_proxy_does_not_spin",
        NEEDS,
    ) {
        return;
    }
    let w = world("emfile");
    let run = w.mitm(256, &["--mitm-timeouts", "head=60s"]);
    let url = format!("https://goproxy.test:{GOOD}{LIST}");
    let (_, code, _, err) = eventually(
        Duration::from_secs(10),
        || w.curl(PROXY, &[&url]),
        |r| r.1 == 200,
    );
    assert_eq!(code, 200, "{err}");
    // The client cap (104 at 256 descriptors) cannot stop what follows: the limit is
    // lowered under the running proxy to what it holds now plus one, so the first idle
    // client takes the last descriptor and accept() fails with EMFILE for the next.
    let held = eventually(
        Duration::from_secs(10),
        || {
            let a = fds(run.pid);
            std::thread::sleep(Duration::from_millis(300));
            (a, fds(run.pid))
        },
        |(a, b)| a == b,
    )
    .1;
    // The limit bounds descriptor numbers, not their count. It is set just above the
    // proxy's spare descriptor (its /dev/null, which it gives up when accept() fails, as
    // it would be under a limit it started with), and idle clients take every number left
    // below it.
    let numbers = fd_numbers(run.pid);
    let spare = numbers
        .iter()
        .copied()
        .filter(|&n| n > 2)
        .filter(|n| {
            std::fs::read_link(format!("/proc/{}/fd/{n}", run.pid))
                .is_ok_and(|l| l == std::path::Path::new("/dev/null"))
        })
        .max()
        .expect("the proxy's spare descriptor");
    let limit = spare + 1;
    let free = limit - numbers.iter().filter(|&&n| n < limit).count();
    set_nofile(run.pid, limit);
    let idle: Vec<TcpStream> = (0..free).map(|_| w.connect(PROXY)).collect();
    let now = eventually(
        Duration::from_secs(5),
        || fds(run.pid),
        |n| *n >= held + free,
    );
    eprintln!(
        "descriptors {numbers:?}, spare {spare}, limit {limit}: {free} idle clients, {now} open"
    );

    // Every client that comes now is told why (the spare descriptor is given up for a
    // moment to take it), instead of waiting unanswered in the backlog.
    let cpu_before = cpu_ticks(run.pid);
    for _ in 0..5 {
        let answer = w.ask(
            PROXY,
            format!("CONNECT goproxy.test:{GOOD} HTTP/1.1\r\n\r\n").as_bytes(),
        );
        assert!(
            answer.starts_with("HTTP/1.1 503 Service Unavailable\r\n"),
            "{answer}"
        );
        assert!(answer.contains("no file descriptor is left"), "{answer}");
    }
    // Out of descriptors with nothing to accept, the loop backs off: a tight retry loop
    // would take all of these 3 s on a core (300 ticks).
    std::thread::sleep(Duration::from_secs(3));
    let spent = cpu_ticks(run.pid) - cpu_before;
    assert!(
        spent < 100,
        "the proxy used {spent} ticks of CPU in 3 s out of descriptors"
    );

    // Descriptors back: service resumes, and the refusals were counted and said.
    drop(idle);
    set_nofile(run.pid, 256);
    let (_, code, _, err) = eventually(
        Duration::from_secs(10),
        || w.curl(PROXY, &[&url]),
        |r| r.1 == 200,
    );
    assert_eq!(code, 200, "{err}");
    let out = run.stop();
    assert!(out.status.success(), "{}", out.stderr);
    let s = summary(&parse_ndjson(&out.stdout)).clone();
    assert!(s["mitm_refused"].as_u64().unwrap() >= 5, "{s}");
    assert!(
        out.stderr.contains("accepting a connection failed"),
        "{}",
        out.stderr
    );
}
