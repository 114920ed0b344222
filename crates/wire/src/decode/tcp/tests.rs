//! The table's bounds and consistency under random operations, and reassembly of both
//! directions against a model under random segmentation, loss and reordering.

mod flow;

use super::flow::MAX_WAITING;
use super::table::Slot;
use super::*;
use crate::decode::ip::{TcpFlags, TcpSegment};
use crate::decode::reassembly::{Budget, Chunk, HalfStream, HELD_OVERHEAD, MAP_OVERHEAD};
use crate::vocab::{Dir, Ts};
use proptest::prelude::*;
use std::net::SocketAddr;

fn addr(i: u32) -> SocketAddr {
    SocketAddr::from((i.to_be_bytes(), 40_000))
}

const SERVER: SocketAddr = SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 80);

fn syn(client: SocketAddr) -> TcpSegment<'static> {
    TcpSegment {
        src: client,
        dst: SERVER,
        seq: 7,
        ack: 0,
        flags: TcpFlags {
            syn: true,
            ..Default::default()
        },
        payload: &[],
        missing: 0,
        window: 64240,
        timestamps: None,
    }
}

fn limits(max_flows: usize) -> Limits {
    Limits {
        max_flows,
        max_state_bytes: 1000,
        idle_timeout_ns: 100,
        linger_ns: 10,
        ..Default::default()
    }
}

fn found(t: &mut FlowTable<()>, c: SocketAddr) -> Option<Slot> {
    match t.lookup(&syn(c)) {
        Lookup::Found(s) => Some(s),
        Lookup::Missing { .. } => None,
    }
}

#[test]
fn a_full_table_evicts_the_least_recently_active() {
    let mut t = FlowTable::new(limits(3));
    t.advance(Ts(1));
    let a = t.insert(Ts(1), addr(1), SERVER, ()).0;
    t.insert(Ts(1), addr(2), SERVER, ());
    t.insert(Ts(1), addr(3), SERVER, ());
    // The first flow is active again: the second is now the least recent.
    t.touch(a, 0);
    let (_, evicted) = t.insert(Ts(1), addr(4), SERVER, ());
    assert_eq!(evicted.map(|f| f.client), Some(addr(2)));
    assert_eq!(t.len(), 3);
    assert!(found(&mut t, addr(1)).is_some() && found(&mut t, addr(2)).is_none());
    t.check();
}

#[test]
fn lingering_flows_make_room_first() {
    let mut t = FlowTable::new(limits(2));
    let a = t.insert(Ts(1), addr(1), SERVER, ()).0;
    let b = t.insert(Ts(1), addr(2), SERVER, ()).0;
    // The newer flow finished; the older one is still open.
    t.flow(b).done = true;
    t.touch(b, 0);
    t.touch(a, 0);
    t.touch(b, 0);
    let (_, evicted) = t.insert(Ts(1), addr(3), SERVER, ());
    assert!(evicted.is_none(), "a done flow goes silently");
    assert!(found(&mut t, addr(1)).is_some());
    assert_eq!(t.open(), 2);
    t.check();
}

#[test]
fn the_sweep_follows_the_newest_timestamp() {
    let mut t = FlowTable::new(limits(10));
    t.advance(Ts(1_000));
    let a = t.insert(Ts(1_000), addr(1), SERVER, ()).0;
    t.insert(Ts(1_000), addr(2), SERVER, ());
    // Timestamps go backwards: the clock does not, and nothing expires early.
    t.advance(Ts(5));
    assert_eq!(t.clock(), Ts(1_000));
    assert!(t.sweep().is_empty());
    // The first flow sees a packet (stamped in the past); time then moves on.
    t.advance(Ts(1_050));
    t.touch(a, 0);
    t.advance(Ts(1_120));
    let gone: Vec<_> = t.sweep().into_iter().map(|f| f.client).collect();
    assert_eq!(gone, [addr(2)]);
    // A done flow only lingers.
    t.flow(a).done = true;
    t.touch(a, 0);
    t.advance(Ts(1_131));
    assert!(t.sweep().is_empty(), "done flows are not returned");
    assert!(t.is_empty());
    t.check();
}

#[test]
fn too_much_state_evicts_other_flows() {
    let mut t = FlowTable::new(limits(10));
    let a = t.insert(Ts(1), addr(1), SERVER, ()).0;
    let b = t.insert(Ts(1), addr(2), SERVER, ()).0;
    let c = t.insert(Ts(1), addr(3), SERVER, ()).0;
    t.touch(a, 400);
    t.touch(b, 400);
    assert!(t.evict_over_state(b).is_none());
    t.touch(c, 400);
    // Over 1000: the least recently active open flow goes, never the one given.
    assert_eq!(t.evict_over_state(c).map(|f| f.client), Some(addr(1)));
    assert!(t.evict_over_state(c).is_none());
    assert_eq!(t.state_bytes(), 800);
    // A single flow over the bound is left alone (its own limits bound it).
    t.touch(c, 5000);
    assert_eq!(t.evict_over_state(c).map(|f| f.client), Some(addr(2)));
    assert!(t.evict_over_state(c).is_none());
    t.check();
}

#[derive(Debug, Clone)]
enum Op {
    Insert(u8),
    Touch(u8, u16),
    Finish(u8),
    Remove(u8),
    Advance(i8),
    Sweep,
    EvictState(u8),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        any::<u8>().prop_map(Op::Insert),
        (any::<u8>(), 0..600u16).prop_map(|(a, s)| Op::Touch(a, s)),
        any::<u8>().prop_map(Op::Finish),
        any::<u8>().prop_map(Op::Remove),
        any::<i8>().prop_map(Op::Advance),
        Just(Op::Sweep),
        any::<u8>().prop_map(Op::EvictState),
    ]
}

proptest! {
    /// Any sequence of operations keeps the lists, the index and the counts consistent,
    /// and the table within its bounds.
    #[test]
    fn the_table_stays_consistent(ops in prop::collection::vec(op(), 1..300)) {
        let mut t: FlowTable<()> = FlowTable::new(limits(16));
        let mut now = 0i64;
        for op in ops {
            match op {
                Op::Insert(a) => {
                    if found(&mut t, addr(a as u32)).is_none() {
                        t.insert(Ts(now), addr(a as u32), SERVER, ());
                    }
                }
                Op::Touch(a, s) => {
                    if let Some(slot) = found(&mut t, addr(a as u32)) {
                        t.touch(slot, s as usize);
                    }
                }
                Op::Finish(a) => {
                    if let Some(slot) = found(&mut t, addr(a as u32)) {
                        t.flow(slot).done = true;
                        t.touch(slot, 0);
                    }
                }
                Op::Remove(a) => {
                    if let Some(slot) = found(&mut t, addr(a as u32)) {
                        t.remove(slot);
                    }
                }
                Op::Advance(d) => {
                    now += d as i64;
                    t.advance(Ts(now));
                }
                Op::Sweep => {
                    for f in t.sweep() {
                        prop_assert!(!f.done);
                    }
                }
                Op::EvictState(a) => {
                    if let Some(keep) = found(&mut t, addr(a as u32)) {
                        while let Some(f) = t.evict_over_state(keep) {
                            prop_assert!(f.client != addr(a as u32));
                        }
                    }
                }
            }
            t.check();
            prop_assert!(t.len() <= 16);
        }
    }
}

// --- Both directions of a flow against a byte model --------------------------------

/// A segment of one direction: `[start, start + len)` of its stream, the last
/// `missing` bytes cut by the snap length, acknowledging `ack` bytes of the other.
#[derive(Debug, Clone)]
struct Seg {
    up: bool,
    start: usize,
    len: usize,
    missing: usize,
    ack: usize,
}

fn dir_segs(up: bool, len: usize) -> impl Strategy<Value = Vec<Seg>> {
    let seg = (0..len, 1..300usize, 0..5usize).prop_map(move |(start, l, cut)| {
        let l = l.min(len - start);
        Seg {
            up,
            start,
            len: l,
            missing: if cut == 0 { l / 2 } else { 0 },
            ack: 0,
        }
    });
    prop::collection::vec(seg, 0..40)
}

/// Interleaves the two directions, gives each segment the acknowledgment a receiver
/// would send (everything contiguous the other side had sent before it), then swaps
/// some neighbours: a capture can see a segment before the one it acknowledges.
fn conversation(up: Vec<Seg>, down: Vec<Seg>, picks: &[bool], swaps: &[usize]) -> Vec<Seg> {
    let (mut u, mut d) = (up.into_iter(), down.into_iter());
    let mut out = Vec::new();
    let mut sent: [Vec<(usize, usize)>; 2] = [Vec::new(), Vec::new()];
    let contiguous = |spans: &Vec<(usize, usize)>| {
        let mut s = spans.clone();
        s.sort_unstable();
        let mut end = 0;
        for (a, b) in s {
            if a > end {
                break;
            }
            end = end.max(b);
        }
        end
    };
    let mut pick = picks.iter().cycle();
    loop {
        let take_up = *pick.next().unwrap_or(&true);
        let next = if take_up {
            u.next().or_else(|| d.next())
        } else {
            d.next().or_else(|| u.next())
        };
        let Some(mut s) = next else { break };
        let me = usize::from(!s.up);
        s.ack = contiguous(&sent[1 - me]);
        sent[me].push((s.start, s.start + s.len));
        out.push(s);
    }
    for &i in swaps {
        if out.len() > 1 {
            let i = i % (out.len() - 1);
            out.swap(i, i + 1);
        }
    }
    out
}

const C_ISN: u32 = u32::MAX - 100;
const S_ISN: u32 = 4_000;

fn run_flow(segs: &[Seg], data: [&[u8]; 2], budget: &mut Budget) -> [Vec<Option<u8>>; 2] {
    let start = budget.remaining;
    let client = addr(1);
    let mut t: FlowTable<()> = FlowTable::new(Limits::default());
    let slot = t.insert(Ts(0), client, SERVER, ()).0;
    let flow = t.flow(slot);
    let mut got: [Vec<Option<u8>>; 2] = [Vec::new(), Vec::new()];
    let mut sink = |_: &mut (), dir: Dir, c: Chunk<'_>| {
        let g = &mut got[dir as usize];
        match c {
            Chunk::Data(_, d, _) => g.extend(d.iter().map(|&b| Some(b))),
            Chunk::Gap(_, n) => g.extend(std::iter::repeat_n(None, n as usize)),
            Chunk::Fin(_) => {}
        }
    };
    let handshake = [
        (client, SERVER, C_ISN.wrapping_sub(1), 0, false),
        (SERVER, client, S_ISN.wrapping_sub(1), C_ISN, true),
    ];
    for (src, dst, seq, ack, has_ack) in handshake {
        let seg = TcpSegment {
            src,
            dst,
            seq,
            ack,
            flags: TcpFlags {
                syn: true,
                ack: has_ack,
                ..Default::default()
            },
            payload: &[],
            missing: 0,
            window: 64240,
            timestamps: None,
        };
        flow.segment(Ts(0), &seg, budget, &mut sink);
    }
    for s in segs {
        let (src, dst, isn, other_isn) = if s.up {
            (client, SERVER, C_ISN, S_ISN)
        } else {
            (SERVER, client, S_ISN, C_ISN)
        };
        let bytes = data[usize::from(!s.up)];
        let seg = TcpSegment {
            src,
            dst,
            seq: isn.wrapping_add(s.start as u32),
            ack: other_isn.wrapping_add(s.ack as u32),
            flags: TcpFlags {
                ack: true,
                ..Default::default()
            },
            payload: &bytes[s.start..s.start + s.len - s.missing],
            missing: s.missing as u32,
            window: 64240,
            timestamps: None,
        };
        flow.segment(Ts(0), &seg, budget, &mut sink);
        let held: usize = flow.dirs.iter().map(HalfStream::held_bytes).sum();
        assert!(flow.waiting.len() <= MAX_WAITING);
        assert!(held <= 2 * budget.per_direction);
        assert!(budget.remaining <= start);
    }
    flow.flush(Ts(0), budget, &mut sink);
    assert_eq!(budget.remaining, start, "budget leaked");
    assert!(flow.waiting.is_empty());
    got
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn both_directions_match_the_model(
        (up_data, down_data, up, down) in (1..1200usize, 1..1200usize).prop_flat_map(|(a, b)| (
            prop::collection::vec(any::<u8>(), a),
            prop::collection::vec(any::<u8>(), b),
            dir_segs(true, a),
            dir_segs(false, b),
        )),
        picks in prop::collection::vec(any::<bool>(), 1..50),
        swaps in prop::collection::vec(any::<usize>(), 0..20),
        roomy in any::<bool>(),
    ) {
        let segs = conversation(up.clone(), down.clone(), &picks, &swaps);
        let mut budget = if roomy {
            Budget { per_direction: 1 << 20, remaining: 1 << 22 }
        } else {
            Budget { per_direction: 300 + HELD_OVERHEAD + MAP_OVERHEAD, remaining: 1_500 }
        };
        let got = run_flow(&segs, [&up_data, &down_data], &mut budget);
        for (i, (data, segs)) in [(&up_data, &up), (&down_data, &down)].into_iter().enumerate() {
            let end = segs.iter().map(|g| g.start + g.len).max().unwrap_or(0);
            prop_assert_eq!(got[i].len(), end, "direction {}", i);
            let mut carried = vec![false; end];
            let mut cut = vec![false; end];
            for g in segs.iter() {
                carried[g.start..g.start + g.len - g.missing].fill(true);
                cut[g.start + g.len - g.missing..g.start + g.len].fill(true);
            }
            for (j, b) in got[i].iter().enumerate() {
                match b {
                    Some(b) => {
                        prop_assert_eq!(*b, data[j], "direction {} byte {}", i, j);
                        prop_assert!(carried[j]);
                    }
                    None if roomy => prop_assert!(!carried[j] || cut[j], "direction {} byte {} lost", i, j),
                    None => {}
                }
            }
        }
    }
}

/// Timing: segments as `timing.rs` takes them, seen at the client's side of a path.
mod timing {
    use super::super::timing::Timing;
    use super::SERVER;
    use crate::decode::ip::{TcpFlags, TcpSegment};
    use crate::vocab::{Dir, Ts};
    use std::net::SocketAddr;

    const CLIENT: SocketAddr =
        SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 40_000);
    const MS: i64 = 1_000_000;
    static DATA: [u8; 2000] = [0; 2000];

    /// A segment from `dir`'s side: `seq`/`ack` numbers, `len` data bytes, SYN or not.
    fn seg(dir: Dir, seq: u32, ack: u32, len: usize, syn: bool) -> TcpSegment<'static> {
        let (src, dst) = match dir {
            Dir::Up => (CLIENT, SERVER),
            Dir::Down => (SERVER, CLIENT),
        };
        TcpSegment {
            src,
            dst,
            seq,
            ack,
            flags: TcpFlags {
                syn,
                ack: !(syn && dir == Dir::Up),
                ..Default::default()
            },
            payload: &DATA[..len],
            missing: 0,
            window: 64240,
            timestamps: None,
        }
    }

    /// SYN at 0, SYN-ACK at 100 ms, the client's ACK at 100.5 ms (ISNs 0 and 5000).
    fn handshake(t: &mut Timing) {
        t.segment(Ts(0), Dir::Up, &seg(Dir::Up, 0, 0, 0, true));
        t.segment(Ts(100 * MS), Dir::Down, &seg(Dir::Down, 5000, 1, 0, true));
        t.segment(
            Ts(100 * MS + MS / 2),
            Dir::Up,
            &seg(Dir::Up, 1, 5001, 0, false),
        );
    }

    #[test]
    fn the_handshake_splits_the_round_trip_and_gives_the_server_its_own_time() {
        let mut t = Timing::default();
        handshake(&mut t);
        // A 100-byte request at 101 ms, its answer's first byte at 301 ms: 200 ms of gap,
        // 100 of which are the way there and back.
        t.segment(Ts(101 * MS), Dir::Up, &seg(Dir::Up, 1, 5001, 100, false));
        t.segment(
            Ts(301 * MS),
            Dir::Down,
            &seg(Dir::Down, 5001, 101, 1000, false),
        );
        let s = t.stats().unwrap();
        assert_eq!(s.rtt_from, Some("handshake"));
        assert_eq!(s.rtt_ms, Some(100.5));
        assert_eq!(s.server_leg_ms, Some(100.0));
        assert_eq!(s.client_leg_ms, Some(0.5));
        assert_eq!((s.turns, s.server_ms), (1, Some(100.0)));
        assert_eq!((s.retransmits, s.out_of_order, s.dup_acks), (0, 0, 0));
        let p = t.path().unwrap();
        assert_eq!((p.rtt_ms, p.server_leg_ms), (100.5, 100.0));
    }

    #[test]
    fn mid_stream_the_echoed_timestamps_time_both_legs() {
        let mut t = Timing::default();
        let stamp = |mut s: TcpSegment<'static>, val: u32, ecr: u32| {
            s.timestamps = Some((val, ecr));
            s
        };
        t.segment(
            Ts(0),
            Dir::Up,
            &stamp(seg(Dir::Up, 1, 5001, 100, false), 1000, 7),
        );
        t.segment(
            Ts(30 * MS),
            Dir::Down,
            &stamp(seg(Dir::Down, 5001, 101, 0, false), 9000, 1000),
        );
        t.segment(
            Ts(40 * MS),
            Dir::Down,
            &stamp(seg(Dir::Down, 5001, 101, 500, false), 9001, 1000),
        );
        t.segment(
            Ts(42 * MS),
            Dir::Up,
            &stamp(seg(Dir::Up, 101, 5501, 0, false), 1001, 9001),
        );
        let s = t.stats().unwrap();
        assert_eq!(s.rtt_from, Some("timestamps"));
        assert_eq!(s.server_leg_ms, Some(30.0));
        assert_eq!(s.client_leg_ms, Some(2.0));
        assert_eq!(s.rtt_ms, Some(32.0));
    }

    #[test]
    fn retransmissions_and_out_of_order_are_told_apart_as_wireshark_does() {
        let mut t = Timing::default();
        handshake(&mut t);
        let down = |t: &mut Timing, ms: i64, seq: u32, len: usize| {
            t.segment(
                Ts(ms * MS),
                Dir::Down,
                &seg(Dir::Down, 5001 + seq, 1, len, false),
            );
        };
        let ack = |t: &mut Timing, ms: i64, upto: u32| {
            t.segment(
                Ts(ms * MS),
                Dir::Up,
                &seg(Dir::Up, 1, 5001 + upto, 0, false),
            );
        };
        down(&mut t, 200, 0, 1000);
        down(&mut t, 201, 2000, 1000); // 1000..2000 lost before the capture: a hole
        ack(&mut t, 201, 1000);
        down(&mut t, 202, 3000, 1000);
        ack(&mut t, 202, 1000); // duplicate 1
        down(&mut t, 203, 1000, 1000); // the hole filled 2 ms later: out of order
        down(&mut t, 400, 3000, 1000); // 3000..4000 again, 197 ms later: retransmission
        down(&mut t, 401, 4000, 1000);
        down(&mut t, 402, 6000, 1000); // 5000..6000 lost
        ack(&mut t, 402, 5000);
        ack(&mut t, 403, 5000);
        ack(&mut t, 404, 5000);
        // Asked for again, but 116 ms after the last duplicate ACK and more than a round
        // trip after the newest data: a (timeout) retransmission.
        down(&mut t, 520, 5000, 1000);
        ack(&mut t, 521, 7000);
        ack(&mut t, 530, 7000);
        let s = t.stats().unwrap();
        assert_eq!(s.out_of_order, 1, "{s:?}");
        assert_eq!(s.retransmits, 2, "{s:?}");
        assert_eq!(s.retransmit_bytes, 2000, "{s:?}");
        // The same ACK again with data outstanding; the last one with nothing owed is not.
        assert_eq!(s.dup_acks, 3, "{s:?}");
        assert_eq!(s.data_segments, 8, "{s:?}");
        assert!(s.recovery_ms > 0.0, "{s:?}");
    }

    #[test]
    fn a_fast_retransmission_follows_duplicate_acks_closely() {
        let mut t = Timing::default();
        handshake(&mut t);
        let s0 = |t: &mut Timing, ms: i64, seq: u32| {
            t.segment(
                Ts(ms * MS),
                Dir::Down,
                &seg(Dir::Down, 5001 + seq, 1, 1000, false),
            );
        };
        s0(&mut t, 200, 0);
        s0(&mut t, 201, 2000);
        for ms in [201, 202, 203] {
            t.segment(Ts(ms * MS), Dir::Up, &seg(Dir::Up, 1, 6001, 0, false));
        }
        // Within a round trip of the newest data, yet asked for: a fast retransmission.
        s0(&mut t, 205, 1000);
        let s = t.stats().unwrap();
        assert_eq!((s.retransmits, s.out_of_order), (1, 0), "{s:?}");
    }

    #[test]
    fn a_zero_window_is_counted_and_an_unanswered_syn_measures_nothing() {
        let mut t = Timing::default();
        handshake(&mut t);
        let mut z = seg(Dir::Up, 1, 5001, 0, false);
        z.window = 0;
        t.segment(Ts(300 * MS), Dir::Up, &z);
        assert_eq!(t.stats().unwrap().zero_windows, 1);
        let mut lone = Timing::default();
        lone.segment(Ts(0), Dir::Up, &seg(Dir::Up, 0, 0, 0, true));
        assert!(lone.stats().is_none());
    }
}

/// Every flow holds its timing counters: thousands of flows must stay within the memory
/// bound of `tests/hostile.rs`.
#[test]
fn timing_counters_stay_small() {
    let size = std::mem::size_of::<super::timing::Timing>();
    assert!(size <= 280, "Timing is {size} bytes");
}
