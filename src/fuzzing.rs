//! Entry points for the fuzz targets (`fuzz/fuzz_targets/`, cargo-fuzz) and for the test that
//! replays their corpora on stable (`tests/fuzz_corpora.rs`). Each takes arbitrary bytes and
//! drives one part of gomodwatch the way the program does; none may panic, whatever the
//! bytes. Not an API: hidden from the documentation.
//!
//! Inputs that carry a conversation (two directions, packets) are framed as records:
//!
//! * [`chunks`]: `[ctrl: u8][len: u16 LE][len bytes]`, repeated; a short last record takes
//!   what is left. `ctrl` bit 0 is the direction (0 client → server, 1 server → client), bit
//!   1 makes the record a gap of `len` missing bytes instead of data.
//! * [`decode`]: the first byte picks the link type (low 3 bits, in [`LINKS`] order) and
//!   whether zips are hashed (bit 3); then packets `[len: u16 LE][dt: i8][len bytes]`, `dt`
//!   moving the clock in steps of 8 ms (backwards too).
//!
//! `fuzz/seeds.py` writes seeds in these formats from the recordings in `captures/`.

use crate::decode::dns::{parse_response, DnsTable};
use crate::decode::http1::codec::{Item, Reader};
use crate::decode::http1::head::Role;
use crate::decode::http2::codec::{H2Conn, Limits as H2Limits};
use crate::decode::tls::Tls;
use crate::decode::DecodeConfig;
use crate::decode::Decoder;
use crate::gomod::h1::ZipHasher;
use crate::gomod::hook::{GoHook, GoHookConfig};
use crate::gomod::sumdb::{lookup_lines, SumTable};
use crate::session::{Session, SessionConfig};
use crate::source::file::CaptureFile;
use crate::vocab::{Dir, LinkType, Packet, Ts};

/// Link types a [`decode`] input can choose, by its first byte's low 3 bits.
pub(crate) const LINKS: [LinkType; 8] = [
    LinkType::Ethernet,
    LinkType::Null,
    LinkType::Loop,
    LinkType::Raw,
    LinkType::Ipv4,
    LinkType::Ipv6,
    LinkType::LinuxSll,
    LinkType::LinuxSll2,
];

/// A fixed start for the clock (2026-01-01), so that timestamps look like a capture's.
const T0: i64 = 1_767_225_600_000_000_000;

/// One record of a [`chunks`] input.
pub(crate) struct Chunk<'a> {
    pub(crate) dir: Dir,
    /// `len` bytes were lost here (`bytes` is empty).
    pub(crate) gap: Option<u64>,
    pub(crate) bytes: &'a [u8],
}

/// Splits an input into [`Chunk`]s (see the module documentation).
pub(crate) fn chunks(mut data: &[u8]) -> impl Iterator<Item = Chunk<'_>> {
    std::iter::from_fn(move || {
        if data.len() < 3 {
            return None;
        }
        let ctrl = data[0];
        let len = u16::from_le_bytes([data[1], data[2]]) as usize;
        let dir = if ctrl & 1 == 0 { Dir::Up } else { Dir::Down };
        data = &data[3..];
        if ctrl & 2 != 0 {
            return Some(Chunk {
                dir,
                gap: Some(len as u64),
                bytes: &[],
            });
        }
        let (bytes, rest) = data.split_at(len.min(data.len()));
        data = rest;
        Some(Chunk {
            dir,
            gap: None,
            bytes,
        })
    })
}

/// The whole path of a capture: packets → decoder (with the Go-module hook) → events →
/// the session, then every module judged and the summary made, as at the end of a replay.
pub fn decode(data: &[u8]) {
    let Some((&first, mut rest)) = data.split_first() else {
        return;
    };
    let link = LINKS[(first & 7) as usize];
    let hook = GoHook::new(GoHookConfig {
        no_hash: first & 8 == 0,
        ..Default::default()
    });
    let mut decoder = Decoder::new(
        DecodeConfig {
            show_credentials: false,
            keylog: None,
        },
        Box::new(hook),
    );
    let mut session = Session::new(SessionConfig::default());
    let mut ts = T0;
    while rest.len() >= 3 {
        let len = u16::from_le_bytes([rest[0], rest[1]]) as usize;
        ts += rest[2] as i8 as i64 * 8_000_000;
        rest = &rest[3..];
        let (frame, tail) = rest.split_at(len.min(rest.len()));
        rest = tail;
        decoder.packet(&Packet {
            ts: Ts(ts),
            link,
            iface: 0,
            wire_len: frame.len() as u32,
            data: frame,
        });
        for ev in decoder.drain() {
            session.apply(&ev);
        }
    }
    decoder.finish();
    for ev in decoder.drain() {
        session.apply(&ev);
    }
    let _ = decoder.notices();
    let modules = session.modules();
    let _ = session.summary(&modules);
}

/// A capture file (pcap or pcapng, any damage) read to its end, as `-r FILE` reads it.
pub fn capture_file(data: &[u8]) {
    let Ok(mut file) = CaptureFile::new(data) else {
        return;
    };
    let _ = file.interfaces();
    let mut n = 0u64;
    while let Ok(Some(p)) = file.next_packet() {
        n += p.data.len() as u64 + p.wire_len as u64;
    }
    let _ = (n, file.dropped(), file.skipped_bytes(), file.damage().len());
}

/// The HTTP/1 codec: one [`Reader`] per direction (requests up, responses down), each head
/// followed by the body framing it announces, gaps included.
pub fn http1(data: &[u8]) {
    let mut readers = [Reader::new(Role::Request), Reader::new(Role::Response)];
    let mut ts = T0;
    for c in chunks(data) {
        ts += 1_000_000;
        let r = &mut readers[c.dir as usize];
        if let Some(n) = c.gap {
            let _ = r.gap(n);
            continue;
        }
        let mut off = 0;
        // As `http1::Http1` drives it: until the chunk is used up, then once more on
        // nothing, for the `End` of a body that ended with the last byte.
        while off < c.bytes.len() {
            let (used, item) = r.next(Ts(ts), &c.bytes[off..]);
            off += used;
            if let Some(Item::Head(h)) = item {
                let body = match c.dir {
                    Dir::Up => h.request_body(),
                    Dir::Down => h.response_body(h.status % 2 == 1, false),
                };
                let _ = h.is_interim();
                r.expect(body);
            }
        }
        let _ = r.next(Ts(ts), &[]);
        let _ = (r.in_body(), r.is_stopped());
        let _ = r.state_bytes();
    }
    for r in &mut readers {
        let _ = r.fin();
    }
}

/// The HTTP/2 codec ([`H2Conn`], HPACK included) fed both directions: the first byte's bit
/// 0 picks default or tight limits, and the rest is [`chunks`]. With bit 1 set, the rest is
/// instead steps for HPACK alone ([`hpack`]).
pub fn http2(data: &[u8]) {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    if first & 2 != 0 {
        return hpack(data);
    }
    let limits = if first & 1 == 0 {
        H2Limits::default()
    } else {
        H2Limits {
            max_streams: 4,
            max_header_list: 512,
            max_dynamic_table: 4096,
            max_frame: 4096,
            max_header_block: 2048,
        }
    };
    let mut conn = H2Conn::new(limits);
    let mut ts = T0;
    let mut events = 0u64;
    let mut count = |_: crate::decode::http2::codec::Event<'_>| events += 1;
    for c in chunks(rest) {
        ts += 1_000_000;
        match c.gap {
            Some(n) => conn.gap(c.dir, Ts(ts), n, &mut count),
            None => conn.feed(c.dir, Ts(ts), c.bytes, &mut count),
        }
        assert!(conn.open_streams() <= limits.max_streams);
    }
    conn.close(Ts(ts), &mut count);
    let _ = (conn.counters(), conn.buffered_bytes(), events);
}

/// HPACK alone: one direction's decoder (first byte bit 0: a 4096 or 64 KiB table cap),
/// steps as `[op][len: u16 LE][bytes]` records (see
/// [`crate::decode::http2::codec::fuzz_hpack`]).
pub fn hpack(data: &[u8]) {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let cap = if first & 1 == 0 { 4096 } else { 64 << 10 };
    let steps = RawChunks(rest);
    crate::decode::http2::codec::fuzz_hpack(cap, steps);
}

/// `[op: u8][len: u16 LE][bytes]` records with the op kept whole.
struct RawChunks<'a>(&'a [u8]);

impl<'a> Iterator for RawChunks<'a> {
    type Item = (u8, &'a [u8]);
    fn next(&mut self) -> Option<(u8, &'a [u8])> {
        let d = self.0;
        if d.len() < 3 {
            return None;
        }
        let len = (u16::from_le_bytes([d[1], d[2]]) as usize).min(d.len() - 3);
        self.0 = &d[3 + len..];
        Some((d[0], &d[3..3 + len]))
    }
}

/// TLS: the handshake tracker ([`Tls`]) fed both directions as [`chunks`]; when the first
/// byte is 1, 2 or 11 the rest is instead one handshake message body of that type, parsed
/// directly (ClientHello, ServerHello, Certificate).
pub fn tls(data: &[u8]) {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    if matches!(first, 1 | 2 | 11) {
        crate::decode::tls::fuzz_handshake_message(first, rest);
        return;
    }
    let mut t = Tls::new();
    let mut ts = T0;
    for c in chunks(rest) {
        ts += 1_000_000;
        if c.gap.is_some() {
            continue;
        }
        match c.dir {
            Dir::Up => t.client_data(Ts(ts), c.bytes),
            Dir::Down => t.server_data(Ts(ts), c.bytes),
        }
        let _ = t.state_bytes();
    }
    t.close();
    let _ = &t.info;
}

/// DNS: one message parsed, and the same bytes fed to the query table as a query and as a
/// response (the first byte's top bit is the response flag's position in byte 2 anyway).
pub fn dns(data: &[u8]) {
    let _ = parse_response(data);
    let mut table = DnsTable::default();
    let client = "192.0.2.1:5353".parse().expect("literal");
    let server = "192.0.2.53:53".parse().expect("literal");
    let mut query = data.to_vec();
    if query.len() >= 3 {
        query[2] &= 0x7f;
    }
    let _ = table.datagram(Ts(T0), client, server, &query);
    let _ = table.datagram(Ts(T0 + 1_000_000), server, client, data);
    for ip in parse_response(data)
        .map(|r| r.addresses)
        .unwrap_or_default()
    {
        let _ = (table.name_of(&ip), table.lookup_ms(&ip));
    }
    let _ = table.unanswered(Ts(T0 + 60_000_000_000), true);
}

/// Checksum database lookup records and go.sum text: the lines a lookup body carries, and
/// the table built from them (and from the whole text, as a go.sum file).
pub fn sumdb(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let lines = lookup_lines(&text);
    let mut table = SumTable::parse(lines);
    table.add_lines(&text);
    for line in lines.lines() {
        let mut f = line.split_whitespace();
        if let (Some(m), Some(v)) = (f.next(), f.next()) {
            let _ = table.get(m, v.trim_end_matches("/go.mod"));
        }
    }
    let _ = (table.len(), table.is_empty());
}

/// `h1:` hashing of a module zip as it streams: the first byte sets the size of the pieces
/// the body arrives in (1 to 256 bytes, 0: all at once).
pub fn zip_hash(data: &[u8]) {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let mut z = ZipHasher::new();
    if first == 0 {
        z.update(rest);
    } else {
        for piece in rest.chunks(first as usize) {
            z.update(piece);
        }
    }
    let _ = z.finish();
}

/// The MITM proxy's handling of request (and response) heads.
pub fn mitm_head(data: &[u8]) {
    crate::source::mitm::fuzz_head(data);
}

/// A target: its name (as in `fuzz/fuzz_targets/NAME.rs`) and its entry point.
pub(crate) type Target = (&'static str, fn(&[u8]));

/// Every target by name, for the corpus replay test.
pub const TARGETS: &[Target] = &[
    ("decode", decode),
    ("capture_file", capture_file),
    ("http1", http1),
    ("http2", http2),
    ("tls", tls),
    ("dns", dns),
    ("sumdb", sumdb),
    ("zip_hash", zip_hash),
    ("mitm_head", mitm_head),
];
