//! The TCP flow table: which connection a segment belongs to, who is the client, the
//! handshake and its timing, FIN/RST, port reuse, and bounds: the table never holds more
//! than `max_flows` flows nor more than `max_state_bytes` of protocol state (the least
//! recently active flow is evicted, in O(1)), and idle flows expire in capture time.

use super::ip::TcpSegment;
use super::reassembly::{Budget, Chunk, HalfStream};
use crate::vocab::time::Ts;
pub use crate::vocab::Dir;
use ahash::AHashMap;
use std::collections::VecDeque;
use std::net::SocketAddr;

/// Limits. The defaults keep a replay of any file under 64 MiB (`tests/hostile.rs`): a full
/// table with the events of all its flows at the end of input takes about 32 MiB, plus at
/// most 12 MiB of out-of-order data and 8 MiB of protocol state; the worst capture found
/// (all three at once) peaks at 57 MiB.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Flows in the table (open or lingering); a new flow past this evicts the least
    /// recently active one.
    pub max_flows: usize,
    /// Protocol state (message heads being read, requests waiting for their responses,
    /// TLS hellos) held by all flows together; past it the least recently active open flow
    /// is evicted.
    pub max_state_bytes: usize,
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
            max_state_bytes: 8 << 20,
            held_per_direction: 1 << 20,
            held_total: 12 << 20,
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
/// What a held segment costs beyond its payload (its slot in the queue, which may be
/// twice as large as the queue, and its buffer's header), charged to the shared budget.
const WAITING_OVERHEAD: usize = 160;

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

/// A flow's place in the table, valid until the flow is removed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Slot(u32);

const NIL: u32 = u32::MAX;
const OPEN: usize = 0;
const DONE: usize = 1;

struct Node<A> {
    flow: Flow<A>,
    /// The next flow whose address pair has the same hash (`NIL` ends the chain).
    same_hash: u32,
    /// Neighbours in its activity list (towards the most and the least recent).
    newer: u32,
    older: u32,
    /// The table clock when the flow last saw a packet. Unlike `last_ts` it never goes
    /// back, so the lists stay in order whatever the capture's timestamps do.
    seen: Ts,
    /// Which list the node is on: `OPEN` or `DONE`.
    list: usize,
    /// Bytes of protocol state the flow said it holds at its last packet.
    state: usize,
}

/// A doubly linked list of nodes through the slab, most recently active first.
#[derive(Clone, Copy)]
struct List {
    newest: u32,
    oldest: u32,
    len: usize,
}

impl Default for List {
    fn default() -> Self {
        List {
            newest: NIL,
            oldest: NIL,
            len: 0,
        }
    }
}

/// The open flows, bounded in number and in the protocol state they hold.
///
/// Flows live in a slab and sit on one of two lists ordered by activity: open flows, and
/// done flows that only linger to absorb their last ACKs. Every packet moves its flow to the
/// front of its list (O(1)), so the least recently active flow is always at the back: it is
/// the one evicted when a new flow needs room or the state bound is exceeded, and the idle
/// sweep only looks at the backs of the lists. Time is the table's own clock (the newest
/// timestamp seen), so constant or backwards timestamps neither stop the sweep nor make it
/// expire flows early.
pub struct FlowTable<A> {
    /// Flows by a hash of their address pair (12 bytes an entry, not 68); pairs that share
    /// a hash are chained through `Node::same_hash`.
    index: AHashMap<u64, u32>,
    hasher: ahash::RandomState,
    count: usize,
    slots: Vec<Option<Node<A>>>,
    free: Vec<u32>,
    lists: [List; 2],
    clock: Ts,
    state_total: usize,
    next_id: u64,
    pub limits: Limits,
}

/// What a lookup found.
pub enum Lookup<A> {
    Found(Slot),
    /// No flow yet, or the old one must end first (port reuse): `stale` is the old one.
    Missing {
        stale: Option<Box<Flow<A>>>,
    },
}

impl<A> FlowTable<A> {
    pub fn new(limits: Limits) -> Self {
        // The slab is reserved up front (its pages are only touched as slots are first
        // used, and freed slots are reused first), so it is never copied while it grows.
        // The index is not: a hash table's entries land at random places, so a reserved
        // one ends up touching all of its pages as flows come and go (1 MiB at the default
        // limit, more than a replay's whole decoder needs otherwise).
        let cap = limits.max_flows.min(1 << 20);
        FlowTable {
            index: AHashMap::default(),
            hasher: ahash::RandomState::new(),
            count: 0,
            slots: Vec::with_capacity(cap),
            free: Vec::new(),
            lists: [List::default(); 2],
            clock: Ts(i64::MIN),
            state_total: 0,
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

    /// Flows in the table, open or lingering.
    pub fn len(&self) -> usize {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Open flows (not done).
    pub fn open(&self) -> usize {
        self.lists[OPEN].len
    }

    /// Protocol state held by all flows, as they last reported it.
    pub fn state_bytes(&self) -> usize {
        self.state_total
    }

    /// The table's clock: the newest timestamp seen.
    pub fn clock(&self) -> Ts {
        self.clock
    }

    /// A packet with this timestamp arrived (the clock only moves forward).
    pub fn advance(&mut self, ts: Ts) {
        self.clock = self.clock.max(ts);
    }

    fn node(&self, i: u32) -> &Node<A> {
        self.slots[i as usize].as_ref().expect("live slot")
    }

    fn node_mut(&mut self, i: u32) -> &mut Node<A> {
        self.slots[i as usize].as_mut().expect("live slot")
    }

    pub fn flow(&mut self, slot: Slot) -> &mut Flow<A> {
        &mut self.node_mut(slot.0).flow
    }

    fn hash(&self, k: &Key) -> u64 {
        std::hash::BuildHasher::hash_one(&self.hasher, k)
    }

    fn find(&self, k: &Key) -> Option<u32> {
        let mut i = *self.index.get(&self.hash(k))?;
        while i != NIL {
            let n = self.node(i);
            if key(n.flow.client, n.flow.server) == *k {
                return Some(i);
            }
            i = n.same_hash;
        }
        None
    }

    /// The flow between these two endpoints, if there is one (no activity recorded).
    pub fn get_mut(&mut self, a: SocketAddr, b: SocketAddr) -> Option<&mut Flow<A>> {
        let i = self.find(&key(a, b))?;
        Some(&mut self.node_mut(i).flow)
    }

    pub fn lookup(&mut self, seg: &TcpSegment<'_>) -> Lookup<A> {
        let Some(i) = self.find(&key(seg.src, seg.dst)) else {
            return Lookup::Missing { stale: None };
        };
        if self.node(i).flow.is_new_connection(seg) {
            return Lookup::Missing {
                stale: Some(Box::new(self.remove(Slot(i)))),
            };
        }
        Lookup::Found(Slot(i))
    }

    /// Starts a flow (`client` is the side that opened it, or that we guess did). If the
    /// table is full, the least recently active flow makes room: a lingering one if there
    /// is one, else an open one, which is returned for the caller to finish.
    pub fn insert(
        &mut self,
        ts: Ts,
        client: SocketAddr,
        server: SocketAddr,
        app: A,
    ) -> (Slot, Option<Flow<A>>) {
        let mut evicted = None;
        if self.count >= self.limits.max_flows.max(1) {
            let victim = if self.lists[DONE].len > 0 {
                self.lists[DONE].oldest
            } else {
                self.lists[OPEN].oldest
            };
            let flow = self.remove(Slot(victim));
            if !flow.done {
                evicted = Some(flow);
            }
        }
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
        let h = self.hash(&key(client, server));
        let node = Node {
            flow,
            same_hash: self.index.get(&h).copied().unwrap_or(NIL),
            newer: NIL,
            older: NIL,
            seen: self.clock,
            list: OPEN,
            state: 0,
        };
        let i = match self.free.pop() {
            Some(i) => {
                self.slots[i as usize] = Some(node);
                i
            }
            None => {
                self.slots.push(Some(node));
                (self.slots.len() - 1) as u32
            }
        };
        self.index.insert(h, i);
        self.count += 1;
        self.push_front(i);
        (Slot(i), evicted)
    }

    /// The flow saw a packet: it becomes the most recently active of its list (open or
    /// done, as it is now), holding `state` bytes of protocol state.
    pub fn touch(&mut self, slot: Slot, state: usize) {
        let i = slot.0;
        self.unlink(i);
        let clock = self.clock;
        let n = self.node_mut(i);
        n.seen = clock;
        n.list = if n.flow.done { DONE } else { OPEN };
        let old = std::mem::replace(&mut n.state, state);
        self.state_total = self.state_total - old + state;
        self.push_front(i);
    }

    /// If the flows hold more protocol state than the limit allows, removes the least
    /// recently active open flow other than `keep` and returns it for the caller to finish.
    pub fn evict_over_state(&mut self, keep: Slot) -> Option<Flow<A>> {
        if self.state_total <= self.limits.max_state_bytes {
            return None;
        }
        let mut i = self.lists[OPEN].oldest;
        while i != NIL && i == keep.0 {
            i = self.node(i).newer;
        }
        if i == NIL {
            return None;
        }
        Some(self.remove(Slot(i)))
    }

    /// Removes a flow from the table.
    pub fn remove(&mut self, slot: Slot) -> Flow<A> {
        let i = slot.0;
        self.unlink(i);
        let h = {
            let n = self.node(i);
            self.hash(&key(n.flow.client, n.flow.server))
        };
        let next = self.node(i).same_hash;
        let head = self.index[&h];
        if head == i {
            if next == NIL {
                self.index.remove(&h);
            } else {
                self.index.insert(h, next);
            }
        } else {
            let mut p = head;
            while self.node(p).same_hash != i {
                p = self.node(p).same_hash;
            }
            self.node_mut(p).same_hash = next;
        }
        self.count -= 1;
        let node = self.slots[i as usize].take().expect("live slot");
        self.free.push(i);
        self.state_total -= node.state;
        node.flow
    }

    fn push_front(&mut self, i: u32) {
        let l = self.node(i).list;
        let head = self.lists[l].newest;
        {
            let n = self.node_mut(i);
            n.newer = NIL;
            n.older = head;
        }
        if head != NIL {
            self.node_mut(head).newer = i;
        } else {
            self.lists[l].oldest = i;
        }
        self.lists[l].newest = i;
        self.lists[l].len += 1;
    }

    fn unlink(&mut self, i: u32) {
        let (l, newer, older) = {
            let n = self.node(i);
            (n.list, n.newer, n.older)
        };
        if newer != NIL {
            self.node_mut(newer).older = older;
        } else {
            self.lists[l].newest = older;
        }
        if older != NIL {
            self.node_mut(older).newer = newer;
        } else {
            self.lists[l].oldest = newer;
        }
        self.lists[l].len -= 1;
    }

    /// Removes flows that lingered long enough after closing and open flows idle past the
    /// timeout, by the table's clock. Only the ends of the lists are looked at, so this
    /// costs O(1 + flows removed). Returns the open flows removed, for the caller to finish.
    pub fn sweep(&mut self) -> Vec<Flow<A>> {
        let now = self.clock;
        let expired = |seen: Ts, after: i64| now.0.saturating_sub(seen.0) > after;
        loop {
            let i = self.lists[DONE].oldest;
            if i == NIL || !expired(self.node(i).seen, self.limits.linger_ns) {
                break;
            }
            self.remove(Slot(i));
        }
        let mut out = Vec::new();
        loop {
            let i = self.lists[OPEN].oldest;
            if i == NIL || !expired(self.node(i).seen, self.limits.idle_timeout_ns) {
                break;
            }
            out.push(self.remove(Slot(i)));
        }
        out
    }

    /// The open flows, oldest first (by id), for the end of input: the caller removes and
    /// finishes them one at a time, so no second copy of the table is ever made.
    pub fn open_by_id(&self) -> Vec<Slot> {
        let mut open: Vec<(u64, Slot)> = self
            .slots
            .iter()
            .enumerate()
            .filter_map(|(i, n)| {
                let n = n.as_ref()?;
                (!n.flow.done).then_some((n.flow.id, Slot(i as u32)))
            })
            .collect();
        open.sort_unstable_by_key(|(id, _)| *id);
        open.into_iter().map(|(_, s)| s).collect()
    }

    /// Checks the lists against the slab (tests).
    #[cfg(test)]
    fn check(&self) {
        let mut seen = 0;
        for (l, list) in self.lists.iter().enumerate() {
            let mut n = 0;
            let mut i = list.newest;
            let mut prev = NIL;
            let mut last_seen = Ts(i64::MAX);
            while i != NIL {
                let node = self.node(i);
                assert_eq!(node.list, l);
                assert_eq!(node.newer, prev);
                assert!(node.seen <= last_seen, "list out of order");
                last_seen = node.seen;
                prev = i;
                i = node.older;
                n += 1;
            }
            assert_eq!(list.oldest, prev);
            assert_eq!(n, list.len);
            seen += n;
        }
        assert_eq!(seen, self.count);
        let chained: usize = self
            .index
            .values()
            .map(|&head| {
                let mut n = 0;
                let mut i = head;
                while i != NIL {
                    n += 1;
                    i = self.node(i).same_hash;
                }
                n
            })
            .sum();
        assert_eq!(chained, self.count);
        let state: usize = self.slots.iter().flatten().map(|n| n.state).sum();
        assert_eq!(state, self.state_total);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::ip::TcpFlags;
    use crate::decode::reassembly::{HELD_OVERHEAD, MAP_OVERHEAD};
    use proptest::prelude::*;

    fn addr(i: u32) -> SocketAddr {
        SocketAddr::from((i.to_be_bytes(), 40_000))
    }

    const SERVER: SocketAddr =
        SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 80);

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
}
