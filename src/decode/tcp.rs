//! The TCP flow table: which connection a segment belongs to, who is the client, the
//! handshake and its timing, FIN/RST, port reuse, and bounds (flows expire in capture time,
//! and the table never grows past its limit).

use super::ip::TcpSegment;
use super::reassembly::{Budget, Chunk, HalfStream};
use crate::vocab::time::Ts;
pub use crate::vocab::Dir;
use ahash::AHashMap;
use std::collections::VecDeque;
use std::net::SocketAddr;

/// Limits. The defaults keep a replay of any file well under 64 MiB.
#[derive(Debug, Clone)]
pub struct Limits {
    pub max_flows: usize,
    /// Out-of-order bytes held per direction and in all.
    pub held_per_direction: usize,
    pub held_total: usize,
    /// An open flow with no packet for this long (capture time) is given up.
    pub idle_timeout_ns: i64,
    /// A closed flow stays this long to absorb its last ACKs and retransmissions.
    pub linger_ns: i64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_flows: 32_768,
            held_per_direction: 1 << 20,
            held_total: 24 << 20,
            idle_timeout_ns: 300 * 1_000_000_000,
            linger_ns: 5 * 1_000_000_000,
        }
    }
}

pub struct Flow<A> {
    pub id: u64,
    pub client: SocketAddr,
    pub server: SocketAddr,
    pub first_ts: Ts,
    pub last_ts: Ts,
    pub syn_at: Option<Ts>,
    pub synack_at: Option<Ts>,
    syn_seq: Option<u32>,
    pub dirs: [HalfStream; 2],
    /// The connection event was emitted; the flow only lingers.
    pub done: bool,
    pub rst: Option<Dir>,
    /// The capture joined this connection after its SYN.
    pub mid_stream: bool,
    /// SYNs from the client (an unanswered one is sent again and again).
    pub syns: u32,
    /// An ICMP error that answered the connection attempt.
    pub unreachable: Option<crate::vocab::Unreachable>,
    /// Segments held until the bytes they acknowledge arrive, in arrival order.
    waiting: VecDeque<(Waiting, Vec<u8>)>,
    waiting_bytes: usize,
    pub app: A,
}

/// A segment held back by `Flow::segment` (its payload is stored beside it).
struct Waiting {
    dir: Dir,
    ts: Ts,
    seq: u32,
    ack: Option<u32>,
    fin: bool,
    missing: u32,
}

/// Bounds on held segments per flow; past them the other side's bytes are taken as lost.
const MAX_WAITING: usize = 64;
const MAX_WAITING_BYTES: usize = 256 << 10;

/// What a segment did to its flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Open,
    /// Both sides sent FIN and everything before it was delivered.
    Finished,
    /// An RST ended the flow.
    Reset,
}

impl<A> Flow<A> {
    pub fn dir_of(&self, src: SocketAddr) -> Dir {
        if src == self.client {
            Dir::Up
        } else {
            Dir::Down
        }
    }

    pub fn gaps(&self) -> u32 {
        self.dirs[0].gaps + self.dirs[1].gaps
    }

    /// Applies one segment. Stream bytes are handed to `on_chunk` with the app state.
    pub fn segment(
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
            // differs from send order across directions): hold it until they come.
            self.waiting_bytes += seg.payload.len();
            self.waiting.push_back((w, seg.payload.to_vec()));
            if self.waiting.len() > MAX_WAITING || self.waiting_bytes > MAX_WAITING_BYTES {
                self.release_waiting(true, budget, on_chunk);
            }
            return self.outcome();
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
            self.apply(&w, &data, budget, on_chunk);
        }
    }

    /// Hands on whatever is held (with gaps for the holes): the flow is ending.
    pub fn flush(
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
    fn is_new_connection(&self, seg: &TcpSegment<'_>) -> bool {
        seg.flags.syn
            && !seg.flags.ack
            && seg.src != self.server
            && self.syn_seq.is_some_and(|s| s != seg.seq)
    }
}

type Key = (SocketAddr, SocketAddr);

fn key(a: SocketAddr, b: SocketAddr) -> Key {
    if a <= b {
        (a, b)
    } else {
        (b, a)
    }
}

pub struct FlowTable<A> {
    map: AHashMap<Key, Flow<A>>,
    next_id: u64,
    pub limits: Limits,
}

/// How a new flow is started: the caller decides who the client is from the payload.
pub enum Lookup<'t, A> {
    Found(&'t mut Flow<A>),
    /// No flow yet, or the old one must end first (port reuse): `stale` is the old one.
    Missing {
        stale: Option<Box<Flow<A>>>,
    },
}

impl<A> FlowTable<A> {
    pub fn new(limits: Limits) -> Self {
        FlowTable {
            map: AHashMap::new(),
            next_id: 0,
            limits,
        }
    }

    /// The out-of-order budget these limits allow.
    pub fn budget(&self) -> Budget {
        Budget {
            per_direction: self.limits.held_per_direction,
            remaining: self.limits.held_total,
        }
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    pub fn lookup(&mut self, seg: &TcpSegment<'_>) -> Lookup<'_, A> {
        let k = key(seg.src, seg.dst);
        let reuse = match self.map.get(&k) {
            None => false,
            Some(f) => f.is_new_connection(seg),
        };
        if reuse {
            return Lookup::Missing {
                stale: self.map.remove(&k).map(Box::new),
            };
        }
        match self.map.get_mut(&k) {
            Some(f) => Lookup::Found(f),
            None => Lookup::Missing { stale: None },
        }
    }

    /// Starts a flow. `client` is the side that opened it (or that we guess did).
    pub fn insert(
        &mut self,
        ts: Ts,
        client: SocketAddr,
        server: SocketAddr,
        app: A,
    ) -> &mut Flow<A> {
        self.next_id += 1;
        let flow = Flow {
            id: self.next_id,
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
        };
        let k = key(client, server);
        self.map.insert(k, flow);
        self.map.get_mut(&k).expect("just inserted")
    }

    pub fn get_mut(&mut self, a: SocketAddr, b: SocketAddr) -> Option<&mut Flow<A>> {
        self.map.get_mut(&key(a, b))
    }

    /// Removes flows that lingered long enough after closing, flows idle past the timeout,
    /// and — if the table is over its limit — the least recently active ones. Returns the
    /// removed flows that were still open, for the caller to finish.
    pub fn sweep(&mut self, now: Ts) -> Vec<Flow<A>> {
        let limits = &self.limits;
        let expired: Vec<Key> = self
            .map
            .iter()
            .filter(|(_, f)| {
                let idle = now.0 - f.last_ts.0;
                (f.done && idle > limits.linger_ns) || idle > limits.idle_timeout_ns
            })
            .map(|(k, _)| *k)
            .collect();
        let mut out: Vec<Flow<A>> = expired.iter().filter_map(|k| self.map.remove(k)).collect();
        if self.map.len() > self.limits.max_flows {
            let mut by_age: Vec<(Ts, Key)> =
                self.map.iter().map(|(k, f)| (f.last_ts, *k)).collect();
            by_age.sort_unstable_by_key(|(t, _)| *t);
            let excess = self.map.len() - self.limits.max_flows * 3 / 4;
            for (_, k) in by_age.into_iter().take(excess) {
                out.extend(self.map.remove(&k));
            }
        }
        out.retain(|f| !f.done);
        out
    }

    /// Every flow still open, for the end of input.
    pub fn drain_open(&mut self) -> Vec<Flow<A>> {
        let mut flows: Vec<Flow<A>> = self
            .map
            .drain()
            .map(|(_, f)| f)
            .filter(|f| !f.done)
            .collect();
        flows.sort_by_key(|f| f.id);
        flows
    }
}
