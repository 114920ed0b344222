//! Per-proxy statistics: requests, status mix, errors, bytes, and percentiles of time to
//! first byte, of the round trip and of the server's own time.

use super::latency::Latencies;
use crate::present::ProxySummary;
use gomodwatch_wire::vocab::Exchange;
use std::collections::BTreeMap;

/// Every proxy base URL seen in the traffic, with its tally.
#[derive(Debug, Default)]
pub struct Proxies {
    /// Proxy base URL → its tally.
    pub by_base: BTreeMap<String, ProxyTally>,
}

impl Proxies {
    pub(crate) fn apply(&mut self, ex: &Exchange) {
        // A redirect hop is counted with the request that caused it.
        if let Some(proxy) = ex.go.proxy.as_ref().filter(|_| ex.redirect_of.is_none()) {
            let t = self.by_base.entry(proxy.clone()).or_default();
            t.add(
                ex.status,
                ex.error.is_some(),
                ex.resp_bytes,
                ex.timing.ttfb_ms,
            );
            if let Some(ms) = ex.timing.rtt_ms {
                t.rtt.add(ms);
            }
            if let Some(ms) = ex.timing.server_ms {
                t.server.add(ms);
            }
        }
    }

    pub(crate) fn summaries(&self) -> Vec<ProxySummary> {
        self.by_base.iter().map(|(p, t)| t.summary(p)).collect()
    }
}

/// What one proxy answered.
#[derive(Debug, Clone, Default)]
pub struct ProxyTally {
    pub(crate) requests: u64,
    pub(crate) status: BTreeMap<String, u64>,
    pub(crate) errors: u64,
    pub(crate) bytes: u64,
    /// Its times to first byte.
    pub ttfb: Latencies,
    /// The round trip of the connection each request ran on.
    pub rtt: Latencies,
    /// The server's own time per request.
    pub server: Latencies,
}

impl ProxyTally {
    pub(crate) fn add(
        &mut self,
        status: Option<u16>,
        error: bool,
        bytes: u64,
        ttfb_ms: Option<f64>,
    ) {
        self.requests += 1;
        let key = status.map_or_else(|| "none".to_string(), |s| s.to_string());
        *self.status.entry(key).or_default() += 1;
        self.errors += u64::from(error);
        self.bytes += bytes;
        if let Some(t) = ttfb_ms {
            self.ttfb.add(t);
        }
    }

    pub(crate) fn summary(&self, proxy: &str) -> ProxySummary {
        ProxySummary {
            proxy: proxy.to_string(),
            requests: self.requests,
            status: self.status.clone(),
            errors: self.errors,
            p50_ms: self.ttfb.percentile(50.0),
            p95_ms: self.ttfb.percentile(95.0),
            max_ms: self.ttfb.max(),
            bytes: self.bytes,
            rtt_p50_ms: self.rtt.percentile(50.0),
            rtt_p95_ms: self.rtt.percentile(95.0),
            server_p50_ms: self.server.percentile(50.0),
            server_p95_ms: self.server.percentile(95.0),
        }
    }
}
