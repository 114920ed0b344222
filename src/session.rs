//! The model every view reads: what the traffic amounted to so far. Built from events
//! only, so captures and the MITM proxy feed it alike.

use crate::event::Event;
use crate::stats::{ProxySummary, ProxyTally};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

#[derive(Default)]
pub struct Session {
    pub connections: u64,
    pub exchanges: u64,
    pub proxies: BTreeMap<String, ProxyTally>,
    modules: BTreeSet<(String, String)>,
    /// Bumped on every change, so a view redraws only when something happened.
    pub generation: u64,
}

/// The last NDJSON line.
#[derive(Serialize, Debug, Clone)]
pub struct Summary {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub packets: u64,
    pub bytes: u64,
    pub connections: u64,
    pub exchanges: u64,
    pub modules: u64,
    pub dropped: u64,
    pub gaps: u64,
    pub proxies: Vec<ProxySummary>,
}

/// Counters that come from the packet source rather than from events.
#[derive(Debug, Default, Clone, Copy)]
pub struct SourceCounts {
    pub packets: u64,
    pub bytes: u64,
    pub dropped: u64,
    pub gaps: u64,
}

impl Session {
    pub fn apply(&mut self, ev: &Event) {
        self.generation += 1;
        match ev {
            Event::Connection(_) => self.connections += 1,
            Event::Exchange(ex) => {
                self.exchanges += 1;
                if let (Some(m), Some(v)) = (&ex.go.module, &ex.go.version) {
                    if ex.go.kind.is_proxy_artifact() {
                        self.modules.insert((m.clone(), v.clone()));
                    }
                }
                if let Some(proxy) = &ex.go.proxy {
                    self.proxies.entry(proxy.clone()).or_default().add(
                        ex.status,
                        ex.error.is_some(),
                        ex.resp_bytes,
                        ex.timing.ttfb_ms,
                    );
                }
            }
            Event::Dns(_) => {}
        }
    }

    pub fn summary(&self, src: SourceCounts) -> Summary {
        Summary {
            kind: "summary",
            packets: src.packets,
            bytes: src.bytes,
            connections: self.connections,
            exchanges: self.exchanges,
            modules: self.modules.len() as u64,
            dropped: src.dropped,
            gaps: src.gaps,
            proxies: self.proxies.iter().map(|(p, t)| t.summary(p)).collect(),
        }
    }
}
