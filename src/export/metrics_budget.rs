//! The time budget as metrics: `gomodwatch_budget_seconds{phase}` (the phases and the wall
//! clock) and `gomodwatch_budget_proxy_seconds{proxy, phase}`, gauges set afresh from the
//! session's budget each time the metrics are brought up to date.

use crate::present::Budget;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use std::collections::BTreeMap;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PhaseLabel {
    phase: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ProxyPhase {
    proxy: String,
    phase: String,
}

/// A gauge of seconds.
type Seconds = Gauge<f64, std::sync::atomic::AtomicU64>;

/// The budget's gauge families.
#[derive(Default)]
pub(crate) struct BudgetGauges {
    phase: Family<PhaseLabel, Seconds>,
    proxy: Family<ProxyPhase, Seconds>,
}

impl BudgetGauges {
    pub(crate) fn register(&self, registry: &mut Registry) {
        registry.register(
            "gomodwatch_budget_seconds",
            "The run's wall clock split along its critical path (phase: dns, connect, tls, wait, fallback, transfer, checksum_db, idle; wall: the whole)",
            self.phase.clone(),
        );
        registry.register(
            "gomodwatch_budget_proxy_seconds",
            "Per proxy, the critical path's time on it (phase: wait, transfer, fallback)",
            self.proxy.clone(),
        );
    }

    /// Sets the gauges from `b`; `label` gives a proxy its (bounded) label value.
    pub(crate) fn set(&self, b: &Budget, label: &mut dyn FnMut(&str) -> String) {
        for (phase, ms) in b.phases().into_iter().chain([("wall", b.wall_ms)]) {
            self.phase
                .get_or_create(&PhaseLabel {
                    phase: phase.into(),
                })
                .set(ms / 1000.0);
        }
        // Proxies sharing `other` are added up.
        let mut by: BTreeMap<(String, &str), f64> = BTreeMap::new();
        for p in &b.proxies {
            let proxy = label(&p.proxy);
            for (phase, ms) in [
                ("wait", p.wait_ms),
                ("transfer", p.transfer_ms),
                ("fallback", p.fallback_ms),
            ] {
                *by.entry((proxy.clone(), phase)).or_default() += ms;
            }
        }
        for ((proxy, phase), ms) in by {
            self.proxy
                .get_or_create(&ProxyPhase {
                    proxy,
                    phase: phase.into(),
                })
                .set(ms / 1000.0);
        }
    }
}
