//! Connections as the views need them (the waterfall's DNS, connect and TLS phases), and
//! the ones refused: per server, and the most recent ones, which the module model charges
//! to the request that fell back after them.

use gomodwatch_wire::vocab::{ConnError, Connection, Ts};
use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;

/// Connections kept for the views; older ones are forgotten first.
const MAX_CONNECTIONS: usize = 20_000;
/// Refusals waiting for the request that fell back after them.
const MAX_RECENT_REFUSALS: usize = 256;
/// A refusal older than this belongs to no request still to come.
const REFUSAL_WINDOW_NS: i64 = 2_000_000_000;

/// A connection as the views need it.
#[derive(Debug, Clone)]
pub struct ConnBrief {
    pub ts: Ts,
    pub server: SocketAddr,
    pub server_name: Option<String>,
    pub connect_ms: Option<f64>,
    pub tls_ms: Option<f64>,
    pub sni: Option<String>,
    pub error: Option<ConnError>,
    pub dns_ms: Option<f64>,
}

#[derive(Debug, Default)]
pub struct Connections {
    pub count: u64,
    briefs: BTreeMap<u64, ConnBrief>,
    /// Refused connections per server address.
    pub refused_by_server: BTreeMap<SocketAddr, u64>,
    recent_refusals: VecDeque<(Ts, SocketAddr)>,
}

impl Connections {
    /// `dns_ms`: how long the lookup of the server's name took, if it was seen.
    pub fn apply(&mut self, c: &Connection, dns_ms: Option<f64>) {
        self.count += 1;
        if c.error == Some(ConnError::Refused) {
            *self.refused_by_server.entry(c.server).or_default() += 1;
            self.recent_refusals.push_back((c.ts, c.server));
            if self.recent_refusals.len() > MAX_RECENT_REFUSALS {
                self.recent_refusals.pop_front();
            }
        }
        if self.briefs.len() >= MAX_CONNECTIONS {
            self.briefs.pop_first();
        }
        self.briefs.insert(
            c.id,
            ConnBrief {
                ts: c.ts,
                server: c.server,
                server_name: c.server_name.clone(),
                connect_ms: c.connect_ms,
                tls_ms: c.tls.as_ref().and_then(|t| t.handshake_ms),
                sni: c.tls.as_ref().and_then(|t| t.sni.clone()),
                error: c.error,
                dns_ms,
            },
        );
    }

    pub fn get(&self, id: u64) -> Option<&ConnBrief> {
        self.briefs.get(&id)
    }

    /// The refusal just before a request at `ts`, if there is one: the same request,
    /// failing at the proxy before (GOPROXY's '|' fell back to the one that answered).
    pub fn take_refusal_before(&mut self, ts: Ts) -> Option<(Ts, SocketAddr)> {
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
