//! Where the time went on the way to each proxy, as the verdicts need it: loss per server
//! (from the connections' TCP counters) and, per GOPROXY entry, what it served and the
//! time the go command spent on its answers that served nothing (per module too). The
//! round trip and server time per proxy live with the other per-proxy figures
//! (`proxies.rs`).

use gomodwatch_wire::vocab::{Connection, Exchange};
use std::collections::BTreeMap;
use std::net::SocketAddr;

/// Servers and modules kept per table; the rest are summarised by the first ones.
const MAX_ENTRIES: usize = 1_000;

/// What the connections to one server lost and repaired.
#[derive(Debug, Clone, Default)]
pub(crate) struct Loss {
    pub(crate) connections: u64,
    pub(crate) data_segments: u64,
    pub(crate) retransmits: u64,
    pub(crate) retransmit_bytes: u64,
    pub(crate) out_of_order: u64,
    pub(crate) dup_acks: u64,
    pub(crate) zero_windows: u64,
    pub(crate) recovery_ms: f64,
    pub(crate) name: Option<String>,
}

/// What one GOPROXY entry did with the requests it got.
#[derive(Debug, Clone, Default)]
pub(crate) struct EntryUse {
    /// Answers that served something (2xx, or a redirect to where it is).
    pub(crate) served: u64,
    /// Answers that served nothing: 4xx/5xx, or no answer at all.
    pub(crate) failed: u64,
    /// Time the go command waited on those (request → last response byte).
    pub(crate) failed_ms: f64,
    /// Per module path: (requests that served nothing, time they took).
    pub(crate) by_module: BTreeMap<String, (u64, f64)>,
}

/// Loss per server and the use of each GOPROXY entry.
#[derive(Debug, Default)]
pub struct PathTiming {
    pub(crate) loss: BTreeMap<SocketAddr, Loss>,
    pub(crate) entries: BTreeMap<String, EntryUse>,
}

impl PathTiming {
    pub(crate) fn connection(&mut self, c: &Connection) {
        let Some(t) = c.tcp.as_deref() else { return };
        if self.loss.len() >= MAX_ENTRIES && !self.loss.contains_key(&c.server) {
            return;
        }
        let l = self.loss.entry(c.server).or_default();
        l.connections += 1;
        l.data_segments += t.data_segments;
        l.retransmits += u64::from(t.retransmits);
        l.retransmit_bytes += t.retransmit_bytes;
        l.out_of_order += u64::from(t.out_of_order);
        l.dup_acks += u64::from(t.dup_acks);
        l.zero_windows += u64::from(t.zero_windows);
        l.recovery_ms += t.recovery_ms;
        if l.name.is_none() {
            l.name = c.server_name.clone();
        }
    }

    pub(crate) fn exchange(&mut self, ex: &Exchange) {
        let Some(proxy) = ex.go.proxy.as_ref().filter(|_| ex.redirect_of.is_none()) else {
            return;
        };
        if self.entries.len() >= MAX_ENTRIES && !self.entries.contains_key(proxy) {
            return;
        }
        let e = self.entries.entry(proxy.clone()).or_default();
        if matches!(ex.status, Some(200..=399)) && ex.error.is_none() {
            e.served += 1;
            return;
        }
        let ms = ex.timing.total_ms.or(ex.timing.ttfb_ms).unwrap_or(0.0);
        e.failed += 1;
        e.failed_ms += ms;
        if let Some(m) = &ex.go.module {
            if e.by_module.len() < MAX_ENTRIES || e.by_module.contains_key(m) {
                let slot = e.by_module.entry(m.clone()).or_default();
                slot.0 += 1;
                slot.1 += ms;
            }
        }
    }
}
