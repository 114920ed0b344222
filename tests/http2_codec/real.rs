//! Real go-command HTTP/2 traffic (decrypted from the project's https
//! captures by tests/data/h2/extract.sh): the decoder must find exactly the
//! requests and statuses the go command's `-x` log and the server's request
//! log show, and complete bodies.

use std::collections::BTreeMap;

use super::h2common::*;
use gomodwatch::decode::http2::codec::{Dir, Event, H2Conn, Limits, Ts};

#[derive(Debug, Default, Clone)]
struct Exchange {
    authority: String,
    path: String,
    ua: String,
    req_ts: Ts,
    status: u16,
    resp_ts: Ts,
    content_length: Option<usize>,
    body: Vec<u8>,
    ended: bool,
}

struct Decoded {
    /// By stream id.
    exchanges: BTreeMap<u32, Exchange>,
    problems: Vec<String>,
}

fn decode(conn: &RealConn) -> Decoded {
    let mut c = H2Conn::new(Limits::default());
    let mut d = Decoded {
        exchanges: BTreeMap::new(),
        problems: Vec::new(),
    };
    let mut last_ts = Ts(0);
    for (dir, ts, bytes) in &conn.chunks {
        last_ts = *ts;
        c.feed(*dir, *ts, bytes, &mut |e| on_event(&mut d, e));
    }
    c.close(last_ts, &mut |e| on_event(&mut d, e));
    assert_eq!(c.counters().broken, 0, "{}: {:?}", conn.name, c.counters());
    d
}

fn on_event(d: &mut Decoded, e: Event<'_>) {
    match e {
        Event::Request {
            stream,
            ts,
            authority,
            path,
            headers,
            method,
            ..
        } => {
            assert_eq!(method, "GET");
            let ua = headers
                .iter()
                .find(|(n, _)| n == "user-agent")
                .map(|(_, v)| v.clone())
                .unwrap_or_default();
            d.exchanges.insert(
                stream,
                Exchange {
                    authority,
                    path,
                    ua,
                    req_ts: ts,
                    ..Exchange::default()
                },
            );
        }
        Event::Response {
            stream,
            ts,
            status,
            headers,
            end_stream,
        } => {
            let x = d
                .exchanges
                .get_mut(&stream)
                .expect("response to a known request");
            x.status = status;
            x.resp_ts = ts;
            x.ended = end_stream;
            x.content_length = headers
                .iter()
                .find(|(n, _)| n == "content-length")
                .and_then(|(_, v)| v.parse().ok());
        }
        Event::Data {
            stream,
            dir: Dir::Down,
            data,
            end_stream,
            ..
        } => {
            let x = d
                .exchanges
                .get_mut(&stream)
                .expect("data of a known stream");
            x.body.extend_from_slice(data);
            x.ended |= end_stream;
        }
        other => d.problems.push(format!("{other:?}")),
    }
}

/// `# get https://HOST/PATH: 404 Not Found (0.001s)` lines: (host, path, status).
fn xlog_results(name: &str) -> Vec<(String, String, u16)> {
    let text = std::fs::read_to_string(data_dir().join(format!("{name}.xlog"))).expect("xlog");
    let mut v = Vec::new();
    for line in text.lines() {
        let Some(rest) = line.strip_prefix("# get https://") else {
            continue;
        };
        let Some((url, result)) = rest.split_once(": ") else {
            continue;
        };
        let (host, path) = url.split_at(url.find('/').expect("path"));
        let status = result.split(' ').next().unwrap().parse().expect("status");
        v.push((host.to_string(), path.to_string(), status));
    }
    v
}

/// From the server's log: (client address, uri, status) per request.
fn server_log(name: &str) -> Vec<(String, String, u16)> {
    let text =
        std::fs::read_to_string(data_dir().join(format!("{name}.server.jsonl"))).expect("jsonl");
    let field = |line: &str, key: &str| -> String {
        let pat = format!("\"{key}\": ");
        let at = line.find(&pat).expect(key) + pat.len();
        let rest = &line[at..];
        let rest = rest.strip_prefix('"').unwrap_or(rest);
        rest[..rest.find(['"', ',', '}']).unwrap()].to_string()
    };
    text.lines()
        .map(|l| {
            (
                field(l, "remote"),
                field(l, "uri"),
                field(l, "status").parse().unwrap(),
            )
        })
        .collect()
}

/// A zip file's end-of-central-directory record must account for the whole
/// body: the central directory ends exactly where the 22-byte EOCD begins.
fn zip_complete(b: &[u8]) -> bool {
    if b.len() < 22 || !b.starts_with(b"PK\x03\x04") {
        return false;
    }
    let e = &b[b.len() - 22..];
    let le32 = |i: usize| u32::from_le_bytes([e[i], e[i + 1], e[i + 2], e[i + 3]]) as usize;
    e.starts_with(b"PK\x05\x06") && le32(16) + le32(12) == b.len() - 22
}

/// The module zips as the same goproxyd served them over HTTP/1.1 in the
/// one-proxy-go127 capture (`tshark --export-objects http`): path suffix,
/// size, FNV-1a 64 of the content.
const ZIPS: [(&str, usize, u64); 3] = [
    (
        "/github.com/ghodss/yaml/@v/v1.0.0.zip",
        14047,
        0x5d88_1e87_9c30_eca8,
    ),
    (
        "/github.com/%21burnt%21sushi/toml/@v/v1.2.0.zip",
        222286,
        0xf587_3b68_f4ba_0abf,
    ),
    (
        "/gopkg.in/yaml.v2/@v/v2.2.2.zip",
        74136,
        0x9261_3268_6f5c_2c9e,
    ),
];

fn fnv1a(b: &[u8]) -> u64 {
    b.iter().fold(0xcbf2_9ce4_8422_2325, |h, &x| {
        (h ^ u64::from(x)).wrapping_mul(0x100_0000_01b3)
    })
}

fn check_capture(name: &str, go127: bool) {
    let conns = load(name);
    assert!(!conns.is_empty());
    let mut wire = Vec::new();
    let mut zips_seen = 0;
    let server = server_log(name);
    for conn in &conns {
        let d = decode(conn);
        assert!(d.problems.is_empty(), "{}: {:?}", conn.name, d.problems);
        let mut statuses: BTreeMap<u16, usize> = BTreeMap::new();
        let mut zips = Vec::new();
        let mut with_length = 0;
        for (id, x) in &d.exchanges {
            assert!(x.ended, "{} stream {id} not ended", conn.name);
            assert!(
                x.req_ts <= x.resp_ts,
                "{} stream {id}: response before request",
                conn.name
            );
            // goproxyd streams zips without Content-Length; where it is
            // given it must match, and zips must be whole (EOCD check).
            if let Some(n) = x.content_length {
                assert_eq!(
                    x.body.len(),
                    n,
                    "{} stream {id} {}: body vs Content-Length",
                    conn.name,
                    x.path
                );
                with_length += 1;
            }
            if x.path.ends_with(".zip") && x.status == 200 {
                assert!(
                    zip_complete(&x.body),
                    "{} {}: incomplete zip",
                    conn.name,
                    x.path
                );
                let (_, size, hash) = ZIPS.iter().find(|z| z.0 == x.path).expect("known zip");
                assert_eq!((x.body.len(), fnv1a(&x.body)), (*size, *hash), "{}", x.path);
                zips_seen += 1;
                zips.push(format!(
                    "{}={}",
                    x.path.rsplit('/').nth(2).unwrap_or(""),
                    x.body.len()
                ));
            }
            *statuses.entry(x.status).or_default() += 1;
            wire.push((x.authority.clone(), x.path.clone(), x.status));
        }
        // Exactly the server's log for this client connection.
        let mut got: Vec<_> = d
            .exchanges
            .values()
            .map(|x| (x.path.clone(), x.status))
            .collect();
        let mut want: Vec<_> = server
            .iter()
            .filter(|(r, _, _)| *r == conn.client)
            .map(|(_, u, s)| (u.clone(), *s))
            .collect();
        got.sort();
        want.sort();
        assert_eq!(got, want, "{}: decoded vs server log", conn.name);
        println!(
            "{} {} -> {}: {} requests ({with_length} with Content-Length), statuses {:?}, zips [{}]",
            conn.name,
            conn.client,
            conn.server,
            d.exchanges.len(),
            statuses,
            zips.join(" ")
        );
        if go127 {
            // Go 1.27 retries each https 4xx without its GoCommand UA.
            for x in d.exchanges.values().filter(|x| x.status == 404) {
                let n = |ua: &str| {
                    d.exchanges
                        .values()
                        .filter(|y| y.path == x.path && y.ua.starts_with(ua))
                        .count()
                };
                assert_eq!(
                    (n("GoCommand/"), n("Go-http-client/2.0")),
                    (1, 1),
                    "{}",
                    x.path
                );
            }
        }
    }
    // Exactly the go command's results, each https 4xx twice for go1.27.
    let mut want = Vec::new();
    for (host, path, status) in xlog_results(name) {
        let times = if go127 && (400..500).contains(&status) {
            2
        } else {
            1
        };
        for _ in 0..times {
            want.push((host.clone(), path.clone(), status));
        }
    }
    assert_eq!(zips_seen, ZIPS.len());
    wire.sort();
    want.sort();
    assert_eq!(wire, want, "{name}: decoded vs xlog");
}

#[test]
fn go127_streams_match_xlog_and_server_log() {
    check_capture("https-go127", true);
}

#[test]
fn go119_streams_match_xlog_and_server_log() {
    check_capture("https-go119", false);
}

/// Same streams re-chunked into 1..=97-byte pieces: same results.
#[test]
fn rechunked_real_streams_decode_the_same() {
    for conn in load("https-go127") {
        let want: Vec<_> = decode(&conn)
            .exchanges
            .into_values()
            .map(|x| (x.path, x.status, x.body))
            .collect();
        let mut small = RealConn {
            name: conn.name.clone(),
            client: conn.client.clone(),
            server: conn.server.clone(),
            chunks: Vec::new(),
        };
        let mut n = 1;
        for (dir, ts, bytes) in &conn.chunks {
            for piece in bytes.chunks(n) {
                small.chunks.push((*dir, *ts, piece.to_vec()));
                n = n % 97 + 1;
            }
        }
        let got: Vec<_> = decode(&small)
            .exchanges
            .into_values()
            .map(|x| (x.path, x.status, x.body))
            .collect();
        assert!(got == want, "{}", conn.name);
    }
}

/// Many connections decoded at once, their chunks interleaved round-robin (as a capture
/// holds them), give each connection exactly the events it gives decoded alone: nothing
/// (an HPACK table, a stream map, a buffer) is shared between `H2Conn`s. (The codec's speed
/// is measured by the replay benchmarks, benches/replay.sh, not asserted here.)
#[test]
fn interleaved_connections_decode_as_if_alone() {
    let conns: Vec<_> = load("https-go127")
        .into_iter()
        .chain(load("https-go119"))
        .collect();
    let alone: Vec<Vec<String>> = conns
        .iter()
        .map(|conn| {
            let mut c = H2Conn::new(Limits::default());
            let mut evs = Vec::new();
            for (dir, ts, b) in &conn.chunks {
                c.feed(*dir, *ts, b, &mut |e| evs.push(format!("{e:?}")));
            }
            evs
        })
        .collect();
    // (Several recorded connections carry no request: go opens and abandons them.)
    let busy = alone.iter().filter(|e| !e.is_empty()).count();
    assert!(
        busy >= 2,
        "{busy} of {} connections gave events",
        conns.len()
    );
    let mut codecs: Vec<H2Conn> = conns
        .iter()
        .map(|_| H2Conn::new(Limits::default()))
        .collect();
    let mut together: Vec<Vec<String>> = vec![Vec::new(); conns.len()];
    let longest = conns.iter().map(|c| c.chunks.len()).max().unwrap_or(0);
    for i in 0..longest {
        for (k, conn) in conns.iter().enumerate() {
            if let Some((dir, ts, b)) = conn.chunks.get(i) {
                let out = &mut together[k];
                codecs[k].feed(*dir, *ts, b, &mut |e| out.push(format!("{e:?}")));
            }
        }
    }
    for (k, conn) in conns.iter().enumerate() {
        assert!(
            together[k] == alone[k],
            "{}: {} events interleaved, {} alone",
            conn.name,
            together[k].len(),
            alone[k].len()
        );
    }
}

/// The exchange tracker (`decode::http2::Http2`) over the same real streams: exactly one
/// exchange per request the go command printed (each https 4xx twice for go1.27), every
/// one HTTP/2, answered, timed and without error (the go command cancelling a 404's body
/// is not an error).
#[test]
fn the_tracker_turns_real_streams_into_the_go_commands_exchanges() {
    use gomodwatch::decode::context::Standalone;
    use gomodwatch::decode::hook::NoHook;
    use gomodwatch::decode::http2::Http2;
    use gomodwatch::vocab::{Event as Ev, Source};
    for (name, go127) in [("https-go127", true), ("https-go119", false)] {
        let mut wire = Vec::new();
        for conn in load(name) {
            let mut h = Http2::default();
            let mut standalone = Standalone::new(Box::new(NoHook));
            standalone.client = conn.client.parse().expect("client address");
            standalone.server = conn.server.parse().expect("server address");
            standalone.scheme = "https";
            standalone.source = Source::Capture;
            let mut last = Ts(0);
            let mut ctx = standalone.ctx();
            for (dir, ts, bytes) in &conn.chunks {
                last = *ts;
                match dir {
                    Dir::Up => h.client_data(*ts, bytes, &mut ctx),
                    Dir::Down => h.server_data(*ts, bytes, &mut ctx),
                }
            }
            h.close(false, last, &mut ctx);
            for e in standalone.out {
                let Ev::Exchange(x) = e else { continue };
                assert_eq!(x.http_version.as_deref(), Some("HTTP/2"), "{x:?}");
                assert!(x.error.is_none(), "{x:?}");
                assert!(x.timing.ttfb_ms.is_some() && x.timing.total_ms.is_some());
                wire.push((x.url.unwrap_or_default(), x.status.unwrap_or(0)));
            }
        }
        let mut want = Vec::new();
        for (host, path, status) in xlog_results(name) {
            let times = if go127 && (400..500).contains(&status) {
                2
            } else {
                1
            };
            for _ in 0..times {
                want.push((format!("https://{host}{path}"), status));
            }
        }
        wire.sort();
        want.sort();
        assert_eq!(wire, want, "{name}");
    }
}
