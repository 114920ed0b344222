//! The flow table: which flow a segment belongs to, bounded in flows and in the protocol
//! state they hold (the least recently active flow is evicted, in O(1)), with idle flows
//! expiring in capture time.

use super::super::ip::TcpSegment;
use super::super::reassembly::Budget;
use super::flow::Flow;
use crate::vocab::time::Ts;
use ahash::AHashMap;
use std::net::SocketAddr;

/// Limits. The defaults keep a replay of any file under 64 MiB (`tests/hostile.rs`): a full
/// table with the events of all its flows at the end of input takes about 32 MiB, plus at
/// most 12 MiB of out-of-order data and 8 MiB of protocol state; the worst capture found
/// (all three at once) peaks at 57 MiB.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Flows in the table (open or lingering); a new flow past this evicts the least
    /// recently active one.
    pub(crate) max_flows: usize,
    /// Protocol state (message heads being read, requests waiting for their responses,
    /// TLS hellos) held by all flows together; past it the least recently active open flow
    /// is evicted.
    pub(crate) max_state_bytes: usize,
    /// Out-of-order bytes held per direction and in all.
    pub(crate) held_per_direction: usize,
    pub(crate) held_total: usize,
    /// An open flow with no packet for this long (capture time) is given up.
    pub(crate) idle_timeout_ns: i64,
    /// A closed flow stays this long to absorb its last ACKs and retransmissions.
    pub(crate) linger_ns: i64,
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
    pub(crate) limits: Limits,
}

/// What a lookup found.
pub enum Lookup<A> {
    /// The flow the segment belongs to.
    Found(Slot),
    /// No flow yet, or the old one must end first (port reuse): `stale` is the old one.
    Missing {
        /// The flow that must end first, if any.
        stale: Option<Box<Flow<A>>>,
    },
}

impl<A> FlowTable<A> {
    pub(crate) fn new(limits: Limits) -> Self {
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
    pub(crate) fn budget(&self) -> Budget {
        Budget {
            per_direction: self.limits.held_per_direction,
            remaining: self.limits.held_total,
        }
    }

    #[cfg(test)]
    /// Flows in the table, open or lingering.
    pub(crate) fn len(&self) -> usize {
        self.count
    }

    #[cfg(test)]
    pub(crate) fn is_empty(&self) -> bool {
        self.count == 0
    }

    #[cfg(test)]
    /// Open flows (not done).
    pub(crate) fn open(&self) -> usize {
        self.lists[OPEN].len
    }

    #[cfg(test)]
    /// Protocol state held by all flows, as they last reported it.
    pub(crate) fn state_bytes(&self) -> usize {
        self.state_total
    }

    /// The table's clock: the newest timestamp seen.
    pub(crate) fn clock(&self) -> Ts {
        self.clock
    }

    /// A packet with this timestamp arrived (the clock only moves forward).
    pub(crate) fn advance(&mut self, ts: Ts) {
        self.clock = self.clock.max(ts);
    }

    fn node(&self, i: u32) -> &Node<A> {
        self.slots[i as usize].as_ref().expect("live slot")
    }

    fn node_mut(&mut self, i: u32) -> &mut Node<A> {
        self.slots[i as usize].as_mut().expect("live slot")
    }

    pub(crate) fn flow(&mut self, slot: Slot) -> &mut Flow<A> {
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
    pub(crate) fn get_mut(&mut self, a: SocketAddr, b: SocketAddr) -> Option<&mut Flow<A>> {
        let i = self.find(&key(a, b))?;
        Some(&mut self.node_mut(i).flow)
    }

    pub(crate) fn lookup(&mut self, seg: &TcpSegment<'_>) -> Lookup<A> {
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
    pub(crate) fn insert(
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
        let flow = Flow::new(self.next_id, ts, client, server, app);
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
    pub(crate) fn touch(&mut self, slot: Slot, state: usize) {
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
    pub(crate) fn evict_over_state(&mut self, keep: Slot) -> Option<Flow<A>> {
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
    pub(crate) fn remove(&mut self, slot: Slot) -> Flow<A> {
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
    pub(crate) fn sweep(&mut self) -> Vec<Flow<A>> {
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
    pub(crate) fn open_by_id(&self) -> Vec<Slot> {
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
    pub(super) fn check(&self) {
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
