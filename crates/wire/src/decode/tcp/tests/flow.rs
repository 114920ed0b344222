//! One flow's rules, each pinned by a test of its own: the mutation check
//! (benches/mutants.sh, benches/README.md "Mutation check") found that the proptest of
//! reassembly (tests.rs) passes with each of these rules broken, because a broken rule
//! only changes *when* bytes are delivered or *which direction* a gap is told in, and that
//! test compares the final bytes only.

use super::super::flow::{Flow, Outcome, MAX_WAITING};
use crate::decode::ip::{TcpFlags, TcpSegment};
use crate::decode::reassembly::Budget;
use crate::decode::reassembly::Chunk;
use crate::vocab::{Dir, Ts};
use std::net::SocketAddr;

const CLIENT: SocketAddr = SocketAddr::new(
    std::net::IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 1)),
    40_000,
);
const SERVER: SocketAddr = SocketAddr::new(
    std::net::IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 2)),
    443,
);
/// Initial sequence numbers; stream offset n of a direction is ISN + 1 + n.
const C_ISN: u32 = 1_000;
const S_ISN: u32 = 9_000;

/// A flow after its handshake, and what it delivered, as text: `U:bytes`, `D:bytes` for
/// data, `U~n` for a gap of n bytes, `U.` for a FIN.
struct Harness {
    flow: Flow<()>,
    budget: Budget,
    told: Vec<String>,
}

impl Harness {
    fn new() -> Harness {
        let mut h = Harness {
            flow: Flow::new(1, Ts(0), CLIENT, SERVER, ()),
            budget: Budget {
                per_direction: 1 << 20,
                remaining: 8 << 20,
            },
            told: Vec::new(),
        };
        h.raw(Dir::Up, C_ISN, 0, flags(true, false, false), b"", 0);
        h.raw(
            Dir::Down,
            S_ISN,
            C_ISN + 1,
            flags(true, true, false),
            b"",
            0,
        );
        h
    }

    fn raw(
        &mut self,
        dir: Dir,
        seq: u32,
        ack: u32,
        flags: TcpFlags,
        payload: &[u8],
        missing: u32,
    ) -> Outcome {
        let (src, dst) = match dir {
            Dir::Up => (CLIENT, SERVER),
            Dir::Down => (SERVER, CLIENT),
        };
        let seg = TcpSegment {
            src,
            dst,
            seq,
            ack,
            flags,
            payload,
            missing,
            window: 64240,
            timestamps: None,
        };
        let told = &mut self.told;
        self.flow
            .segment(Ts(1), &seg, &mut self.budget, &mut |_, d, c| {
                told.push(say(d, c))
            })
    }

    /// Data at stream offset `at` of `dir`, acknowledging `acked` bytes of the other side.
    fn data(&mut self, dir: Dir, at: u32, acked: u32, payload: &[u8]) -> Outcome {
        let (isn, other) = isns(dir);
        self.raw(
            dir,
            isn + 1 + at,
            other + 1 + acked,
            flags(false, true, false),
            payload,
            0,
        )
    }

    fn fin(&mut self, dir: Dir, at: u32, acked: u32) -> Outcome {
        let (isn, other) = isns(dir);
        self.raw(
            dir,
            isn + 1 + at,
            other + 1 + acked,
            flags(false, true, true),
            b"",
            0,
        )
    }

    fn flush(&mut self) {
        let told = &mut self.told;
        self.flow
            .flush(Ts(2), &mut self.budget, &mut |_, d, c| told.push(say(d, c)));
    }

    /// The client's bytes 3..5 arrive, 0..3 never do: held, waiting for the hole to fill.
    fn request_with_a_hole(&mut self) {
        self.data(Dir::Up, 3, 0, b"zz");
        assert!(self.take().is_empty());
    }

    fn take(&mut self) -> Vec<String> {
        std::mem::take(&mut self.told)
    }
}

fn isns(dir: Dir) -> (u32, u32) {
    match dir {
        Dir::Up => (C_ISN, S_ISN),
        Dir::Down => (S_ISN, C_ISN),
    }
}

fn flags(syn: bool, ack: bool, fin: bool) -> TcpFlags {
    TcpFlags {
        syn,
        ack,
        fin,
        rst: false,
    }
}

fn say(d: Dir, c: Chunk<'_>) -> String {
    let d = if d == Dir::Up { "U" } else { "D" };
    match c {
        Chunk::Data(_, b, _) => format!("{d}:{}", String::from_utf8_lossy(b)),
        Chunk::Gap(_, n) => format!("{d}~{n}"),
        Chunk::Fin(_) => format!("{d}."),
    }
}

#[test]
fn every_syn_the_client_sends_is_counted() {
    let mut h = Harness::new();
    // The client's SYN retransmitted twice (an unanswered address is tried again).
    h.raw(Dir::Up, C_ISN, 0, flags(true, false, false), b"", 0);
    h.raw(Dir::Up, C_ISN, 0, flags(true, false, false), b"", 0);
    assert_eq!(h.flow.syns, 3);
}

#[test]
fn a_segment_whose_payload_the_snaplen_cut_whole_is_still_data() {
    let mut h = Harness::new();
    // 10 bytes on the wire, none of them in the capture: a gap at once, not later.
    let (isn, other) = isns(Dir::Up);
    h.raw(
        Dir::Up,
        isn + 1,
        other + 1,
        flags(false, true, false),
        b"",
        10,
    );
    assert_eq!(h.take(), ["U~10"]);
    h.data(Dir::Up, 10, 0, b"next");
    assert_eq!(h.take(), ["U:next"]);
}

/// The server answers bytes the capture has not seen yet (it saw them first): its segment
/// waits for them, and is delivered after them, with no gap.
#[test]
fn an_answer_waits_for_the_request_it_acknowledges() {
    let mut h = Harness::new();
    h.data(Dir::Down, 0, 5, b"ok");
    assert!(h.take().is_empty(), "held until the 5 request bytes come");
    // Part of the request: still not all that the answer acknowledges.
    h.data(Dir::Up, 0, 0, b"GE");
    assert_eq!(h.take(), ["U:GE"], "the answer still waits");
    h.data(Dir::Up, 2, 0, b"T /");
    assert_eq!(h.take(), ["U:T /", "D:ok"]);
    assert!(h.flow.waiting.is_empty());
}

/// While a segment of one direction is held, a later one of the same direction queues
/// behind it (stream order), but one of the other direction is applied at once.
#[test]
fn only_the_held_direction_queues_behind_what_is_held() {
    let mut h = Harness::new();
    h.data(Dir::Down, 0, 3, b"ab");
    h.data(Dir::Down, 2, 3, b"cd");
    assert!(h.take().is_empty());
    assert_eq!(h.flow.waiting.len(), 2);
    h.data(Dir::Up, 0, 0, b"xyz");
    assert_eq!(h.take(), ["U:xyz", "D:ab", "D:cd"]);
}

/// Past MAX_WAITING held segments, what they acknowledge is taken as lost: the hole is a
/// gap of the direction whose bytes are missing, and everything held is delivered.
#[test]
fn too_many_held_segments_release_them_with_the_gap_on_the_other_side() {
    let mut h = Harness::new();
    h.request_with_a_hole();
    for i in 0..MAX_WAITING as u32 {
        h.data(Dir::Down, i, 5, b"x");
    }
    assert!(h.take().is_empty(), "{MAX_WAITING} segments may wait");
    h.data(Dir::Down, MAX_WAITING as u32, 5, b"y");
    let told = h.take();
    assert_eq!(told[..2], ["U~3", "U:zz"], "{told:?}");
    assert_eq!(told.len(), 2 + MAX_WAITING + 1, "{told:?}");
    assert_eq!(told.last().unwrap(), "D:y");
    assert!(h.flow.waiting.is_empty());
}

/// The same when the held bytes pass 256 KiB, however few the segments.
#[test]
fn too_many_held_bytes_release_them() {
    let mut h = Harness::new();
    h.request_with_a_hole();
    let big = vec![b'b'; 130 << 10];
    h.data(Dir::Down, 0, 5, &big);
    assert!(h.take().is_empty(), "130 KiB may wait");
    h.data(Dir::Down, 130 << 10, 5, &big);
    let told = h.take();
    assert_eq!(told.len(), 4, "260 KiB may not");
    assert_eq!(told[..2], ["U~3", "U:zz"]);
}

/// A flow ends when both sides have closed, not when one has.
#[test]
fn a_flow_is_finished_when_both_sides_sent_fin() {
    let mut h = Harness::new();
    h.data(Dir::Up, 0, 0, b"q");
    assert_eq!(h.fin(Dir::Up, 1, 0), Outcome::Open);
    assert_eq!(h.data(Dir::Down, 0, 2, b"r"), Outcome::Open);
    assert_eq!(h.fin(Dir::Down, 1, 2), Outcome::Finished);
    assert_eq!(h.take(), ["U:q", "U.", "D:r", "D."]);
}

/// At the end of a flow, a held segment is delivered, and the hole before what it
/// acknowledges is a gap of the direction that sent those bytes.
#[test]
fn flushing_gives_up_on_the_unseen_bytes_of_the_right_side() {
    let mut h = Harness::new();
    h.request_with_a_hole();
    h.data(Dir::Down, 0, 5, b"late");
    assert!(h.take().is_empty());
    h.flush();
    assert_eq!(h.take(), ["U~3", "U:zz", "D:late"]);
    assert!(h.flow.waiting.is_empty());
}
