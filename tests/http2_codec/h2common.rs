//! Test helpers: frame and HPACK builders, an owned event record, and the
//! loader of the extracted real streams (`tests/data/h2/*.h2`).
#![allow(dead_code)] // each test uses a different subset

use gomodwatch::decode::http2::codec::{Dir, Event, H2Conn, Limits, Ts, PREFACE};

pub const DATA: u8 = 0;
pub const HEADERS: u8 = 1;
pub const PRIORITY: u8 = 2;
pub const RST_STREAM: u8 = 3;
pub const SETTINGS: u8 = 4;
pub const PUSH_PROMISE: u8 = 5;
pub const PING: u8 = 6;
pub const GOAWAY: u8 = 7;
pub const WINDOW_UPDATE: u8 = 8;
pub const CONTINUATION: u8 = 9;
pub const END_STREAM: u8 = 0x1;
pub const ACK: u8 = 0x1;
pub const END_HEADERS: u8 = 0x4;
pub const PADDED: u8 = 0x8;
pub const PRIO: u8 = 0x20;

pub fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let n = payload.len();
    let mut v = vec![(n >> 16) as u8, (n >> 8) as u8, n as u8, kind, flags];
    v.extend_from_slice(&stream.to_be_bytes());
    v.extend_from_slice(payload);
    v
}

pub fn settings(entries: &[(u16, u32)]) -> Vec<u8> {
    let mut p = Vec::new();
    for (id, v) in entries {
        p.extend_from_slice(&id.to_be_bytes());
        p.extend_from_slice(&v.to_be_bytes());
    }
    frame(SETTINGS, 0, 0, &p)
}

/// HPACK integer with an N-bit prefix; `first` holds the pattern bits.
pub fn hint(first: u8, prefix: u32, mut v: usize, out: &mut Vec<u8>) {
    let max = (1usize << prefix) - 1;
    if v < max {
        out.push(first | v as u8);
        return;
    }
    out.push(first | max as u8);
    v -= max;
    while v >= 128 {
        out.push((v % 128) as u8 | 0x80);
        v /= 128;
    }
    out.push(v as u8);
}

fn hstr(s: &[u8], out: &mut Vec<u8>) {
    hint(0, 7, s.len(), out);
    out.extend_from_slice(s);
}

/// Literal field without indexing, new name.
pub fn lit(name: &str, value: &str) -> Vec<u8> {
    let mut v = vec![0];
    hstr(name.as_bytes(), &mut v);
    hstr(value.as_bytes(), &mut v);
    v
}

/// Literal field with incremental indexing (added to the dynamic table).
pub fn lit_idx(name: &str, value: &str) -> Vec<u8> {
    let mut v = vec![0x40];
    hstr(name.as_bytes(), &mut v);
    hstr(value.as_bytes(), &mut v);
    v
}

/// Indexed field (static 1..=61, dynamic from 62).
pub fn idx(i: usize) -> Vec<u8> {
    let mut v = Vec::new();
    hint(0x80, 7, i, &mut v);
    v
}

/// A request header block without the dynamic table.
pub fn get_block(authority: &str, path: &str) -> Vec<u8> {
    [
        idx(2),
        idx(7),
        lit(":authority", authority),
        lit(":path", path),
        lit("user-agent", "test/1"),
    ]
    .concat()
}

pub fn status_block(status: u16, extra: &[(&str, &str)]) -> Vec<u8> {
    let mut v = lit(":status", &status.to_string());
    for (n, val) in extra {
        v.extend(lit(n, val));
    }
    v
}

pub fn client_start() -> Vec<u8> {
    [&PREFACE[..], &settings(&[(2, 0), (4, 4 << 20)])].concat()
}

pub fn server_start() -> Vec<u8> {
    [
        settings(&[(3, 250), (5, 1 << 20)]),
        frame(SETTINGS, ACK, 0, &[]),
    ]
    .concat()
}

/// An event with its data owned, for comparisons.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Rec {
    Data {
        stream: u32,
        dir: Dir,
        data: Vec<u8>,
        end_stream: bool,
    },
    Other(String),
}

pub fn rec(e: Event<'_>) -> Rec {
    match e {
        Event::Data {
            stream,
            dir,
            data,
            end_stream,
            ..
        } => Rec::Data {
            stream,
            dir,
            data: data.to_vec(),
            end_stream,
        },
        other => Rec::Other(format!("{other:?}")),
    }
}

/// Merge consecutive Data records of one stream and direction, so that
/// results of different chunkings compare equal.
pub fn merge(v: Vec<Rec>) -> Vec<Rec> {
    let mut out: Vec<Rec> = Vec::new();
    for r in v {
        if let (
            Some(Rec::Data {
                stream: s0,
                dir: d0,
                data,
                end_stream,
            }),
            Rec::Data {
                stream,
                dir,
                data: more,
                end_stream: e,
            },
        ) = (out.last_mut(), &r)
        {
            if *s0 == *stream && *d0 == *dir && !*end_stream {
                data.extend_from_slice(more);
                *end_stream = *e;
                continue;
            }
        }
        out.push(r);
    }
    out
}

/// Feed a script of (dir, bytes) chunks at ts = index and record events.
pub fn run(limits: Limits, script: &[(Dir, &[u8])]) -> (Vec<Rec>, H2Conn) {
    let mut c = H2Conn::new(limits);
    let mut v = Vec::new();
    for (i, (d, b)) in script.iter().enumerate() {
        c.feed(*d, Ts(i as i64), b, &mut |e| v.push(rec(e)));
    }
    (v, c)
}

/// One connection of a real capture: chunks in capture order.
pub struct RealConn {
    pub name: String,
    pub client: String,
    pub server: String,
    pub chunks: Vec<(Dir, Ts, Vec<u8>)>,
}

pub fn data_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/h2")
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len() / 2)
        .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).expect("hex"))
        .collect()
}

/// The connections of capture `name` (e.g. "https-go127"), by stream number.
pub fn load(name: &str) -> Vec<RealConn> {
    let mut files: Vec<_> = std::fs::read_dir(data_dir())
        .expect("tests/data/h2")
        .map(|e| e.expect("entry").path())
        .filter(|p| {
            let f = p.file_name().unwrap().to_string_lossy().into_owned();
            f.starts_with(&format!("{name}-conn")) && f.ends_with(".h2")
        })
        .collect();
    files.sort_by_key(|p| {
        let f = p.file_stem().unwrap().to_string_lossy().into_owned();
        f.rsplit("conn").next().unwrap().parse::<u32>().unwrap()
    });
    files
        .iter()
        .map(|p| {
            let text = std::fs::read_to_string(p).expect("read .h2");
            let mut conn = RealConn {
                name: p.file_stem().unwrap().to_string_lossy().into_owned(),
                client: String::new(),
                server: String::new(),
                chunks: Vec::new(),
            };
            for line in text.lines() {
                let f: Vec<&str> = line.split_whitespace().collect();
                match f.as_slice() {
                    ["#", "client", c, "server", s] => {
                        conn.client = c.to_string();
                        conn.server = s.to_string();
                    }
                    [d, ts, hex] => {
                        let dir = if *d == "U" { Dir::Up } else { Dir::Down };
                        conn.chunks
                            .push((dir, Ts(ts.parse().expect("ts")), unhex(hex)));
                    }
                    _ => panic!("bad line in {}: {line}", p.display()),
                }
            }
            conn
        })
        .collect()
}
