//! The tap between the relay and the decoder: a queue bounded in bytes. When the decoder (or
//! the zip hashing it waits for) falls behind, the relay waits for room before it reads on
//! (backpressure: a download is slowed to the speed of decoding and hashing, and every zip
//! gets its `h1:`), at most `WAIT_MAX` for one chunk. A decoder that makes no room in that
//! time is stuck (its output not read, say a paused `| less`): from then until it has
//! emptied the queue, the relay does not wait at all and chunks are dropped and counted,
//! and the decoder is told how many bytes of which direction it missed (a `Gap`), so the
//! affected exchanges end with `error: "gap"` and their zip hashes are given up instead of
//! being computed on bytes that are not all there. The queue never grows past its budget.
//!
//! On HTTP/2 a dropped chunk would cost more than its own bytes: the frame headers and
//! HPACK blocks in it are what every later stream on the connection is decoded with. So
//! there only DATA payload is dropped: the tap follows the frame boundaries, queues the
//! framing (from a small reserve beyond the budget) and reports each run of payload it
//! dropped as a gap inside that payload, which the decoder passes over. The exchanges keep
//! their status, timing and byte counts; only their bodies (and hashes) are given up.
//!
//! A connection's own events (its open, each direction's gap and fin, its end) must arrive
//! in order and must not wait either: room for them is kept in the queue when the
//! connection opens (tokio's owned permits). A connection that opens when no room is left
//! (the decoder stuck, say, on output nobody reads) is relayed untapped, and counted.

use super::h2frames::{Frames, Piece, PREFACE};
use gomodwatch_wire::vocab::{ConnError, Dir, StreamEvent, Ts};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc::{self, OwnedPermit};
use tokio::sync::Notify;

/// Plaintext bytes queued for the decoder at most, over all connections. A few hundred
/// milliseconds of a fast transfer: enough to ride out a slow frame of the TUI, small
/// enough for the proxy's memory target.
pub(crate) const BUDGET: usize = 2 << 20;
/// Events queued at most besides the room kept for connections (data events are bounded
/// by BUDGET too).
pub(crate) const EVENTS: usize = 4096;
/// Room beyond BUDGET for an HTTP/2 connection's framing when its DATA payloads are being
/// dropped: frame headers and header blocks are a few hundred bytes per exchange.
pub(crate) const FRAMING_RESERVE: usize = 256 << 10;
/// What a connection keeps room for: its open, each direction's gap and fin, its end.
const KEPT: usize = 6;
/// The longest the relay waits for room for one chunk. A decoder that is only busy (hashing
/// a zip, drawing the TUI) frees room within milliseconds; one that frees none for this long
/// is stuck, and then the relay stops waiting until the decoder has caught up.
pub(crate) const WAIT_MAX: Duration = Duration::from_secs(1);

/// The queue's capacity for a proxy serving `max_clients` at once: every client's
/// connection can keep its room and data still has EVENTS.
pub(crate) fn capacity(max_clients: usize) -> usize {
    EVENTS + KEPT * max_clients
}

type Kept = OwnedPermit<StreamEvent>;

/// What was dropped, for the status bar and the summary.
#[derive(Debug, Default)]
pub(crate) struct TapStats {
    pub(crate) dropped_chunks: AtomicU64,
    pub(crate) dropped_bytes: AtomicU64,
    /// Connections relayed without being decoded at all (the queue had no room for them).
    pub(crate) untapped: AtomicU64,
    /// Bytes queued right now.
    pub(crate) queued: AtomicUsize,
    /// Relay tasks waiting for room, and the wake-up the decoder gives them as it takes.
    waiting: AtomicUsize,
    room: Notify,
    /// A wait ran out (`WAIT_MAX`): no waiting until the decoder has emptied the queue.
    stalled: AtomicBool,
    /// Times the relay waited for room (backpressure): `summary.mitm_relay_waits`.
    pub(crate) waits: AtomicU64,
}

#[derive(Clone)]
pub(crate) struct Tap {
    tx: mpsc::Sender<StreamEvent>,
    stats: Arc<TapStats>,
}

impl Tap {
    pub(crate) fn new(tx: mpsc::Sender<StreamEvent>, stats: Arc<TapStats>) -> Tap {
        Tap { tx, stats }
    }

    /// A connection opens: `open` is queued and room is kept for the events it must send
    /// later, so that none of them ever waits for the decoder (a decoder stuck writing to
    /// a paused `| less` must not hold up a download). With no room left the connection
    /// is relayed untapped, and counted.
    ///
    /// `h2`: the connection speaks HTTP/2 (ALPN), so when chunks must be dropped only the
    /// body bytes of DATA frames are, and the decoder keeps every exchange's head, status
    /// and end.
    pub(crate) fn open(&self, id: u64, open: StreamEvent, h2: bool) -> (DirTap, DirTap, EndTap) {
        // All or nothing: what was reserved goes back if the rest cannot be.
        let reserved: Option<Vec<Kept>> = (0..KEPT)
            .map(|_| self.tx.clone().try_reserve_owned().ok())
            .collect();
        let dir = |dir, kept| DirTap {
            tap: self.clone(),
            id,
            dir,
            lost: 0,
            kept,
            frames: h2.then(|| Frames::new(if dir == Dir::Up { PREFACE.len() } else { 0 })),
        };
        match reserved.map(<[Kept; KEPT]>::try_from) {
            Some(Ok([room, end, up_gap, up_fin, down_gap, down_fin])) => {
                room.send(open);
                (
                    dir(Dir::Up, Some((up_gap, up_fin))),
                    dir(Dir::Down, Some((down_gap, down_fin))),
                    EndTap {
                        id,
                        kept: Some(end),
                    },
                )
            }
            _ => {
                self.stats.untapped.fetch_add(1, Ordering::Relaxed);
                (
                    dir(Dir::Up, None),
                    dir(Dir::Down, None),
                    EndTap { id, kept: None },
                )
            }
        }
    }

    /// A connection that failed before anything was relayed: one event, told if there is
    /// room (never waited for), counted as untapped if not.
    pub(crate) fn failed(&self, ev: StreamEvent) {
        if self.tx.try_send(ev).is_err() {
            self.stats.untapped.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// Hands one direction's chunks over, or drops them; remembers what it owes as a gap.
pub(crate) struct DirTap {
    tap: Tap,
    id: u64,
    dir: Dir,
    /// Bytes dropped and not yet reported.
    lost: u64,
    /// Room for the gap and the fin at the end; none when the connection is untapped
    /// (then every chunk is counted as dropped).
    kept: Option<(Kept, Kept)>,
    /// HTTP/2 frame boundaries, while everything but DATA payload has reached the
    /// decoder (after a loss that cut framing, it cannot follow the stream anyway).
    frames: Option<Frames>,
}

impl DirTap {
    /// Hands a chunk over, waiting for room first (at most `WAIT_MAX`, and not at all
    /// while the decoder is stuck: see the module's comment).
    pub(crate) async fn data(&mut self, ts: Ts, bytes: &[u8]) {
        self.wait_for_room(bytes.len()).await;
        self.hand_over(ts, bytes);
    }

    /// Backpressure: returns once the queue has room for `n` bytes and a few events, or
    /// when the decoder made none for `WAIT_MAX` (then it is marked stuck).
    async fn wait_for_room(&self, n: usize) {
        let (tap, stats) = (&self.tap, &*self.tap.stats);
        // The gap owed, the data, and one spare: events are bounded too.
        let room = || stats.queued.load(Ordering::SeqCst) + n <= BUDGET && tap.tx.capacity() > 2;
        if self.kept.is_none() || room() || stats.stalled.load(Ordering::Relaxed) {
            return;
        }
        stats.waits.fetch_add(1, Ordering::Relaxed);
        let deadline = tokio::time::Instant::now() + WAIT_MAX;
        stats.waiting.fetch_add(1, Ordering::SeqCst);
        let stuck = loop {
            // Registered before the check, so a wake-up between the two is not missed.
            let woken = stats.room.notified();
            tokio::pin!(woken);
            woken.as_mut().enable();
            if room() {
                break false;
            }
            if tokio::time::timeout_at(deadline, woken).await.is_err() {
                break !room();
            }
        };
        stats.waiting.fetch_sub(1, Ordering::SeqCst);
        if stuck {
            stats.stalled.store(true, Ordering::Relaxed);
        }
    }

    /// Never waits: the chunk is queued if there is room, else dropped and counted. On
    /// HTTP/2 a chunk without room is thinned instead: its framing is queued (from a
    /// small reserve beyond the budget) and only DATA payload is dropped, so the decoder
    /// loses bodies — and their hashes — but not frame sync or HPACK state.
    fn hand_over(&mut self, ts: Ts, bytes: &[u8]) {
        if self.queue(ts, bytes, BUDGET) {
            if let Some(f) = &mut self.frames {
                f.feed(bytes, |_, _, _| {});
            }
            return;
        }
        let stats = self.tap.stats.clone();
        stats.dropped_chunks.fetch_add(1, Ordering::Relaxed);
        let lose = |me: &mut DirTap, piece: &[u8]| {
            me.lost += piece.len() as u64;
            stats
                .dropped_bytes
                .fetch_add(piece.len() as u64, Ordering::Relaxed);
        };
        let Some(mut frames) = self.frames.take() else {
            return lose(self, bytes);
        };
        let mut in_step = self.kept.is_some();
        frames.split(bytes, |kind, piece| {
            let kept = in_step
                && kind == Piece::Framing
                && self.queue(ts, piece, BUDGET + FRAMING_RESERVE);
            if kind == Piece::Framing && !kept {
                in_step = false;
            }
            if !kept {
                lose(self, piece);
            }
        });
        if in_step {
            self.frames = Some(frames);
        }
    }

    /// Queues `bytes` if the queue holds less than `budget` with them, after the gap
    /// owed (so the decoder knows they do not follow on). Never waits.
    fn queue(&mut self, ts: Ts, bytes: &[u8], budget: usize) -> bool {
        let stats = &self.tap.stats;
        let n = bytes.len();
        if self.kept.is_none() || stats.queued.load(Ordering::Relaxed) + n > budget {
            return false;
        }
        if self.lost > 0 {
            let gap = StreamEvent::Gap {
                id: self.id,
                dir: self.dir,
                ts,
                len: self.lost,
            };
            if self.tap.tx.try_send(gap).is_err() {
                return false;
            }
            self.lost = 0;
        }
        stats.queued.fetch_add(n, Ordering::Relaxed);
        let ev = StreamEvent::Data {
            id: self.id,
            dir: self.dir,
            ts,
            bytes: bytes.to_vec(),
        };
        if self.tap.tx.try_send(ev).is_ok() {
            return true;
        }
        stats.queued.fetch_sub(n, Ordering::Relaxed);
        false
    }

    /// The direction ended: a gap still owed is told before its end, in the room kept for
    /// them (never waits).
    pub(crate) fn fin(self, ts: Ts) {
        let (id, dir) = (self.id, self.dir);
        let Some((gap, fin)) = self.kept else { return };
        if self.lost > 0 {
            gap.send(StreamEvent::Gap {
                id,
                dir,
                ts,
                len: self.lost,
            });
        }
        fin.send(StreamEvent::Fin { id, dir, ts });
    }
}

/// A connection's end, in the room kept for it.
pub(crate) struct EndTap {
    id: u64,
    kept: Option<Kept>,
}

impl EndTap {
    pub(crate) fn end(self, ts: Ts, error: Option<ConnError>) {
        if let Some(k) = self.kept {
            k.send(StreamEvent::End {
                id: self.id,
                ts,
                error,
            });
        }
    }
}

/// The decoder took an event: a chunk's bytes leave the budget, relay tasks waiting for
/// room are woken, and a decoder that has emptied the queue is no longer taken for stuck.
pub(crate) fn taken(stats: &TapStats, ev: &StreamEvent) {
    if let StreamEvent::Data { bytes, .. } = ev {
        let left = stats.queued.fetch_sub(bytes.len(), Ordering::SeqCst) - bytes.len();
        if left == 0 && stats.stalled.load(Ordering::Relaxed) {
            stats.stalled.store(false, Ordering::Relaxed);
        }
    }
    if stats.waiting.load(Ordering::SeqCst) > 0 {
        stats.room.notify_waiters();
    }
}

#[cfg(test)]
mod tests;
