//! The metrics of where the time went: the round trip and the server's own time per
//! request (histograms with the time-to-first-byte buckets, since both are parts of it) and
//! TCP repairs per endpoint.

use super::metric_families::{Buckets, ProxyKind};
use crate::present::Exchange;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct EndpointLabel {
    endpoint: String,
}

/// Round trips, server times and TCP repairs.
pub(super) struct TimingMetrics {
    rtt: Family<ProxyKind, Histogram, Buckets>,
    server: Family<ProxyKind, Histogram, Buckets>,
    retransmits: Family<EndpointLabel, Counter>,
    out_of_order: Family<EndpointLabel, Counter>,
}

impl TimingMetrics {
    pub(super) fn new(buckets: &Buckets) -> TimingMetrics {
        TimingMetrics {
            rtt: Family::new_with_constructor(buckets.clone()),
            server: Family::new_with_constructor(buckets.clone()),
            retransmits: Family::default(),
            out_of_order: Family::default(),
        }
    }

    pub(super) fn register(&self, registry: &mut Registry) {
        registry.register(
            "gomodwatch_rtt_seconds",
            "Round trip of the connection each request ran on (handshake, or the MITM's connect)",
            self.rtt.clone(),
        );
        registry.register(
            "gomodwatch_server_seconds",
            "The server's own time per request: time to first byte less the round trip's leg towards the server",
            self.server.clone(),
        );
        registry.register(
            "gomodwatch_tcp_retransmits",
            "TCP segments that repeated data already sent (both directions; as Wireshark's tcp.analysis.retransmission)",
            self.retransmits.clone(),
        );
        registry.register(
            "gomodwatch_tcp_out_of_order",
            "TCP segments that filled a hole soon after it opened (reordered, or resent promptly)",
            self.out_of_order.clone(),
        );
    }

    pub(super) fn exchange(&self, pk: &ProxyKind, ex: &Exchange) {
        if let Some(t) = ex.timing.rtt_ms {
            self.rtt.get_or_create(pk).observe(t / 1000.0);
        }
        if let Some(t) = ex.timing.server_ms {
            self.server.get_or_create(pk).observe(t / 1000.0);
        }
    }

    /// A connection's repairs (its `tcp` counters), counted under `endpoint` (a bounded
    /// label value).
    pub(super) fn repairs(&self, endpoint: String, retransmits: u32, out_of_order: u32) {
        let label = EndpointLabel { endpoint };
        self.retransmits
            .get_or_create(&label)
            .inc_by(u64::from(retransmits));
        self.out_of_order
            .get_or_create(&label)
            .inc_by(u64::from(out_of_order));
    }
}
