//! The tap between the relay and the decoder: a queue bounded in bytes that the relay never
//! waits on. When the decoder (or the hashing behind it) falls behind, plaintext chunks are
//! dropped and counted, and the decoder is told how many bytes of which direction it missed
//! (a `Gap`), so the affected exchanges end with `error: "gap"` and their zip hashes are
//! given up instead of being computed on bytes that are not all there. The transfer itself
//! never slows down and the queue never grows past its budget.

use crate::vocab::{Dir, StreamEvent, Ts};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use tokio::sync::mpsc;

/// Plaintext bytes queued for the decoder at most, over all connections. A few hundred
/// milliseconds of a fast transfer: enough to ride out a slow frame of the TUI, small
/// enough for the proxy's memory target.
pub const BUDGET: usize = 2 << 20;
/// Events queued at most (control events are small; data events are bounded by BUDGET).
pub const EVENTS: usize = 4096;

/// What was dropped, for the status bar and the summary.
#[derive(Debug, Default)]
pub struct TapStats {
    pub dropped_chunks: AtomicU64,
    pub dropped_bytes: AtomicU64,
    /// Bytes queued right now.
    pub queued: AtomicUsize,
}

#[derive(Clone)]
pub struct Tap {
    tx: mpsc::Sender<StreamEvent>,
    stats: Arc<TapStats>,
}

impl Tap {
    pub fn new(tx: mpsc::Sender<StreamEvent>, stats: Arc<TapStats>) -> Tap {
        Tap { tx, stats }
    }

    /// A control event (open, fin, end, failure): these are few and must arrive, so they
    /// wait for room; they are never sent from inside a transfer.
    pub async fn control(&self, ev: StreamEvent) {
        let _ = self.tx.send(ev).await;
    }

    /// One direction's tap on a connection.
    pub fn dir(&self, id: u64, dir: Dir) -> DirTap {
        DirTap {
            tap: self.clone(),
            id,
            dir,
            lost: 0,
        }
    }
}

/// Hands one direction's chunks over, or drops them; remembers what it owes as a gap.
pub struct DirTap {
    tap: Tap,
    id: u64,
    dir: Dir,
    /// Bytes dropped and not yet reported.
    lost: u64,
}

impl DirTap {
    /// Never waits: the chunk is queued if there is room, else dropped and counted.
    pub fn data(&mut self, ts: Ts, bytes: &[u8]) {
        let stats = &self.tap.stats;
        let n = bytes.len();
        let room = stats.queued.load(Ordering::Relaxed) + n <= BUDGET;
        if room && self.lost > 0 {
            // The gap goes first, so the decoder knows the next bytes do not follow on.
            let gap = StreamEvent::Gap {
                id: self.id,
                dir: self.dir,
                ts,
                len: self.lost,
            };
            if self.tap.tx.try_send(gap).is_ok() {
                self.lost = 0;
            }
        }
        if room && self.lost == 0 {
            stats.queued.fetch_add(n, Ordering::Relaxed);
            let ev = StreamEvent::Data {
                id: self.id,
                dir: self.dir,
                ts,
                bytes: bytes.to_vec(),
            };
            if self.tap.tx.try_send(ev).is_ok() {
                return;
            }
            stats.queued.fetch_sub(n, Ordering::Relaxed);
        }
        self.lost += n as u64;
        stats.dropped_chunks.fetch_add(1, Ordering::Relaxed);
        stats.dropped_bytes.fetch_add(n as u64, Ordering::Relaxed);
    }

    /// The direction ended: a gap still owed is reported before its end.
    pub async fn fin(mut self, ts: Ts) {
        if self.lost > 0 {
            let len = std::mem::take(&mut self.lost);
            self.tap
                .control(StreamEvent::Gap {
                    id: self.id,
                    dir: self.dir,
                    ts,
                    len,
                })
                .await;
        }
        self.tap
            .control(StreamEvent::Fin {
                id: self.id,
                dir: self.dir,
                ts,
            })
            .await;
    }
}

/// The decoder took a chunk: its bytes leave the budget.
pub fn taken(stats: &TapStats, ev: &StreamEvent) {
    if let StreamEvent::Data { bytes, .. } = ev {
        stats.queued.fetch_sub(bytes.len(), Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_queue_drops_and_reports_a_gap_before_the_next_chunk() {
        let (tx, mut rx) = mpsc::channel(EVENTS);
        let stats = Arc::new(TapStats::default());
        let tap = Tap::new(tx, stats.clone());
        let mut up = tap.dir(1, Dir::Down);
        let big = vec![0u8; BUDGET - 10];
        up.data(Ts(1), &big);
        up.data(Ts(2), &[1u8; 100]); // no room: dropped
        assert_eq!(stats.dropped_bytes.load(Ordering::Relaxed), 100);
        // The decoder catches up.
        let first = rx.try_recv().unwrap();
        taken(&stats, &first);
        up.data(Ts(3), b"next");
        match rx.try_recv().unwrap() {
            StreamEvent::Gap { len, .. } => assert_eq!(len, 100),
            e => panic!("{e:?}"),
        }
        match rx.try_recv().unwrap() {
            StreamEvent::Data { bytes, .. } => assert_eq!(bytes, b"next"),
            e => panic!("{e:?}"),
        }
        assert_eq!(stats.queued.load(Ordering::Relaxed), 4);
    }
}
