//! Where the time went, in verdicts a user can act on: a proxy that is *far* (its time to
//! first byte is mostly the round trip: a nearer mirror helps) versus one that is *slow to
//! answer* (the server's own time dominates: a faster or better-cached server helps), a
//! path that loses packets and what the repairs cost, and a GOPROXY entry that served
//! nothing in this run and what asking it first cost. Each says what the traffic shows;
//! where it cannot prove the cause, it says what it suggests and marks it inferred.

use super::model::Session;
use super::path_timing::{EntryUse, Loss};
use super::proxies::ProxyTally;
use crate::gomod::cause::Cause;
use crate::gomod::verdict::{Problem, Severity};

/// A share of time to first byte above which one part is said to dominate it.
const DOMINANT: f64 = 0.6;
/// Requests a proxy needs before it is called far or slow (fewer prove little).
const MIN_REQUESTS: u64 = 3;
/// Repaired segments (retransmitted or holes filled) before a path is called lossy, and the
/// share of the data segments they must be.
const MIN_REPAIRS: u64 = 3;
const MIN_LOSS_SHARE: f64 = 0.01;
/// Modules named in a fallback sentence (the rest are counted).
const NAMED_MODULES: usize = 3;

impl Session {
    /// The far / slow-server verdict for one proxy whose time to first byte exceeds the
    /// SLO, when its round trip and server time were measured; `None` leaves the plain
    /// "slow" sentence.
    pub(super) fn far_or_slow(&self, proxy: &str, t: &ProxyTally) -> Option<Problem> {
        if t.requests < MIN_REQUESTS || self.served_nothing(proxy).is_some() {
            return None;
        }
        let ttfb = t.ttfb.percentile(50.0)?;
        let rtt = t.rtt.percentile(50.0)?;
        let server = t.server.percentile(50.0)?;
        let (rtt95, server95) = (
            t.rtt.percentile(95.0).unwrap_or(rtt),
            t.server.percentile(95.0).unwrap_or(server),
        );
        let figures = format!(
            "time to first byte {ttfb:.0} ms (median of {} requests) = round trip {rtt:.0} ms \
             (p95 {rtt95:.0}) + the server's own time {server:.0} ms (p95 {server95:.0})",
            t.requests
        );
        let text = if rtt >= DOMINANT * ttfb {
            format!(
                "proxy {proxy} is far, not slow: {figures}; distance costs the time, so a \
                 mirror nearer to this machine helps, a faster server would not"
            )
        } else if server >= DOMINANT * ttfb {
            format!(
                "proxy {proxy} is slow to answer, not far: {figures}; the server's own time \
                 dominates, so a faster or better-cached server (or another proxy) helps, a \
                 nearer mirror of the same server would not"
            )
        } else {
            format!(
                "proxy {proxy} is slow by distance and by the server alike: {figures}; both a \
                 nearer mirror and a faster server would help"
            )
        };
        Some(Problem {
            severity: Severity::Info,
            text,
            subject: None,
            proxy: Some(proxy.to_string()),
            ..Default::default()
        })
    }

    /// Every timing verdict that is not about one proxy's speed: lossy paths and the
    /// GOPROXY entries that served nothing.
    pub(super) fn timing_problems(&self, out: &mut Vec<Problem>) {
        for (addr, l) in &self.path_timing.loss {
            if let Some(p) = lossy(addr, l) {
                out.push(p);
            }
        }
        self.fallback_costs(out);
    }

    /// A GOPROXY entry that answered every request it got without serving anything:
    /// what it answered, and the entry after it that served.
    pub(super) fn served_nothing(&self, proxy: &str) -> Option<&EntryUse> {
        self.path_timing
            .entries
            .get(proxy)
            .filter(|e| e.served == 0 && e.failed > 0)
    }

    fn fallback_costs(&self, out: &mut Vec<Problem>) {
        let Some(chain) = self.chain() else { return };
        let urls: Vec<&str> = chain.entries.iter().map(|e| e.url.as_str()).collect();
        for (i, a) in urls.iter().enumerate() {
            // Only a cost worth telling: at least the SLO's worth of waiting in all.
            let Some(e) = self
                .served_nothing(a)
                .filter(|e| e.failed_ms >= self.config.slo_ms)
            else {
                continue;
            };
            // The entry that served what A did not: a later one that served something.
            let Some(b) = urls[i + 1..].iter().find(|b| {
                self.path_timing
                    .entries
                    .get(**b)
                    .is_some_and(|u| u.served > 0)
            }) else {
                continue;
            };
            let statuses = self
                .proxies
                .by_base
                .get(*a)
                .map(|t| {
                    t.status
                        .iter()
                        .map(|(s, n)| format!("{s} ×{n}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                })
                .unwrap_or_default();
            let mut mods: Vec<(&String, &(u64, f64))> = e.by_module.iter().collect();
            mods.sort_by(|x, y| y.1 .1.total_cmp(&x.1 .1));
            let named: Vec<String> = mods
                .iter()
                .take(NAMED_MODULES)
                .map(|(m, (n, ms))| format!("{m} {:.2} s ({n} requests)", ms / 1000.0))
                .collect();
            let more = mods.len().saturating_sub(NAMED_MODULES);
            let per_module = if more > 0 {
                format!("{} and {more} more", named.join(", "))
            } else {
                named.join(", ")
            };
            let order: Vec<&str> = std::iter::once(*b)
                .chain(urls.iter().copied().filter(|u| u != b))
                .collect();
            out.push(
                Problem {
                    severity: Severity::Warning,
                    text: format!(
                        "GOPROXY entry {a} served nothing in this run ({} requests: \
                         {statuses}) and {b} served what it did not; asking {a} first cost \
                         {:.2} s of waiting ({:.0} ms a request) — per module: {per_module}. \
                         Put {b} first (GOPROXY={}) or drop {a}",
                        e.failed,
                        e.failed_ms / 1000.0,
                        e.failed_ms / e.failed as f64,
                        order.join(","),
                    ),
                    subject: None,
                    proxy: Some(a.to_string()),
                    ..Default::default()
                }
                .caused(Cause::NotFound, "response", a.to_string()),
            );
        }
    }
}

/// A path that lost packets: the repairs counted on the connections to one server.
fn lossy(addr: &std::net::SocketAddr, l: &Loss) -> Option<Problem> {
    let repairs = l.retransmits + l.out_of_order;
    if repairs < MIN_REPAIRS || l.data_segments == 0 {
        return None;
    }
    let share = repairs as f64 / l.data_segments as f64;
    if share < MIN_LOSS_SHARE {
        return None;
    }
    let endpoint = match &l.name {
        Some(n) => format!("{addr} ({n})"),
        None => addr.to_string(),
    };
    Some(Problem {
        severity: Severity::Warning,
        text: format!(
            "the path to {endpoint} loses packets: {repairs} of {} data segments had to \
                 be repaired ({} retransmitted, {} bytes; {} arrived after a hole; {} \
                 duplicate ACKs) on {} connection{}, about {:.1} % lost, and waiting for the \
                 repairs cost {:.2} s; the traffic shows the loss, not where it happens: a \
                 congested or wireless link, a VPN, or a proxy on a better path would tell",
            l.data_segments,
            l.retransmits,
            l.retransmit_bytes,
            l.out_of_order,
            l.dup_acks,
            l.connections,
            if l.connections == 1 { "" } else { "s" },
            share * 100.0,
            l.recovery_ms / 1000.0,
        ),
        subject: None,
        proxy: None,
        host: Some(addr.to_string()),
        inferred: true,
        ..Default::default()
    })
}
