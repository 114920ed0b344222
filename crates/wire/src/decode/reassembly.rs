//! One direction of a TCP stream, put back in order.
//!
//! In-order bytes are handed on at once, straight from the packet (no copy, no waiting for
//! ACKs: a live view wants them now). Segments from the future are copied into a small
//! ordered buffer until the hole before them fills. Retransmissions and overlaps keep the
//! first copy of each byte. When the buffer would exceed its bound — this direction's or
//! the table-wide budget — the hole is declared a gap and the parser above resynchronises.
//!
//! Sequence numbers are mapped to 64-bit stream offsets relative to the last delivered byte,
//! so wrap-around at 2^32 needs no special case.

use crate::vocab::time::Ts;
use std::collections::BTreeMap;

/// What a direction hands to the protocol parser, in stream order.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Chunk<'a> {
    /// Bytes, and how far into the *other* direction's stream the sender had received when
    /// it sent them (its acknowledgment), if known.
    Data(Ts, &'a [u8], Option<u64>),
    /// `len` bytes were on the wire but are not in the capture.
    Gap(Ts, u64),
    /// The sender closed its side (FIN) after everything before it was delivered.
    Fin(Ts),
}

struct Held {
    ts: Ts,
    acked: Option<u64>,
    data: Vec<u8>,
    /// Bytes after `data` that the snap length cut off.
    missing: u64,
}

#[derive(Default)]
pub(crate) struct HalfStream {
    /// Sequence number of stream offset 0; `None` until the first SYN or segment.
    base: Option<u32>,
    /// Stream offset of the next byte to deliver.
    delivered: u64,
    held: BTreeMap<u64, Held>,
    held_bytes: usize,
    fin_at: Option<u64>,
    finished: bool,
    /// Number of gaps and bytes lost in them.
    pub(crate) gaps: u32,
    pub(crate) gap_bytes: u64,
    /// Bytes seen on the wire in this direction (first copy only).
    pub(crate) bytes: u64,
}

/// What holding one segment costs beyond its payload (its buffer's header, its share of
/// the map): charged too, so that a flood of tiny or empty segments is bounded like a few
/// large ones.
pub(crate) const HELD_OVERHEAD: usize = 96;

/// What a direction's map of held segments costs while it holds anything (its first node):
/// charged too, so that many flows holding one tiny segment each are bounded.
pub(crate) const MAP_OVERHEAD: usize = 768;

/// Bounds shared by every direction of every flow. Every byte held (plus the overheads
/// above) is taken from `remaining` and given back when the segment is delivered or given
/// up, so `remaining` returns to its start when nothing is held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Budget {
    /// Per-direction limit on held (out-of-order) bytes.
    pub(crate) per_direction: usize,
    /// Bytes still available to all directions together.
    pub(crate) remaining: usize,
}

impl HalfStream {
    pub(crate) fn finished(&self) -> bool {
        self.finished
    }

    pub(crate) fn started(&self) -> bool {
        self.base.is_some()
    }

    #[cfg(test)]
    /// What this direction's held segments cost, overhead included.
    pub(crate) fn held_bytes(&self) -> usize {
        self.held_bytes
    }

    #[cfg(test)]
    /// Segments held.
    pub(crate) fn held_segments(&self) -> usize {
        self.held.len()
    }

    /// The sequence number right after everything delivered (and a delivered FIN), or
    /// `None` before the first segment.
    pub(crate) fn next_seq(&self) -> Option<u32> {
        let fin = u32::from(self.finished);
        Some(
            self.base?
                .wrapping_add(self.delivered as u32)
                .wrapping_add(fin),
        )
    }

    /// Stream offset of sequence number `seq` (for acknowledgments of this direction).
    pub(crate) fn offset_of_seq(&self, seq: u32) -> Option<u64> {
        Some(seq.wrapping_sub(self.base?) as u64)
    }

    /// A SYN from this side: the next byte is `seq + 1`.
    pub(crate) fn syn(&mut self, seq: u32) {
        if self.base.is_none() {
            self.base = Some(seq.wrapping_add(1));
        }
    }

    /// Offset in the stream of sequence number `seq`, relative to what was delivered.
    fn offset_of(&self, base: u32, seq: u32) -> i64 {
        let next = base.wrapping_add(self.delivered as u32);
        self.delivered as i64 + seq.wrapping_sub(next) as i32 as i64
    }

    /// Feeds one segment: `payload` was captured, `missing` more bytes followed it on the
    /// wire. Calls `out` with everything that became deliverable.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn segment(
        &mut self,
        ts: Ts,
        seq: u32,
        payload: &[u8],
        missing: u32,
        fin: bool,
        acked: Option<u64>,
        budget: &mut Budget,
        out: &mut dyn FnMut(Chunk<'_>),
    ) {
        if self.finished {
            return;
        }
        // Capture started mid-stream: the first byte we see is offset 0.
        let base = *self.base.get_or_insert(seq);
        let start = self.offset_of(base, seq);
        let len = (payload.len() + missing as usize) as i64;
        let end = start + len;
        if fin && self.fin_at.is_none() && end >= self.delivered as i64 {
            self.fin_at = Some(end as u64);
        }
        if end > self.delivered as i64 {
            if start <= self.delivered as i64 {
                let skip = (self.delivered as i64 - start) as usize;
                self.deliver(ts, acked, payload, missing as u64, skip, out);
                self.drain(out, budget);
            } else if len > 0 {
                self.hold(
                    ts,
                    acked,
                    start as u64,
                    payload,
                    missing as u64,
                    budget,
                    out,
                );
            }
        }
        self.check_fin(ts, out);
    }

    /// Delivers `payload[skip..]` plus `missing` absent bytes after it (skip may reach
    /// into the missing part).
    fn deliver(
        &mut self,
        ts: Ts,
        acked: Option<u64>,
        payload: &[u8],
        missing: u64,
        skip: usize,
        out: &mut dyn FnMut(Chunk<'_>),
    ) {
        if skip < payload.len() {
            let data = &payload[skip..];
            self.delivered += data.len() as u64;
            self.bytes += data.len() as u64;
            out(Chunk::Data(ts, data, acked));
        }
        let missing_left = (missing + payload.len() as u64).saturating_sub(skip as u64);
        let missing_left = missing_left.min(missing);
        if missing_left > 0 {
            self.record_gap(ts, missing_left, out);
        }
    }

    fn record_gap(&mut self, ts: Ts, len: u64, out: &mut dyn FnMut(Chunk<'_>)) {
        self.delivered += len;
        self.bytes += len;
        self.gaps += 1;
        self.gap_bytes += len;
        out(Chunk::Gap(ts, len));
    }

    #[allow(clippy::too_many_arguments)]
    fn hold(
        &mut self,
        ts: Ts,
        acked: Option<u64>,
        at: u64,
        payload: &[u8],
        missing: u64,
        budget: &mut Budget,
        out: &mut dyn FnMut(Chunk<'_>),
    ) {
        // First copy wins: an identical or shorter retransmission of a held segment is dropped.
        if let Some(h) = self.held.get(&at) {
            if h.data.len() as u64 + h.missing >= payload.len() as u64 + missing {
                return;
            }
        }
        // What holding it would cost (the map's own cost with its first segment).
        let cost = |held: &BTreeMap<u64, Held>| {
            payload.len() + HELD_OVERHEAD + if held.is_empty() { MAP_OVERHEAD } else { 0 }
        };
        let mut need = cost(&self.held);
        while self.held_bytes + need > budget.per_direction || need > budget.remaining {
            // Out of room: give up on the oldest hole so the parser can move on.
            if !self.skip_to_first_held(out, budget) {
                break;
            }
            need = cost(&self.held);
        }
        if at <= self.delivered {
            // Skipping ahead reached this segment: it is in order now.
            if at + need as u64 + missing > self.delivered {
                let skip = (self.delivered - at) as usize;
                self.deliver(ts, acked, payload, missing, skip, out);
                self.drain(out, budget);
            }
            return;
        }
        if need > budget.remaining {
            // Even an empty buffer cannot hold it: the bytes before it are lost.
            let gap = at - self.delivered;
            self.record_gap(ts, gap, out);
            self.deliver(ts, acked, payload, missing, 0, out);
            self.drain(out, budget);
            return;
        }
        if let Some(old) = self.held.insert(
            at,
            Held {
                ts,
                acked,
                data: payload.to_vec(),
                missing,
            },
        ) {
            // Replaced a shorter copy (the map was not empty, so `need` has no map cost).
            self.release(old.data.len() + HELD_OVERHEAD, budget);
        }
        self.held_bytes += need;
        budget.remaining -= need;
        if self.held_bytes > budget.per_direction {
            self.skip_to_first_held(out, budget);
        }
    }

    fn release(&mut self, n: usize, budget: &mut Budget) {
        self.held_bytes -= n;
        budget.remaining += n;
    }

    /// The peer acknowledged bytes up to `acked`, past a hole before held data: those bytes
    /// reached the peer but not the capture, and no retransmission will fill the hole.
    pub(crate) fn hole_acked(&self, acked: u64) -> bool {
        self.held
            .first_key_value()
            .is_some_and(|(&at, _)| at > self.delivered && at <= acked)
    }

    /// Gives up on the hole before the first held segment (see `hole_acked`).
    pub(crate) fn skip_hole(&mut self, out: &mut dyn FnMut(Chunk<'_>), budget: &mut Budget) {
        self.skip_to_first_held(out, budget);
    }

    /// Declares the hole before the first held segment a gap and delivers what follows.
    fn skip_to_first_held(&mut self, out: &mut dyn FnMut(Chunk<'_>), budget: &mut Budget) -> bool {
        let Some((&at, h)) = self.held.first_key_value() else {
            return false;
        };
        if at > self.delivered {
            let ts = h.ts;
            self.record_gap(ts, at - self.delivered, out);
        }
        self.drain(out, budget);
        true
    }

    /// Delivers held segments that the delivered stream has caught up with.
    fn drain(&mut self, out: &mut dyn FnMut(Chunk<'_>), budget: &mut Budget) {
        while let Some(entry) = self.held.first_entry() {
            let at = *entry.key();
            if at > self.delivered {
                break;
            }
            let h = entry.remove();
            self.release(h.data.len() + HELD_OVERHEAD, budget);
            if self.held.is_empty() {
                self.release(MAP_OVERHEAD, budget);
            }
            let end = at + h.data.len() as u64 + h.missing;
            if end > self.delivered {
                let skip = (self.delivered - at) as usize;
                self.deliver(h.ts, h.acked, &h.data, h.missing, skip, out);
            }
        }
    }

    fn check_fin(&mut self, ts: Ts, out: &mut dyn FnMut(Chunk<'_>)) {
        if !self.finished && self.fin_at.is_some_and(|f| f <= self.delivered) {
            self.finished = true;
            out(Chunk::Fin(ts));
        }
    }

    /// The flow is over (RST, end of capture, eviction): whatever is held is delivered
    /// with gaps for the holes.
    pub(crate) fn flush(&mut self, ts: Ts, out: &mut dyn FnMut(Chunk<'_>), budget: &mut Budget) {
        while self.skip_to_first_held(out, budget) {}
        self.check_fin(ts, out);
    }
}

#[cfg(test)]
mod tests;
