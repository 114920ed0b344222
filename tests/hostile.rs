//! Hostile input: captures built to exhaust memory or time (SYN floods, constant and
//! backwards clocks, half-open flows, a flood of pipelined requests) and HTTP heads that are
//! strange but legal, or illegal in ways net/http rejects. Every capture is generated here,
//! written to a temporary directory, and replayed by the real binary
//! (`gomodwatch -r FILE --json`); each test checks what the user is told AND that the
//! replay's peak RSS stayed under 64 MiB (from `wait4`'s rusage, so no sampling race).
//! Nothing here measures wall-clock time; `benches/hostile.sh` shows that the time is linear.
//!
//! `cargo test --release --test hostile -- --exact generate_captures` with
//! `GMW_HOSTILE_DIR=DIR GMW_HOSTILE_SCALE=N` writes the benchmark's captures instead.

mod common;

use etherparse::PacketBuilder;
use gomodwatch::source::writer::{CaptureWriter, IfaceDesc};
use gomodwatch::vocab::{LinkType, Ts};
use serde_json::Value;
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The bound every replay must stay under.
const MAX_RSS_KIB: u64 = 64 * 1024;

// ---------------------------------------------------------------------------------------
// Writing captures

type Addr = ([u8; 4], u16);

/// A classic pcap of raw IPv4 packets (LINKTYPE_RAW: no link header to waste space on).
struct Pcap {
    w: CaptureWriter<BufWriter<File>>,
    buf: Vec<u8>,
}

#[derive(Clone, Copy, Default)]
struct Flags {
    syn: bool,
    ack: Option<u32>,
    fin: bool,
    rst: bool,
}

impl Pcap {
    fn create(path: &Path) -> Pcap {
        let out = BufWriter::with_capacity(1 << 20, File::create(path).expect("create capture"));
        let w = CaptureWriter::new(
            out,
            &[IfaceDesc {
                name: "raw",
                link: LinkType::Raw,
                snaplen: 262_144,
            }],
        )
        .expect("pcap header");
        Pcap {
            w,
            buf: Vec::with_capacity(2048),
        }
    }

    fn tcp(&mut self, ts: i64, src: Addr, dst: Addr, seq: u32, f: Flags, payload: &[u8]) {
        let mut b = PacketBuilder::ipv4(src.0, dst.0, 64).tcp(src.1, dst.1, seq, 65_535);
        if f.syn {
            b = b.syn();
        }
        if let Some(a) = f.ack {
            b = b.ack(a);
        }
        if f.fin {
            b = b.fin();
        }
        if f.rst {
            b = b.rst();
        }
        self.buf.clear();
        b.write(&mut self.buf, payload).expect("build packet");
        self.w
            .packet(0, Ts(ts), self.buf.len() as u32, &self.buf)
            .expect("write packet");
    }

    fn finish(mut self) {
        self.w.flush().expect("flush capture");
    }
}

/// One TCP connection being written: its sequence numbers advance as data is sent.
struct Conn {
    client: Addr,
    server: Addr,
    c_seq: u32,
    s_seq: u32,
}

const MSS: usize = 1448;

impl Conn {
    fn new(client: Addr, server: Addr) -> Conn {
        Conn {
            client,
            server,
            c_seq: 1_000,
            s_seq: 900_000,
        }
    }

    fn handshake(&mut self, p: &mut Pcap, ts: i64) {
        let syn = Flags {
            syn: true,
            ..Default::default()
        };
        p.tcp(ts, self.client, self.server, self.c_seq, syn, &[]);
        self.c_seq = self.c_seq.wrapping_add(1);
        let synack = Flags {
            syn: true,
            ack: Some(self.c_seq),
            ..Default::default()
        };
        p.tcp(
            ts + 50_000,
            self.server,
            self.client,
            self.s_seq,
            synack,
            &[],
        );
        self.s_seq = self.s_seq.wrapping_add(1);
        let ack = Flags {
            ack: Some(self.s_seq),
            ..Default::default()
        };
        p.tcp(ts + 60_000, self.client, self.server, self.c_seq, ack, &[]);
    }

    /// Client bytes in segments of at most one MSS.
    fn up(&mut self, p: &mut Pcap, ts: i64, data: &[u8]) {
        for piece in data.chunks(MSS) {
            let f = Flags {
                ack: Some(self.s_seq),
                ..Default::default()
            };
            p.tcp(ts, self.client, self.server, self.c_seq, f, piece);
            self.c_seq = self.c_seq.wrapping_add(piece.len() as u32);
        }
    }

    fn down(&mut self, p: &mut Pcap, ts: i64, data: &[u8]) {
        for piece in data.chunks(MSS) {
            let f = Flags {
                ack: Some(self.c_seq),
                ..Default::default()
            };
            p.tcp(ts, self.server, self.client, self.s_seq, f, piece);
            self.s_seq = self.s_seq.wrapping_add(piece.len() as u32);
        }
    }

    /// Both sides close.
    fn close(&mut self, p: &mut Pcap, ts: i64) {
        let fin = |ack| Flags {
            fin: true,
            ack: Some(ack),
            ..Default::default()
        };
        p.tcp(
            ts,
            self.client,
            self.server,
            self.c_seq,
            fin(self.s_seq),
            &[],
        );
        self.c_seq = self.c_seq.wrapping_add(1);
        p.tcp(
            ts,
            self.server,
            self.client,
            self.s_seq,
            fin(self.c_seq),
            &[],
        );
        self.s_seq = self.s_seq.wrapping_add(1);
    }
}

/// The i-th client address of a flood: distinct (address, port) pairs.
fn client(i: u64) -> Addr {
    let host = (i / 50_000) as u32;
    let port = 10_000 + (i % 50_000) as u16;
    let ip = 0x0a01_0000u32 + host;
    (ip.to_be_bytes(), port)
}

const SERVER: Addr = ([10, 0, 0, 1], 80);
const T0: i64 = 1_700_000_000_000_000_000;

/// How a flood's clock runs.
#[derive(Clone, Copy, Debug)]
enum Clock {
    /// Every packet has the same timestamp.
    Constant,
    /// Each packet 1 ms before the one before it.
    Backwards,
    /// Each packet 10 µs after the one before it.
    Spread,
}

impl Clock {
    fn at(self, i: u64) -> i64 {
        match self {
            Clock::Constant => T0,
            Clock::Backwards => T0 - i as i64 * 1_000_000,
            Clock::Spread => T0 + i as i64 * 10_000,
        }
    }
}

/// `n` SYNs from distinct clients, never answered.
fn syn_flood(path: &Path, n: u64, clock: Clock) {
    let mut p = Pcap::create(path);
    let syn = Flags {
        syn: true,
        ..Default::default()
    };
    for i in 0..n {
        p.tcp(clock.at(i), client(i), SERVER, 7, syn, &[]);
    }
    p.finish();
}

/// `n` connections that got their SYN-ACK and then nothing (half-open, as a server sees a
/// flood whose clients never complete the handshake), 10 µs apart.
fn half_open(path: &Path, n: u64) {
    let mut p = Pcap::create(path);
    for i in 0..n {
        let ts = Clock::Spread.at(i);
        let c = client(i);
        let syn = Flags {
            syn: true,
            ..Default::default()
        };
        p.tcp(ts, c, SERVER, 7, syn, &[]);
        let synack = Flags {
            syn: true,
            ack: Some(8),
            ..Default::default()
        };
        p.tcp(ts + 1_000, SERVER, c, 5_000, synack, &[]);
    }
    p.finish();
}

const LIST_REQ: &[u8] =
    b"GET /example.com/m/@v/list HTTP/1.1\r\nHost: proxy.test\r\nUser-Agent: hostile\r\n\r\n";

/// One connection carrying `n` pipelined requests that are never answered; the client
/// then closes its side.
fn pipelined(path: &Path, n: u64) {
    let mut p = Pcap::create(path);
    let mut c = Conn::new(client(0), SERVER);
    c.handshake(&mut p, T0);
    // Fill segments with whole requests, as a client writing them in a loop would.
    let per_segment = MSS / LIST_REQ.len();
    let mut sent = 0;
    let mut seg = Vec::with_capacity(MSS);
    let mut ts = T0 + 100_000;
    while sent < n {
        seg.clear();
        for _ in 0..per_segment.min((n - sent) as usize) {
            seg.extend_from_slice(LIST_REQ);
            sent += 1;
        }
        c.up(&mut p, ts, &seg);
        ts += 1_000;
    }
    let fin = Flags {
        fin: true,
        ack: Some(c.s_seq),
        ..Default::default()
    };
    p.tcp(ts, c.client, c.server, c.c_seq, fin, &[]);
    p.finish();
}

/// `n` connections that each hold as much as they can at once: a request head that never
/// ends (protocol state) and a segment from the future (out-of-order data), 10 µs apart.
/// Every bound is reached together: the flow table, the state bound, the reassembly budget.
fn everything(path: &Path, n: u64) {
    let mut p = Pcap::create(path);
    let head = b"GET /example.com/m/@v/list HTTP/1.1\r\nHost: proxy.test\r\nX-Pad: ";
    let ahead = vec![b'z'; 400];
    for i in 0..n {
        let ts = Clock::Spread.at(i);
        let mut c = Conn::new(client(i), SERVER);
        c.handshake(&mut p, ts);
        c.up(&mut p, ts + 70_000, head);
        // Further on: the bytes in between never come.
        let f = Flags {
            ack: Some(c.s_seq),
            ..Default::default()
        };
        let seq = c.c_seq.wrapping_add(100);
        p.tcp(ts + 80_000, c.client, c.server, seq, f, &ahead);
    }
    p.finish();
}

/// `n` connections that each hold one small segment from the future (the bytes before it
/// never come), 10 µs apart: the out-of-order budget and the table fill together.
fn out_of_order(path: &Path, n: u64) {
    let mut p = Pcap::create(path);
    let ahead = vec![b'z'; 400];
    for i in 0..n {
        let ts = Clock::Spread.at(i);
        let mut c = Conn::new(client(i), SERVER);
        c.handshake(&mut p, ts);
        let f = Flags {
            ack: Some(c.s_seq),
            ..Default::default()
        };
        p.tcp(
            ts + 80_000,
            c.client,
            c.server,
            c.c_seq.wrapping_add(100),
            f,
            &ahead,
        );
    }
    p.finish();
}

/// `n` flows each sending a 500-byte request's last 400 bytes first (held out of order),
/// then, once every flow has done so, its first 100 bytes and a close: a flow whose 400
/// bytes were held reassembles the request whole; one that found the shared out-of-order
/// budget spent gave its hole up at once (a gap).
fn out_of_order_then_filled(path: &Path, n: u64) {
    let mut p = Pcap::create(path);
    let mut req = b"GET /example.com/m/@v/list HTTP/1.1\r\nHost: proxy.test\r\nX-Pad: ".to_vec();
    req.resize(496, b'z');
    req.extend_from_slice(b"\r\n\r\n");
    let mut conns = Vec::new();
    for i in 0..n {
        let ts = Clock::Spread.at(i);
        let mut c = Conn::new(client(i), SERVER);
        c.handshake(&mut p, ts);
        let f = Flags {
            ack: Some(c.s_seq),
            ..Default::default()
        };
        let ahead = c.c_seq.wrapping_add(100);
        p.tcp(ts + 80_000, c.client, c.server, ahead, f, &req[100..]);
        conns.push(c);
    }
    for (i, c) in conns.iter_mut().enumerate() {
        let ts = Clock::Spread.at(n + i as u64) + 100_000;
        let f = Flags {
            ack: Some(c.s_seq),
            ..Default::default()
        };
        p.tcp(ts, c.client, c.server, c.c_seq, f, &req[..100]);
        c.c_seq = c.c_seq.wrapping_add(req.len() as u32);
        c.close(&mut p, ts + 10_000);
    }
    p.finish();
}

// ---------------------------------------------------------------------------------------
// Replaying

/// What a replay printed, boiled down.
#[derive(Debug, Default)]
struct Replay {
    connections: u64,
    /// Connection events by their `error` (`null` as "none").
    conn_errors: std::collections::BTreeMap<String, u64>,
    exchanges: u64,
    /// Exchange events by their `error`.
    ex_errors: std::collections::BTreeMap<String, u64>,
    /// Every exchange event, when asked for (small captures only).
    kept: Vec<Value>,
    stderr: String,
    /// Peak resident set size of the replay, KiB.
    max_rss_kib: u64,
    /// The summary's `limits` object.
    limits: Value,
}

fn error_of(line: &str) -> String {
    // Cheap: the events are flat enough that `"error":` appears once, at the top level,
    // except inside `go` (which has no `error` field).
    match line.find("\"error\":") {
        Some(i) => {
            let rest = &line[i + 8..];
            if rest.starts_with("null") {
                "none".into()
            } else {
                let v: Value = serde_json::Deserializer::from_str(rest)
                    .into_iter::<Value>()
                    .next()
                    .and_then(Result::ok)
                    .unwrap_or(Value::Null);
                v.as_str().unwrap_or("?").to_string()
            }
        }
        None => "absent".into(),
    }
}

/// Runs `gomodwatch -r FILE --json`, streaming its output (a flood makes millions of
/// lines), and reaps it with `wait4` to read its peak RSS.
// The child is reaped with `wait4` (not `Child::wait`), which also gives its rusage.
#[allow(clippy::zombie_processes)]
fn replay(path: &Path, keep_exchanges: bool) -> Replay {
    let mut child = Command::new(common::bin())
        .args(["-r", path.to_str().unwrap(), "--json"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run gomodwatch");
    let mut err_pipe = child.stderr.take().unwrap();
    let err_thread = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err_pipe.read_to_string(&mut s);
        s
    });
    let mut r = Replay::default();
    let mut out = BufReader::with_capacity(1 << 20, child.stdout.take().unwrap());
    let mut buf = Vec::with_capacity(4096);
    loop {
        buf.clear();
        if out.read_until(b'\n', &mut buf).expect("read output") == 0 {
            break;
        }
        let line = std::str::from_utf8(&buf).expect("UTF-8 output");
        if line.starts_with("{\"type\":\"connection\"") {
            r.connections += 1;
            *r.conn_errors.entry(error_of(line)).or_default() += 1;
        } else if line.starts_with("{\"type\":\"exchange\"") {
            r.exchanges += 1;
            *r.ex_errors.entry(error_of(line)).or_default() += 1;
            if keep_exchanges {
                r.kept.push(serde_json::from_str(line).expect("JSON line"));
            }
        } else if line.starts_with("{\"type\":\"summary\"") {
            let v: Value = serde_json::from_str(line).expect("summary line");
            r.limits = v["limits"].clone();
        }
    }
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: rusage is plain old data; wait4 fills it for our own child.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    let got = unsafe { libc::wait4(pid, &mut status, 0, &mut ru) };
    assert_eq!(got, pid, "wait4: {}", std::io::Error::last_os_error());
    r.stderr = err_thread.join().unwrap();
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "gomodwatch -r {} failed ({status}): {}",
        path.display(),
        r.stderr
    );
    r.max_rss_kib = ru.ru_maxrss as u64;
    r
}

/// A scratch directory removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("gmw-hostile-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }
    fn file(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn assert_bounded(what: &str, r: &Replay) {
    eprintln!("{what}: peak RSS {} KiB", r.max_rss_kib);
    assert!(
        r.max_rss_kib < MAX_RSS_KIB,
        "{what}: peak RSS {} KiB, over the {} KiB bound",
        r.max_rss_kib,
        MAX_RSS_KIB
    );
}

// ---------------------------------------------------------------------------------------
// Benchmark captures

/// Writes the captures `benches/hostile.sh` times, at the scale it asks for
/// (`GMW_HOSTILE_DIR`, `GMW_HOSTILE_SCALE`). Without them, a small set in a scratch
/// directory, each of which must replay cleanly with every connection reported: the
/// benchmark's inputs are checked here.
#[test]
fn generate_captures() {
    let scratch;
    let (dir, n) = match std::env::var("GMW_HOSTILE_DIR") {
        Ok(d) => {
            let n: u64 = std::env::var("GMW_HOSTILE_SCALE")
                .expect("GMW_HOSTILE_SCALE")
                .parse()
                .expect("GMW_HOSTILE_SCALE: a number");
            (PathBuf::from(d), n)
        }
        Err(_) => {
            scratch = Scratch::new("generated");
            (scratch.0.clone(), 2_000)
        }
    };
    std::fs::create_dir_all(&dir).unwrap();
    let files = [
        (
            "syn-const",
            &(|f: &Path| syn_flood(f, n, Clock::Constant)) as &dyn Fn(&Path),
        ),
        ("syn-back", &|f: &Path| syn_flood(f, n, Clock::Backwards)),
        ("syn-spread", &|f: &Path| syn_flood(f, n, Clock::Spread)),
        ("half-open", &|f: &Path| half_open(f, n)),
        ("pipelined", &|f: &Path| pipelined(f, n)),
        ("everything", &|f: &Path| everything(f, n)),
        ("out-of-order", &|f: &Path| out_of_order(f, n)),
    ];
    for (name, write) in files {
        let f = dir.join(format!("{name}-{n}.pcap"));
        write(&f);
        if std::env::var_os("GMW_HOSTILE_DIR").is_none() {
            let r = replay(&f, false);
            assert!(r.connections > 0, "{name}: no connection reported");
        }
    }
}

// ---------------------------------------------------------------------------------------
// Floods: bounded memory, every connection and request still reported

/// The flow table's limit (`decode::tcp::Limits::max_flows`).
const MAX_FLOWS: u64 = 32_768;

fn evicted_notice(stderr: &str) -> Option<u64> {
    let line = stderr
        .lines()
        .find(|l| l.contains("connections were evicted"))?;
    let n = line.split_whitespace().nth(1)?;
    n.parse().ok()
}

/// 1 M SYNs (30 times the table's limit; before the limit was enforced on insertion this
/// took about 1.5 GiB), all with the same timestamp, so the capture-time sweep never runs:
/// the table stays at its limit by evicting on insertion.
#[test]
fn syn_flood_with_one_timestamp() {
    let dir = Scratch::new("syn-const");
    let f = dir.file("flood.pcap");
    let n = 1_000_000;
    syn_flood(&f, n, Clock::Constant);
    let r = replay(&f, false);
    assert_eq!(r.connections, n);
    assert_eq!(
        r.conn_errors.get("no-answer"),
        Some(&n),
        "{:?}",
        r.conn_errors
    );
    assert_eq!(
        evicted_notice(&r.stderr),
        Some(n - MAX_FLOWS),
        "{}",
        r.stderr
    );
    // Counted where the user looks: the summary (and from it the report and status bar).
    assert_eq!(r.limits["flows_evicted"], n - MAX_FLOWS, "{}", r.limits);
    assert_bounded("1 M SYNs, one timestamp", &r);
}

/// Timestamps running backwards: nothing expires early, nothing piles up.
#[test]
fn syn_flood_with_backwards_timestamps() {
    let dir = Scratch::new("syn-back");
    let f = dir.file("flood.pcap");
    let n = 300_000;
    syn_flood(&f, n, Clock::Backwards);
    let r = replay(&f, false);
    assert_eq!(r.connections, n);
    assert_eq!(
        evicted_notice(&r.stderr),
        Some(n - MAX_FLOWS),
        "{}",
        r.stderr
    );
    assert_bounded("300 k SYNs, backwards timestamps", &r);
}

/// Handshakes answered and never completed, 10 µs apart (well inside the idle timeout).
#[test]
fn half_open_flows() {
    let dir = Scratch::new("half-open");
    let f = dir.file("half-open.pcap");
    let n = 100_000;
    half_open(&f, n);
    let r = replay(&f, false);
    assert_eq!(r.connections, n);
    // Answered by a SYN-ACK, so not "no-answer"; cut short by the eviction or the end.
    assert_eq!(
        r.conn_errors.get("truncated"),
        Some(&n),
        "{:?}",
        r.conn_errors
    );
    assert_bounded("100 k half-open flows", &r);
}

/// 200 k pipelined requests on one connection, never answered: 1024 wait for an answer
/// (and are reported unanswered at the end), the rest are reported at once as dropped.
#[test]
fn pipelined_requests_without_answers() {
    let dir = Scratch::new("pipelined");
    let f = dir.file("pipelined.pcap");
    let n = 200_000;
    pipelined(&f, n);
    let r = replay(&f, false);
    assert_eq!(r.exchanges, n, "every request is reported");
    let pending = 1024;
    assert_eq!(
        r.ex_errors.get("no-response"),
        Some(&pending),
        "{:?}",
        r.ex_errors
    );
    assert_eq!(
        r.ex_errors.get("dropped: too many pending requests"),
        Some(&(n - pending)),
        "{:?}",
        r.ex_errors
    );
    assert!(
        r.stderr
            .contains(&format!("{} pipelined requests were dropped", n - pending)),
        "{}",
        r.stderr
    );
    assert_eq!(r.limits["requests_dropped"], n - pending, "{}", r.limits);
    assert_eq!(r.limits["flows_evicted"], 0, "{}", r.limits);
    assert_bounded("200 k pipelined requests", &r);
}

/// Every bound reached at once: a full table, each flow holding a request head that never
/// ends and out-of-order bytes.
#[test]
fn every_bound_at_once() {
    let dir = Scratch::new("everything");
    let f = dir.file("everything.pcap");
    let n = 100_000;
    everything(&f, n);
    let r = replay(&f, false);
    assert_eq!(r.connections, n);
    assert!(
        evicted_notice(&r.stderr).is_some_and(|e| e > n / 2),
        "{}",
        r.stderr
    );
    assert_bounded("100 k flows holding state and out-of-order bytes", &r);
}

/// Many flows each holding one small out-of-order segment: the reassembly budget pays
/// for each segment's overhead, not only its bytes.
#[test]
fn out_of_order_bytes_in_many_flows() {
    let dir = Scratch::new("ooo");
    let f = dir.file("ooo.pcap");
    let n = 100_000;
    out_of_order(&f, n);
    let r = replay(&f, false);
    assert_eq!(r.connections, n);
    assert_eq!(r.conn_errors.get("gap"), Some(&n), "{:?}", r.conn_errors);
    assert_bounded("100 k flows with out-of-order bytes", &r);
}

/// The out-of-order budget itself (12 MiB for all flows, each held segment charged its
/// bytes and its bookkeeping): 30 000 flows (fewer than the flow table's 32 768, so no
/// eviction hides anything) each hold 400 bytes ahead of a hole, then fill the hole. The
/// flows that got room reassemble their request without a gap; the rest gave their hole up
/// when they found the budget spent. Without a budget no flow would have a gap; with only
/// the bytes charged (400 each), all 30 000 would fit; with overhead charged (~860 bytes a
/// first segment today) about 10 000 fit.
#[test]
fn out_of_order_budget_holds_what_fits_and_gaps_the_rest() {
    let dir = Scratch::new("ooo-budget");
    let f = dir.file("ooo-budget.pcap");
    let n = 30_000;
    out_of_order_then_filled(&f, n);
    let r = replay(&f, false);
    assert_eq!(r.connections, n, "{:?}", r.conn_errors);
    let gaps = r.conn_errors.get("gap").copied().unwrap_or(0);
    let whole = n - gaps;
    assert!(gaps > 0, "no flow gave its hole up: {:?}", r.conn_errors);
    // 12 MiB at 400 bytes plus an overhead of 512 to 1024 bytes a flow.
    let budget = 12 << 20;
    assert!(
        (budget / (400 + 1024)..=budget / (400 + 512)).contains(&whole),
        "{whole} flows reassembled whole, {gaps} gave up: {:?}",
        r.conn_errors
    );
    assert_eq!(r.limits["flows_evicted"], 0, "{}", r.limits);
    assert_bounded("30 k flows filling the out-of-order budget", &r);
}

// ---------------------------------------------------------------------------------------
// Heads: as lenient as net/http where it reads a message, as strict where it rejects one

/// One connection per case: a request whose response has the peculiarity, then a second
/// request answered normally (the connection must still be read after it).
fn strange_heads(path: &Path, cases: &[(&str, String)]) {
    let mut p = Pcap::create(path);
    for (i, (name, head)) in cases.iter().enumerate() {
        let ts = T0 + i as i64 * 1_000_000_000;
        let mut c = Conn::new(client(i as u64), SERVER);
        c.handshake(&mut p, ts);
        let req = format!("GET /example.com/{name}/@v/list HTTP/1.1\r\nHost: proxy.test\r\n\r\n");
        c.up(&mut p, ts + 100_000, req.as_bytes());
        let resp = format!("{head}\r\nv1.0.0\n");
        c.down(&mut p, ts + 200_000, resp.as_bytes());
        let next = "GET /example.com/next/@v/list HTTP/1.1\r\nHost: proxy.test\r\n\r\n";
        c.up(&mut p, ts + 300_000, next.as_bytes());
        let ok = "HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\nv2.0.0\n";
        c.down(&mut p, ts + 400_000, ok.as_bytes());
        c.close(&mut p, ts + 500_000);
    }
    p.finish();
}

#[test]
fn strange_but_legal_and_illegal_heads() {
    let mut many = String::from("HTTP/1.1 200 OK\r\n");
    for i in 0..200 {
        many.push_str(&format!("X-Header-{i}: {i}\r\n"));
    }
    many.push_str("Content-Length: 7\r\n");
    let cases = [
        ("many-headers", many),
        (
            "obs-fold",
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain;\r\n charset=utf-8\r\nContent-Length: 7\r\n"
                .into(),
        ),
        (
            "two-lengths",
            "HTTP/1.1 200 OK\r\nContent-Length: 7\r\nContent-Length: 70\r\n".into(),
        ),
        (
            "xchunked",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: xchunked\r\n".into(),
        ),
        ("plus", "HTTP/1.1 200 OK\r\nContent-Length: +7\r\n".into()),
    ];
    let dir = Scratch::new("heads");
    let f = dir.file("heads.pcap");
    strange_heads(&f, &cases);
    let r = replay(&f, true);
    let by_url = |name: &str| -> Vec<&Value> {
        r.kept
            .iter()
            .filter(|e| {
                e["url"]
                    .as_str()
                    .unwrap_or("")
                    .contains(&format!("/{name}/"))
            })
            .collect()
    };
    // Read like net/http reads them: the body is framed, nothing is wrong.
    for name in ["many-headers", "obs-fold"] {
        let ex = by_url(name);
        assert_eq!(ex.len(), 1, "{name}");
        assert_eq!(ex[0]["status"], 200, "{name}: {}", ex[0]);
        assert_eq!(ex[0]["error"], Value::Null, "{name}: {}", ex[0]);
        assert_eq!(ex[0]["resp_bytes"], 7, "{name}: {}", ex[0]);
    }
    assert_eq!(
        by_url("obs-fold")[0]["content_type"],
        "text/plain; charset=utf-8"
    );
    // Rejected like net/http rejects them: an error on the exchange, never "no-response".
    for (name, error) in [
        ("two-lengths", "malformed: conflicting Content-Length"),
        (
            "xchunked",
            "malformed: unsupported Transfer-Encoding \"xchunked\"",
        ),
        ("plus", "malformed: invalid Content-Length \"+7\""),
    ] {
        let ex = by_url(name);
        assert_eq!(ex.len(), 1, "{name}");
        assert_eq!(ex[0]["error"], error, "{name}: {}", ex[0]);
        assert_eq!(ex[0]["status"], Value::Null, "{name}: {}", ex[0]);
    }
    // Every connection went on to its next exchange.
    let next = by_url("next");
    assert_eq!(next.len(), cases.len());
    for ex in next {
        assert_eq!(
            (ex["status"].as_u64(), &ex["error"]),
            (Some(200), &Value::Null),
            "{ex}"
        );
    }
    assert_bounded("strange heads", &r);
}
