//! What one TCP connection's packets say about the path and the server, in a few counters
//! per direction (nothing is stored per packet): the round trip, split at the capture point
//! into the leg towards the server and the leg towards the client; the server's own time at
//! each turn of the conversation; the receive rate; and the signs of loss (retransmitted
//! segments and bytes, out-of-order segments, duplicate ACKs, zero windows).
//!
//! The round trip comes from the handshake when it was seen (SYN → SYN-ACK is the server's
//! leg, SYN-ACK → the client's ACK the client's: a capture on the client sees ~all of it in
//! the first, one on the server in the second). A capture that joins mid-connection times
//! one segment at a time per direction instead, by the TCP timestamp its peer echoes
//! (TSval → TSecr) or else by the ACK that covers it, and keeps the smallest sample (a
//! delayed ACK only ever adds). Retransmissions and out-of-order segments are told apart as
//! Wireshark does: data below what the sender already sent is a fast retransmission when the
//! receiver asked for it again (two duplicate ACKs or more, the last within 20 ms), out of
//! order when it comes within a round trip of the sender's newest data and does not end where the sender's
//! data ends, a retransmission otherwise. Seen from the client, a segment the path lost
//! before the capture point and the server sent again promptly counts as out of order: both
//! counts together are the repairs.

use super::super::ip::TcpSegment;
use crate::vocab::event::{PathRtt, TcpStats};
use crate::vocab::time::Ts;
use crate::vocab::Dir;

/// When a round trip is not known yet, data below the highest sequence number that comes
/// this soon after the sender's previous segment is taken as reordered, not resent
/// (Wireshark's default, `tcp.analysis.ooo_threshold`, is 3 ms).
const OOO_DEFAULT_NS: i64 = 3_000_000;

/// A resend of what duplicate ACKs asked for is a fast retransmission when it follows the
/// last of them this soon (Wireshark's rule).
const FAST_RETRANSMIT_NS: i64 = 20_000_000;

/// One direction's counters: segments this side sent, and ACKs it sent about the other's.
#[derive(Default)]
struct Side {
    /// One past the highest sequence number sent (data or FIN).
    next: Option<u32>,
    /// First and last segment that carried new data, and how much new data (for the rate).
    first_new: Option<At>,
    last_new: Option<At>,
    new_bytes: u64,
    /// Segments that carried data (new or not).
    data_segments: u32,
    retransmits: u32,
    retransmit_bytes: u64,
    out_of_order: u32,
    /// Time the capture waited for a lost segment: from the first segment after a hole
    /// (or the last new data before a resend) to the segment that repaired it.
    recovery_us: u64,
    /// A hole in this side's data opened at this time and is not repaired yet.
    hole_since: Option<At>,
    /// The last pure ACK this side sent (ack number, window), for duplicates.
    last_ack: Option<(u32, u16)>,
    /// Duplicates of `last_ack` in a row, and when the last one was seen.
    dup_run: u32,
    dup_at: Option<At>,
    dup_acks: u32,
    zero_windows: u32,
    /// One segment being timed: (what the peer must acknowledge or echo, when it was seen).
    probe_seq: Option<(u32, At)>,
    probe_tsval: Option<(u32, At)>,
}

/// The smallest sample of one leg (microseconds; `u32::MAX` while unmeasured) and how it
/// was taken (its rank, see `Leg::rank`).
#[derive(Clone, Copy)]
struct Leg {
    us: u32,
    rank: u8,
}

impl Default for Leg {
    fn default() -> Self {
        Leg {
            us: u32::MAX,
            rank: 0,
        }
    }
}

const WITNESSES: [&str; 4] = ["", "acks", "timestamps", "handshake"];

impl Leg {
    /// How much a witness is trusted: the handshake (one exchange of flags, answered at
    /// once) over echoed timestamps (no doubt about which segment was answered) over ACKs.
    fn rank(from: &str) -> u8 {
        WITNESSES.iter().position(|w| *w == from).unwrap_or(0) as u8
    }

    fn ns(self) -> Option<i64> {
        (self.rank > 0).then_some(i64::from(self.us) * 1000)
    }

    fn from(self) -> Option<&'static str> {
        (self.rank > 0).then(|| WITNESSES[usize::from(self.rank)])
    }

    fn sample(&mut self, ns: i64, from: &'static str) {
        if ns < 0 {
            return;
        }
        let us = u32::try_from(ns / 1000).unwrap_or(u32::MAX - 1);
        let new = Leg::rank(from);
        if new > self.rank {
            *self = Leg { us, rank: new };
        } else if new == self.rank {
            // The smallest sample: a delayed or piggybacked answer only ever adds.
            self.us = self.us.min(us);
        }
    }
}

/// A time within one connection: microseconds after the connection's first segment (at
/// least 1, so that `Option<At>` takes four bytes; a flow is kept at most 71 minutes of
/// capture time apart, later times saturate). Thousands of flows each hold a dozen of
/// these: they are kept small.
#[derive(Clone, Copy, PartialEq, Eq)]
struct At(std::num::NonZeroU32);

impl At {
    fn ns(self) -> i64 {
        i64::from(self.0.get()) * 1000
    }
}

/// The timing and loss counters of one connection.
#[derive(Default)]
pub(crate) struct Timing {
    sides: [Side; 2],
    /// Leg 0: capture → server → capture (timed by the client's segments); leg 1: capture →
    /// client → capture (timed by the server's).
    legs: [Leg; 2],
    /// The connection's first segment: what `At` counts from.
    base: Option<Ts>,
    last_syn: Option<At>,
    synack: Option<At>,
    /// The client sent data and the server has not answered it yet: when its last byte was
    /// seen.
    asked_at: Option<At>,
    /// Turns (a request answered) and the server's time on them.
    turns: u32,
    server_us_sum: u64,
    server_us_max: u32,
}

/// `a` is after `b` in sequence space.
fn after(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) > 0
}

impl Timing {
    /// Takes one segment, sent by the `dir` side, seen at `ts`.
    pub(crate) fn segment(&mut self, ts: Ts, dir: Dir, seg: &TcpSegment<'_>) {
        let ts = self.at(ts);
        let me = dir as usize;
        let f = seg.flags;
        if f.rst {
            return;
        }
        if f.syn {
            match dir {
                Dir::Up => self.last_syn = Some(ts),
                Dir::Down => {
                    if self.synack.is_none() {
                        self.synack = Some(ts);
                        if let Some(s) = self.last_syn {
                            self.legs[0].sample(ts.ns() - s.ns(), "handshake");
                        }
                    }
                }
            }
            let side = &mut self.sides[me];
            side.next.get_or_insert(seg.seq.wrapping_add(1));
            return;
        }
        if dir == Dir::Up && self.synack.is_some() && self.legs[1].from() != Some("handshake") {
            // The client's first segment after the SYN-ACK: the client's leg.
            if let (Some(sa), true) = (self.synack, f.ack) {
                self.legs[1].sample(ts.ns() - sa.ns(), "handshake");
            }
        }
        self.answers(ts, dir, seg);
        let len = seg.payload.len() as u32 + seg.missing;
        if seg.window == 0 && f.ack {
            self.sides[me].zero_windows += 1;
        }
        if len == 0 && !f.fin {
            self.pure_ack(ts, dir, seg);
            return;
        }
        self.sides[me].last_ack = None;
        self.sides[me].dup_run = 0;
        let end = seg.seq.wrapping_add(len).wrapping_add(u32::from(f.fin));
        let ooo_ns = self.legs[0]
            .ns()
            .zip(self.legs[1].ns())
            .map_or(OOO_DEFAULT_NS, |(a, b)| a + b);
        // The receiver asked for exactly this segment again (two duplicate ACKs or more):
        // a fast retransmission, whatever its timing.
        let asked_again = {
            let o = &self.sides[1 - me];
            o.dup_run >= 2
                && o.last_ack.is_some_and(|(a, _)| a == seg.seq)
                && o.dup_at
                    .is_some_and(|d| ts.ns() - d.ns() < FAST_RETRANSMIT_NS)
        };
        let side = &mut self.sides[me];
        let prev = side.last_new;
        side.data_segments += u32::from(len > 0);
        match side.next {
            Some(next) if !after(seg.seq, next) && seg.seq != next => {
                // Below what this side already sent: resent, or overtaken on the way.
                let overlap = next.wrapping_sub(seg.seq).min(len);
                let soon = prev.is_some_and(|p| ts.ns() - p.ns() < ooo_ns);
                if !asked_again && soon && end != next {
                    side.out_of_order += 1;
                } else if len > 0 {
                    side.retransmits += 1;
                    side.retransmit_bytes += u64::from(overlap);
                    // Karn: a resent segment times nothing.
                    side.probe_seq = None;
                }
                let since = side.hole_since.take().or(side.last_new);
                if len > 0 {
                    if let Some(s) = since {
                        side.recovery_us += ((ts.ns() - s.ns()).max(0) / 1000) as u64;
                    }
                }
                if after(end, next) {
                    side.next = Some(end);
                    side.new_data(ts, u64::from(end.wrapping_sub(next)));
                }
            }
            Some(next) => {
                if after(seg.seq, next) && side.hole_since.is_none() {
                    // Bytes before this one never reached the capture (yet).
                    side.hole_since = Some(ts);
                }
                side.next = Some(end);
                side.new_data(ts, u64::from(len));
                if len > 0 && side.probe_seq.is_none() {
                    side.probe_seq = Some((end, ts));
                }
            }
            None => {
                side.next = Some(end);
                side.new_data(ts, u64::from(len));
            }
        }
        if let Some((tsval, _)) = seg.timestamps {
            let side = &mut self.sides[me];
            if side.probe_tsval.is_none() {
                side.probe_tsval = Some((tsval, ts));
            }
        }
        if len > 0 {
            self.turn(ts, dir);
        }
    }

    /// What this segment acknowledges or echoes of the other side's timed segment.
    fn answers(&mut self, ts: At, dir: Dir, seg: &TcpSegment<'_>) {
        let other = 1 - dir as usize;
        // The leg a sample of the other side's segment measures: the client's data is
        // answered by the server (leg 0), the server's by the client (leg 1).
        let leg = other;
        if let (Some((_, tsecr)), Some((v, at))) = (seg.timestamps, self.sides[other].probe_tsval) {
            if tsecr == v || after(tsecr, v) {
                self.legs[leg].sample(ts.ns() - at.ns(), "timestamps");
                self.sides[other].probe_tsval = None;
            }
        }
        if let (true, Some((end, at))) = (seg.flags.ack, self.sides[other].probe_seq) {
            if seg.ack == end || after(seg.ack, end) {
                self.legs[leg].sample(ts.ns() - at.ns(), "acks");
                self.sides[other].probe_seq = None;
            }
        }
    }

    fn pure_ack(&mut self, ts: At, dir: Dir, seg: &TcpSegment<'_>) {
        if !seg.flags.ack {
            return;
        }
        let other_next = self.sides[1 - dir as usize].next;
        let side = &mut self.sides[dir as usize];
        let now = (seg.ack, seg.window);
        // The same ACK again while the other side has data outstanding: the receiver
        // saw a hole (or a resent copy) and says so.
        if side.last_ack == Some(now) && other_next.is_some_and(|n| after(n, seg.ack)) {
            side.dup_acks += 1;
            side.dup_run += 1;
            side.dup_at = Some(ts);
        } else if side.last_ack.map(|(a, _)| a) != Some(seg.ack) {
            side.dup_run = 0;
        }
        side.last_ack = Some(now);
    }

    /// A request's bytes and the answer to them: the server's time is the gap between the
    /// request's last byte and the response's first, less the server's leg of the round
    /// trip (what the bytes spent on the way).
    fn turn(&mut self, ts: At, dir: Dir) {
        match dir {
            Dir::Up => self.asked_at = Some(ts),
            Dir::Down => {
                if let Some(asked) = self.asked_at.take() {
                    let leg = self.legs[0].ns().unwrap_or(0);
                    let us = u32::try_from((ts.ns() - asked.ns() - leg).max(0) / 1000)
                        .unwrap_or(u32::MAX);
                    self.turns += 1;
                    self.server_us_sum += u64::from(us);
                    self.server_us_max = self.server_us_max.max(us);
                }
            }
        }
    }

    /// `ts` as a time within this connection.
    fn at(&mut self, ts: Ts) -> At {
        let base = *self.base.get_or_insert(ts);
        let us = ts.0.saturating_sub(base.0) / 1000 + 1;
        let us = u32::try_from(us.max(1)).unwrap_or(u32::MAX);
        At(std::num::NonZeroU32::new(us).expect("at least 1"))
    }

    /// The round trip so far, for the exchanges answered now.
    pub(crate) fn path(&self) -> Option<PathRtt> {
        let [server, client] = self.legs;
        let (s, c) = server.ns().zip(client.ns())?;
        Some(PathRtt {
            rtt_ms: (s + c) as f64 / 1e6,
            server_leg_ms: s as f64 / 1e6,
        })
    }

    /// The counters as the connection event carries them; `None` when the connection
    /// carried nothing to measure (an unanswered SYN).
    pub(crate) fn stats(&self) -> Option<TcpStats> {
        let ms = |ns: i64| ns as f64 / 1e6;
        let [up, down] = &self.sides;
        let [server_leg, client_leg] = self.legs;
        if server_leg.rank == 0 && client_leg.rank == 0 && down.next.is_none() {
            return None;
        }
        let rtt = server_leg.ns().zip(client_leg.ns()).map(|(a, b)| ms(a + b));
        let from = match (server_leg.from(), client_leg.from()) {
            (Some(a), Some(b)) if a == b => Some(a),
            (Some("handshake"), Some(b)) | (Some(b), Some("handshake")) => Some(b),
            (Some(_), Some(_)) => Some("acks"),
            _ => None,
        };
        let rate = match (down.first_new, down.last_new) {
            (Some(a), Some(b)) if b.ns() > a.ns() && down.new_bytes > 0 => {
                Some(down.new_bytes as f64 * 8.0 / ((b.ns() - a.ns()) as f64 / 1e9))
            }
            _ => None,
        };
        Some(TcpStats {
            rtt_ms: rtt,
            rtt_from: from,
            server_leg_ms: server_leg.ns().map(ms),
            client_leg_ms: client_leg.ns().map(ms),
            turns: self.turns,
            server_ms: (self.turns > 0)
                .then(|| round_us(self.server_us_sum as f64 / 1e3 / f64::from(self.turns))),
            server_max_ms: (self.turns > 0).then(|| f64::from(self.server_us_max) / 1e3),
            down_bps: rate,
            data_segments: u64::from(up.data_segments) + u64::from(down.data_segments),
            retransmits: up.retransmits + down.retransmits,
            retransmit_bytes: up.retransmit_bytes + down.retransmit_bytes,
            retransmits_up: up.retransmits,
            out_of_order: up.out_of_order + down.out_of_order,
            dup_acks: up.dup_acks + down.dup_acks,
            zero_windows: up.zero_windows + down.zero_windows,
            recovery_ms: (up.recovery_us + down.recovery_us) as f64 / 1e3,
        })
    }
}

/// Milliseconds to the microsecond (the capture's own resolution at best).
fn round_us(ms: f64) -> f64 {
    (ms * 1000.0).round() / 1000.0
}

impl Side {
    fn new_data(&mut self, ts: At, bytes: u64) {
        if bytes == 0 {
            return;
        }
        self.first_new.get_or_insert(ts);
        self.last_new = Some(ts);
        self.new_bytes += bytes;
    }
}
