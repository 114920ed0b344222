//! What the metric families of `metrics.rs` and `timing_metrics.rs` share: the
//! proxy-and-kind label set and the histogram buckets around the SLO.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::family::MetricConstructor;
use prometheus_client::metrics::histogram::Histogram;
use std::sync::Arc;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct ProxyKind {
    pub(super) proxy: String,
    pub(super) kind: String,
}

/// Makes the histograms of the time-to-first-byte family, with these buckets.
#[derive(Clone)]
pub(super) struct Buckets(pub(super) Arc<Vec<f64>>);

impl MetricConstructor<Histogram> for Buckets {
    fn new_metric(&self) -> Histogram {
        Histogram::new(self.0.iter().copied())
    }
}
