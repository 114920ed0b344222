//! One TCP connection as the decoder follows it: the handshake and its timing, both
//! directions reassembled, segments held until what they acknowledge arrives, FIN and
//! RST, and port reuse.

use super::super::ip::TcpSegment;
use super::super::reassembly::{Budget, Chunk, HalfStream};
use crate::vocab::time::Ts;
use crate::vocab::Dir;
use std::collections::VecDeque;
use std::net::SocketAddr;

/// One TCP connection as the decoder follows it; `app` is what reads its bytes.
pub struct Flow<A> {
    pub(crate) id: u64,
    pub(crate) client: SocketAddr,
    pub(crate) server: SocketAddr,
    pub(crate) first_ts: Ts,
    pub(crate) last_ts: Ts,
    pub(crate) syn_at: Option<Ts>,
    pub(crate) synack_at: Option<Ts>,
    syn_seq: Option<u32>,
    pub(crate) dirs: [HalfStream; 2],
    /// The connection event was emitted; the flow only lingers.
    pub(crate) done: bool,
    pub(crate) rst: Option<Dir>,
    /// The capture joined this connection after its SYN.
    pub(crate) mid_stream: bool,
    /// SYNs from the client (an unanswered one is sent again and again).
    pub(crate) syns: u32,
    /// An ICMP error that answered the connection attempt.
    pub(crate) unreachable: Option<crate::vocab::Unreachable>,
    /// Segments held until the bytes they acknowledge arrive, in arrival order.
    pub(super) waiting: VecDeque<(Waiting, Vec<u8>)>,
    waiting_bytes: usize,
    pub(crate) app: A,
    /// Round trip, server time and loss, in a few counters.
    pub(crate) timing: super::timing::Timing,
}

/// A segment held back by `Flow::segment` (its payload is stored beside it).
pub(super) struct Waiting {
    dir: Dir,
    ts: Ts,
    seq: u32,
    ack: Option<u32>,
    fin: bool,
    missing: u32,
}

/// Bounds on held segments per flow; past them the other side's bytes are taken as lost.
pub(super) const MAX_WAITING: usize = 64;
const MAX_WAITING_BYTES: usize = 256 << 10;
/// What a held segment costs beyond its payload (its slot in the queue, which may be
/// twice as large as the queue, and its buffer's header), charged to the shared budget.
const WAITING_OVERHEAD: usize = 160;

/// What a segment did to its flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Still open.
    Open,
    /// Both sides sent FIN and everything before it was delivered.
    Finished,
    /// An RST ended the flow.
    Reset,
}

impl<A> Flow<A> {
    /// A flow between `client` and `server`, first seen at `ts`, its codec `app`.
    pub(crate) fn new(id: u64, ts: Ts, client: SocketAddr, server: SocketAddr, app: A) -> Flow<A> {
        Flow {
            id,
            client,
            server,
            first_ts: ts,
            last_ts: ts,
            syn_at: None,
            synack_at: None,
            syn_seq: None,
            dirs: [HalfStream::default(), HalfStream::default()],
            done: false,
            rst: None,
            mid_stream: false,
            syns: 0,
            unreachable: None,
            waiting: VecDeque::new(),
            waiting_bytes: 0,
            app,
            timing: Default::default(),
        }
    }

    pub(crate) fn dir_of(&self, src: SocketAddr) -> Dir {
        if src == self.client {
            Dir::Up
        } else {
            Dir::Down
        }
    }

    pub(crate) fn gaps(&self) -> u32 {
        self.dirs[0].gaps + self.dirs[1].gaps
    }

    /// Applies one segment. Stream bytes are handed to `on_chunk` with the app state.
    pub(crate) fn segment(
        &mut self,
        ts: Ts,
        seg: &TcpSegment<'_>,
        budget: &mut Budget,
        on_chunk: &mut dyn FnMut(&mut A, Dir, Chunk<'_>),
    ) -> Outcome {
        let dir = self.dir_of(seg.src);
        self.last_ts = ts;
        if self.done {
            return Outcome::Open;
        }
        self.timing.segment(ts, dir, seg);
        let f = seg.flags;
        if f.syn {
            match dir {
                Dir::Up => {
                    self.syn_at.get_or_insert(ts);
                    self.syn_seq.get_or_insert(seg.seq);
                    self.syns += 1;
                }
                Dir::Down => {
                    self.synack_at.get_or_insert(ts);
                }
            }
            self.dirs[dir as usize].syn(seg.seq);
        }
        if f.rst {
            self.rst = Some(dir);
            return Outcome::Reset;
        }
        let has_data = !seg.payload.is_empty() || seg.missing > 0;
        if !(has_data || f.fin) {
            return self.outcome();
        }
        // SYN-carried data (TFO) starts one after the SYN's sequence number.
        let seq = if f.syn {
            seg.seq.wrapping_add(1)
        } else {
            seg.seq
        };
        let w = Waiting {
            dir,
            ts,
            seq,
            ack: f.ack.then_some(seg.ack),
            fin: f.fin,
            missing: seg.missing,
        };
        if self.acks_unseen(&w)
            || !self.waiting.is_empty() && self.waiting.iter().any(|o| o.0.dir == dir)
        {
            // It answers bytes of the other side that are not here yet (capture order
            // differs from send order across directions): hold it until they come. What is
            // held is charged to the shared out-of-order budget.
            let cost = seg.payload.len() + WAITING_OVERHEAD;
            if cost <= budget.remaining {
                budget.remaining -= cost;
                self.waiting_bytes += seg.payload.len();
                self.waiting.push_back((w, seg.payload.to_vec()));
                if self.waiting.len() > MAX_WAITING || self.waiting_bytes > MAX_WAITING_BYTES {
                    self.release_waiting(true, budget, on_chunk);
                }
                return self.outcome();
            }
            // No room: what it acknowledges is taken as lost, as when the queue overflows.
            self.release_waiting(true, budget, on_chunk);
        }
        self.apply(&w, seg.payload, budget, on_chunk);
        self.release_waiting(false, budget, on_chunk);
        self.outcome()
    }

    fn outcome(&self) -> Outcome {
        if self.dirs[0].finished() && self.dirs[1].finished() {
            Outcome::Finished
        } else {
            Outcome::Open
        }
    }

    /// Does this segment acknowledge bytes of the other direction that were not delivered?
    fn acks_unseen(&self, w: &Waiting) -> bool {
        let other = &self.dirs[1 - w.dir as usize];
        match (w.ack, other.next_seq()) {
            (Some(ack), Some(next)) => (ack.wrapping_sub(next) as i32) > 0,
            _ => false,
        }
    }

    fn apply(
        &mut self,
        w: &Waiting,
        payload: &[u8],
        budget: &mut Budget,
        on_chunk: &mut dyn FnMut(&mut A, Dir, Chunk<'_>),
    ) {
        let dir = w.dir;
        let other = 1 - dir as usize;
        let acked = w.ack.and_then(|a| self.dirs[other].offset_of_seq(a));
        let Flow { dirs, app, .. } = self;
        if let Some(a) = acked {
            // This side received bytes of the other that never reached the capture.
            if dirs[other].hole_acked(a) {
                let odir = if other == 0 { Dir::Up } else { Dir::Down };
                dirs[other].skip_hole(&mut |c| on_chunk(app, odir, c), budget);
            }
        }
        dirs[dir as usize].segment(
            w.ts,
            w.seq,
            payload,
            w.missing,
            w.fin,
            acked,
            budget,
            &mut |c| on_chunk(app, dir, c),
        );
    }

    /// Applies held segments whose acknowledged bytes have arrived (all of them when
    /// `force`: the bytes they acknowledge are missing from the capture).
    fn release_waiting(
        &mut self,
        force: bool,
        budget: &mut Budget,
        on_chunk: &mut dyn FnMut(&mut A, Dir, Chunk<'_>),
    ) {
        while let Some((w, _)) = self.waiting.front() {
            if !force && self.acks_unseen(w) {
                break;
            }
            let (w, data) = self.waiting.pop_front().expect("front exists");
            self.waiting_bytes -= data.len();
            budget.remaining += data.len() + WAITING_OVERHEAD;
            self.apply(&w, &data, budget, on_chunk);
        }
        if self.waiting.is_empty() && self.waiting.capacity() > 0 {
            // Nothing held: give the queue's memory back (it is charged only while used).
            self.waiting = VecDeque::new();
        }
    }

    /// Hands on whatever is held (with gaps for the holes): the flow is ending.
    pub(crate) fn flush(
        &mut self,
        ts: Ts,
        budget: &mut Budget,
        on_chunk: &mut dyn FnMut(&mut A, Dir, Chunk<'_>),
    ) {
        self.release_waiting(true, budget, on_chunk);
        let Flow { dirs, app, .. } = self;
        for (i, d) in dirs.iter_mut().enumerate() {
            let dir = if i == 0 { Dir::Up } else { Dir::Down };
            d.flush(ts, &mut |c| on_chunk(app, dir, c), budget);
        }
    }

    /// A SYN for an address pair whose flow is over (or a different connection): the
    /// port is being reused.
    pub(super) fn is_new_connection(&self, seg: &TcpSegment<'_>) -> bool {
        seg.flags.syn
            && !seg.flags.ack
            && seg.src != self.server
            && self.syn_seq.is_some_and(|s| s != seg.seq)
    }
}
