//! The tap between the relay and the decoder: a queue bounded in bytes that the relay never
//! waits on. When the decoder (or the hashing behind it) falls behind, plaintext chunks are
//! dropped and counted, and the decoder is told how many bytes of which direction it missed
//! (a `Gap`), so the affected exchanges end with `error: "gap"` and their zip hashes are
//! given up instead of being computed on bytes that are not all there. The transfer itself
//! never slows down and the queue never grows past its budget.
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
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use tokio::sync::mpsc::{self, OwnedPermit};

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
    /// Never waits: the chunk is queued if there is room, else dropped and counted. On
    /// HTTP/2 a chunk without room is thinned instead: its framing is queued (from a
    /// small reserve beyond the budget) and only DATA payload is dropped, so the decoder
    /// loses bodies — and their hashes — but not frame sync or HPACK state.
    pub(crate) fn data(&mut self, ts: Ts, bytes: &[u8]) {
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

/// The decoder took a chunk: its bytes leave the budget.
pub(crate) fn taken(stats: &TapStats, ev: &StreamEvent) {
    if let StreamEvent::Data { bytes, .. } = ev {
        stats.queued.fetch_sub(bytes.len(), Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open(id: u64) -> StreamEvent {
        let addr: std::net::SocketAddr = "127.0.0.1:1".parse().unwrap();
        StreamEvent::Open {
            id,
            ts: Ts(0),
            client: addr,
            server: addr,
            host: "h".into(),
            scheme: "https",
            tls: None,
            setup: Default::default(),
        }
    }

    fn kinds(rx: &mut mpsc::Receiver<StreamEvent>) -> Vec<&'static str> {
        std::iter::from_fn(|| rx.try_recv().ok())
            .map(|e| match e {
                StreamEvent::Open { .. } => "open",
                StreamEvent::Data { .. } => "data",
                StreamEvent::Gap { .. } => "gap",
                StreamEvent::Fin { .. } => "fin",
                StreamEvent::End { .. } => "end",
                _ => "other",
            })
            .collect()
    }

    #[test]
    fn a_full_queue_drops_and_reports_a_gap_before_the_next_chunk() {
        let (tx, mut rx) = mpsc::channel(capacity(1));
        let stats = Arc::new(TapStats::default());
        let tap = Tap::new(tx, stats.clone());
        let (_, mut down, _) = tap.open(1, open(1), false);
        assert_eq!(kinds(&mut rx), ["open"]);
        let big = vec![0u8; BUDGET - 10];
        down.data(Ts(1), &big);
        down.data(Ts(2), &[1u8; 100]); // no room: dropped
        assert_eq!(stats.dropped_bytes.load(Ordering::Relaxed), 100);
        // The decoder catches up.
        let first = rx.try_recv().unwrap();
        taken(&stats, &first);
        down.data(Ts(3), b"next");
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

    /// An HTTP/2 server stream with no room in the queue: the frames reach the decoder,
    /// only DATA payload goes missing, and every gap lies inside one DATA payload (which
    /// the decoder can pass over without losing frame sync or HPACK state).
    #[test]
    fn http2_without_room_loses_data_payload_only() {
        use super::super::h2frames::{frame, DATA, END_HEADERS, END_STREAM, HEADERS};
        let (tx, mut rx) = mpsc::channel(capacity(1));
        let stats = Arc::new(TapStats::default());
        let tap = Tap::new(tx, stats.clone());
        let (_, mut down, _) = tap.open(1, open(1), true);
        let mut wire = Vec::new();
        let mut payloads = Vec::new();
        frame(&mut wire, 4, 0, 0, &[]);
        frame(&mut wire, HEADERS, END_HEADERS, 1, b"hpack");
        for (i, n) in [16 << 10, 3 << 20, 5000, 1 << 20].into_iter().enumerate() {
            let start = wire.len() + 9;
            frame(&mut wire, DATA, 0, 1, &vec![i as u8 + 1; n]);
            payloads.push(start..start + n);
        }
        frame(&mut wire, HEADERS, END_HEADERS | END_STREAM, 3, b"next");
        for c in wire.chunks(64 << 10) {
            down.data(Ts(1), c);
        }
        assert!(stats.queued.load(Ordering::Relaxed) <= BUDGET + FRAMING_RESERVE);
        assert!(stats.dropped_bytes.load(Ordering::Relaxed) > 0);
        // Rebuild the stream from the events: what arrived must be the wire's own bytes,
        // at their places; what is missing must lie within one payload.
        assert_eq!(replay_over(&mut rx, &wire, &payloads), wire.len());
    }

    /// Walks the queued events over `wire`; returns the bytes accounted for.
    fn replay_over(
        rx: &mut mpsc::Receiver<StreamEvent>,
        wire: &[u8],
        payloads: &[std::ops::Range<usize>],
    ) -> usize {
        let mut at = 0;
        while let Ok(ev) = rx.try_recv() {
            match ev {
                StreamEvent::Data { bytes, .. } => {
                    assert_eq!(&wire[at..at + bytes.len()], &bytes[..], "at {at}");
                    at += bytes.len();
                }
                StreamEvent::Gap { len, .. } => {
                    let gap = at..at + len as usize;
                    assert!(
                        payloads
                            .iter()
                            .any(|p| p.start <= gap.start && gap.end <= p.end),
                        "gap {gap:?} crosses framing"
                    );
                    at = gap.end;
                }
                _ => {}
            }
        }
        at
    }

    #[test]
    fn a_queue_full_of_events_never_stops_an_end_and_a_new_connection_goes_untapped() {
        let (tx, mut rx) = mpsc::channel(capacity(2));
        let stats = Arc::new(TapStats::default());
        let tap = Tap::new(tx, stats.clone());
        let (mut up, down, end) = tap.open(1, open(1), false);
        // Small chunks fill every free slot; the decoder takes none of them.
        for _ in 0..capacity(2) {
            up.data(Ts(1), b"x");
        }
        assert!(stats.dropped_chunks.load(Ordering::Relaxed) > 0);
        // No room to keep for another connection: relayed untapped, counted.
        let (mut up2, down2, end2) = tap.open(2, open(2), false);
        assert_eq!(stats.untapped.load(Ordering::Relaxed), 1);
        up2.data(Ts(2), b"lost");
        up2.fin(Ts(3));
        down2.fin(Ts(3));
        end2.end(Ts(3), None);
        // The first connection's gap, fins and end still get through, in order.
        up.fin(Ts(4));
        down.fin(Ts(4));
        end.end(Ts(4), None);
        let got = kinds(&mut rx);
        assert_eq!(got.first(), Some(&"open"));
        assert!(
            got[1..got.len() - 4].iter().all(|k| *k == "data"),
            "{got:?}"
        );
        assert_eq!(got[got.len() - 4..], ["gap", "fin", "fin", "end"]);
        assert!(stats.dropped_bytes.load(Ordering::Relaxed) >= 4);
    }
}
