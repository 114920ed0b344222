//! Connections counted, and the ones refused: per server, and the most recent ones, which
//! the module model charges to the request that fell back after them.

use gomodwatch_wire::vocab::{ConnError, Connection, Ts};
use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;

/// Refusals waiting for the request that fell back after them.
const MAX_RECENT_REFUSALS: usize = 256;
/// A refusal older than this belongs to no request still to come.
const REFUSAL_WINDOW_NS: i64 = 2_000_000_000;

/// Connections counted, and the refused ones.
#[derive(Debug, Default)]
pub struct Connections {
    /// Connections seen.
    pub count: u64,
    /// Refused connections per server address.
    pub(crate) refused_by_server: BTreeMap<SocketAddr, u64>,
    recent_refusals: VecDeque<(Ts, SocketAddr)>,
}

impl Connections {
    pub(crate) fn apply(&mut self, c: &Connection) {
        self.count += 1;
        if c.error == Some(ConnError::Refused) {
            *self.refused_by_server.entry(c.server).or_default() += 1;
            self.recent_refusals.push_back((c.ts, c.server));
            if self.recent_refusals.len() > MAX_RECENT_REFUSALS {
                self.recent_refusals.pop_front();
            }
        }
    }

    /// The refusal just before a request at `ts`, if there is one: the same request,
    /// failing at the proxy before (GOPROXY's '|' fell back to the one that answered).
    pub(crate) fn take_refusal_before(&mut self, ts: Ts) -> Option<(Ts, SocketAddr)> {
        while self
            .recent_refusals
            .front()
            .is_some_and(|(t, _)| ts.0 - t.0 > REFUSAL_WINDOW_NS)
        {
            self.recent_refusals.pop_front();
        }
        match self.recent_refusals.front() {
            Some(&(t, _)) if t <= ts => self.recent_refusals.pop_front(),
            _ => None,
        }
    }
}
