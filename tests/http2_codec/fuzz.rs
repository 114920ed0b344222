//! Deterministic fuzz-style test: random bytes, mutated real streams and
//! random well-framed frames must never panic, and memory and counters must
//! stay within the limits.

use super::h2common::*;
use gomodwatch::decode::http2::codec::{Dir, H2Conn, Limits, Ts, PREFACE};

/// xorshift64*: deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    /// Up to `max - 1` random bytes.
    fn some_bytes(&mut self, max: usize) -> Vec<u8> {
        let n = self.below(max);
        self.bytes(n)
    }
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

fn limits(rng: &mut Rng) -> Limits {
    if rng.below(2) == 0 {
        Limits::default()
    } else {
        Limits {
            max_streams: 4,
            max_header_list: 512,
            max_dynamic_table: 4096,
            max_frame: 4096,
            max_header_block: 2048,
        }
    }
}

/// Feed `chunks`, each re-split at random points, then close; check bounds.
fn run_checked(rng: &mut Rng, limits: Limits, chunks: &[(Dir, Vec<u8>)]) {
    let mut c = H2Conn::new(limits);
    let mut fed = 0u64;
    let mut events = 0usize;
    for (i, (dir, bytes)) in chunks.iter().enumerate() {
        let mut rest = &bytes[..];
        while !rest.is_empty() {
            let n = if rng.below(4) == 0 {
                1 + rng.below(rest.len())
            } else {
                rest.len()
            };
            let (a, b) = rest.split_at(n);
            c.feed(*dir, Ts(i as i64), a, &mut |_| events += 1);
            fed += a.len() as u64;
            rest = b;
            assert!(c.open_streams() <= limits.max_streams);
            assert!(
                c.buffered_bytes() <= 8 * (limits.max_header_block + 8192),
                "{}",
                c.buffered_bytes()
            );
        }
        if rng.below(200) == 0 {
            c.gap(*dir, Ts(i as i64), 1 + rng.below(100) as u64, &mut |_| {
                events += 1
            });
        }
    }
    let mut unfinished = 0;
    c.close(Ts(i64::MAX), &mut |_| unfinished += 1);
    assert!(unfinished <= limits.max_streams);
    let k = c.counters();
    assert!(k.data_bytes <= fed);
    assert!(k.frames <= fed / 9 + 1);
    assert!(k.broken <= 2);
    assert!(k.header_blocks <= k.frames);
    assert_eq!(c.open_streams(), 0);
}

fn random_block(rng: &mut Rng) -> Vec<u8> {
    let mut b = Vec::new();
    for _ in 0..rng.below(8) {
        match rng.below(6) {
            0 => b.extend(idx(1 + rng.below(70))),
            1 => b.extend(lit_idx(":path", &"p".repeat(rng.below(300)))),
            2 => b.extend(lit("x", "y")),
            3 => b.extend(rng.some_bytes(6)),
            4 => b.push(0x20 | rng.below(32) as u8), // size update
            _ => b.extend(get_block("a", "/")),
        }
    }
    b
}

/// Frames with valid headers and random types, flags, streams, payloads.
fn random_frames(rng: &mut Rng, up: bool) -> Vec<u8> {
    let mut v = if up { client_start() } else { server_start() };
    for _ in 0..rng.below(30) {
        let kind = rng.below(11) as u8;
        let flags = rng.next() as u8;
        let stream = [0u32, 1, 2, 3, 5, 7, 9, 11][rng.below(8)];
        let payload = match kind {
            HEADERS | CONTINUATION | PUSH_PROMISE => {
                let mut p = Vec::new();
                if flags & PADDED != 0 {
                    p.push(rng.below(4) as u8);
                }
                if kind == PUSH_PROMISE || flags & PRIO != 0 {
                    p.extend(rng.bytes(if kind == PUSH_PROMISE { 4 } else { 5 }));
                }
                p.extend(random_block(rng));
                p.extend(vec![0; rng.below(4)]);
                p
            }
            RST_STREAM | WINDOW_UPDATE => {
                let n = if rng.below(8) == 0 { rng.below(9) } else { 4 };
                rng.bytes(n)
            }
            SETTINGS => {
                let n = 6 * rng.below(4) + usize::from(rng.below(8) == 0);
                rng.bytes(n)
            }
            _ => rng.some_bytes(64),
        };
        v.extend(frame(kind, flags, stream, &payload));
    }
    v
}

fn mutate(rng: &mut Rng, b: &mut Vec<u8>) {
    if b.is_empty() {
        b.extend(rng.bytes(8));
    }
    let at = rng.below(b.len());
    match rng.below(6) {
        0 => b[at] ^= 1 << rng.below(8),
        1 => b[at] = rng.next() as u8,
        2 => {
            let n = 1 + rng.below(16);
            let ins = rng.bytes(n);
            b.splice(at..at, ins);
        }
        3 => {
            let end = (at + 1 + rng.below(64)).min(b.len());
            b.drain(at..end);
        }
        4 => {
            let end = (at + 1 + rng.below(64)).min(b.len());
            let dup = b[at..end].to_vec();
            b.splice(end..end, dup);
        }
        _ => b.truncate(at),
    }
}

#[test]
fn fuzz_never_panics_and_stays_bounded() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let real: Vec<Vec<(Dir, Vec<u8>)>> = load("https-go127")
        .into_iter()
        .chain(load("https-go119"))
        .filter(|c| c.chunks.len() > 2)
        .map(|c| c.chunks.into_iter().map(|(d, _, b)| (d, b)).collect())
        .collect();
    for iter in 0..3000 {
        let limits = limits(&mut rng);
        let chunks = match iter % 3 {
            0 => {
                let mut up = if rng.below(2) == 0 {
                    PREFACE.to_vec()
                } else {
                    Vec::new()
                };
                let n = rng.below(2000);
                up.extend(rng.bytes(n));
                let n = rng.below(2000);
                vec![(Dir::Up, up), (Dir::Down, rng.bytes(n))]
            }
            1 => {
                let conn = &real[rng.below(real.len())];
                // A prefix of the connection, a few chunks mutated.
                let mut chunks = conn[..1 + rng.below(conn.len())].to_vec();
                for _ in 0..1 + rng.below(4) {
                    let i = rng.below(chunks.len());
                    mutate(&mut rng, &mut chunks[i].1);
                }
                chunks
            }
            _ => vec![
                (Dir::Up, random_frames(&mut rng, true)),
                (Dir::Down, random_frames(&mut rng, false)),
            ],
        };
        run_checked(&mut rng, limits, &chunks);
    }
}
