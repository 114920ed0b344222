//! The time budget of a go run: every go-command request kept as an interval (its
//! connection setup, its wait for the first byte, its transfer), and, when asked, the wall
//! clock split along the critical path — the chain of requests that set the end time,
//! walked back from the last response: each step is the request that ended last before the
//! next one began. Time on the path between steps (and before the first, after the last) is
//! the go command's own work. Requests overlap (the go command downloads in parallel); a
//! split along one chain counts each instant once, so the parts add up to the wall clock
//! exactly (docs/ARCHITECTURE.md, "The time budget").

use crate::present::budget::{Budget as BudgetView, BudgetProxy, PathStep};
use gomodwatch_wire::vocab::{Exchange, Kind, Ts};
use std::collections::{BTreeMap, HashMap, VecDeque};

/// Requests kept for the critical path; past it the oldest are forgotten (counted).
const MAX_BUDGET_REQUESTS: usize = 16_384;
/// Steps of the critical path the event lists (the last ones); `path_steps` counts all.
const PATH_SHOWN: usize = 64;
/// Unserved requests for one thing remembered as possible fallbacks (the go command asks
/// a thing twice at most per proxy; more is a loop, whose oldest answers are let go).
const UNSERVED_PER_ASK: usize = 16;

/// One go-command request as the budget sees it.
#[derive(Debug, Clone)]
struct Req {
    exchange: u64,
    url: String,
    proxy: Option<String>,
    kind: Kind,
    status: Option<u16>,
    /// Its connection setup's start (`sent` minus what it paid for DNS, connect, TLS).
    start: Ts,
    /// The request's first byte.
    sent: Ts,
    first: Option<Ts>,
    end: Ts,
    dns_ns: i64,
    connect_ns: i64,
    tls_ns: i64,
    /// Served nothing, and the go command then asked another proxy for the same module
    /// (or fetched it direct).
    fell_back: bool,
    /// The module path it asked for, for requests that served nothing.
    key: Option<String>,
}

/// The requests kept, and which unserved ones may still turn out to be fallbacks.
#[derive(Debug, Default)]
pub struct Budget {
    reqs: VecDeque<Req>,
    /// The sequence number of `reqs[0]`.
    first_seq: u64,
    not_kept: u64,
    /// A module path → the unserved requests for it still kept (sequence numbers, the
    /// last `UNSERVED_PER_ASK`).
    unserved: HashMap<String, VecDeque<u64>>,
}

fn ns(ms: Option<f64>) -> i64 {
    ms.filter(|v| v.is_finite() && *v > 0.0)
        .map_or(0, |v| (v * 1e6) as i64)
}

/// Milliseconds, to the microsecond (as every duration of the NDJSON).
fn ms(ns: i64) -> f64 {
    (ns / 1_000) as f64 / 1_000.0
}

/// `scheme://host[:port]` of a URL.
fn origin(url: &str) -> Option<String> {
    let rest_at = url.find("://")? + 3;
    let end = url[rest_at..].find('/').map_or(url.len(), |i| rest_at + i);
    Some(url[..end].to_string())
}

impl Budget {
    /// An exchange, when it is the go command's (a GOPROXY, checksum database or direct
    /// fetch request, or a redirect's hop).
    pub(crate) fn apply(&mut self, ex: &Exchange) {
        if ex.go.kind == Kind::Other && ex.redirect_of.is_none() {
            return;
        }
        let url = ex.url.clone().unwrap_or_default();
        let proxy = ex.go.proxy.clone().or_else(|| origin(&url));
        let (dns_ns, connect_ns, tls_ns) = (
            ns(ex.setup.dns_ms),
            ns(ex.setup.connect_ms),
            ns(ex.setup.tls_ms),
        );
        let served = ex.error.is_none() && ex.status.is_some_and(|s| (200..400).contains(&s));
        // The module path asked for: a GOPROXY request's, or a direct fetch's discovery
        // (`?go-get=1`), so that falling back to `direct` counts too.
        let asks = matches!(ex.go.kind, Kind::GoGet) || ex.go.kind.is_proxy_artifact();
        let key = ex
            .go
            .module
            .clone()
            .filter(|_| asks && ex.redirect_of.is_none());
        // Asked again elsewhere: the earlier unserved answers were fallbacks.
        if let Some(k) = &key {
            if let Some(seqs) = self.unserved.get_mut(k) {
                let (first_seq, reqs) = (self.first_seq, &mut self.reqs);
                seqs.retain(|&s| {
                    let Some(r) = reqs.get_mut((s - first_seq) as usize) else {
                        return false;
                    };
                    if r.proxy != proxy {
                        r.fell_back = true;
                        false
                    } else {
                        true
                    }
                });
                if seqs.is_empty() {
                    self.unserved.remove(k);
                }
            }
        }
        let sent = ex.ts;
        let end = ex
            .last_byte_at
            .or(ex.first_byte_at)
            .unwrap_or(sent)
            .max(sent);
        let seq = self.first_seq + self.reqs.len() as u64;
        if !served {
            if let Some(k) = &key {
                let seqs = self.unserved.entry(k.clone()).or_default();
                if seqs.len() == UNSERVED_PER_ASK {
                    seqs.pop_front();
                }
                seqs.push_back(seq);
            }
        }
        self.reqs.push_back(Req {
            exchange: ex.id,
            url,
            proxy,
            kind: ex.go.kind,
            status: ex.status,
            start: Ts(sent.0 - dns_ns - connect_ns - tls_ns),
            sent,
            first: ex.first_byte_at.map(|f| f.clamp(sent, end)),
            end,
            dns_ns,
            connect_ns,
            tls_ns,
            fell_back: false,
            key: if served { None } else { key },
        });
        if self.reqs.len() > MAX_BUDGET_REQUESTS {
            self.forget_oldest();
        }
    }

    fn forget_oldest(&mut self) {
        let Some(old) = self.reqs.pop_front() else {
            return;
        };
        let seq = self.first_seq;
        self.first_seq += 1;
        self.not_kept += 1;
        if let Some(k) = &old.key {
            if let Some(seqs) = self.unserved.get_mut(k) {
                if seqs.front() == Some(&seq) {
                    seqs.pop_front();
                }
                if seqs.is_empty() {
                    self.unserved.remove(k);
                }
            }
        }
    }

    /// The span of the requests kept: the first setup's start to the last byte.
    fn traffic_span(&self) -> Option<(Ts, Ts)> {
        let start = self.reqs.iter().map(|r| r.start).min()?;
        let end = self.reqs.iter().map(|r| r.end).max()?;
        Some((start, end))
    }

    /// The budget over `wall` (the go command's lifetime under `run`), or over the traffic's
    /// own span; `None` without either.
    pub(crate) fn view(&self, wall: Option<(Ts, Ts)>) -> Option<BudgetView> {
        let (wall_from, (w0, w1)) = match wall {
            Some((a, b)) => ("run", (a, b.max(a))),
            None => ("traffic", self.traffic_span()?),
        };
        let path = self.critical_path(w0, w1);
        let mut v = BudgetView {
            kind: "budget",
            start: w0,
            end: w1,
            wall_from,
            wall_ms: ms(w1.0 - w0.0),
            method: "critical-path",
            dns_ms: 0.0,
            connect_ms: 0.0,
            tls_ms: 0.0,
            wait_ms: 0.0,
            fallback_ms: 0.0,
            transfer_ms: 0.0,
            checksum_db_ms: 0.0,
            idle_ms: 0.0,
            proxies: Vec::new(),
            path_steps: path.len() as u64,
            critical_path: Vec::new(),
            requests: self.reqs.len() as u64 + self.not_kept,
            requests_not_kept: self.not_kept,
        };
        // Sums in nanoseconds, so the parts add up exactly.
        let mut sum = [0i64; 7];
        let mut per_proxy: BTreeMap<String, [i64; 3]> = BTreeMap::new();
        let clip = |from: i64, to: i64| (to.min(w1.0) - from.max(w0.0)).max(0);
        // Only the last steps are listed (their URLs copied).
        let listed_from = path.len().saturating_sub(PATH_SHOWN);
        let mut steps = Vec::with_capacity(path.len() - listed_from);
        for (n, &i) in path.iter().enumerate() {
            let r = &self.reqs[i];
            let mut at = r.start.0;
            let mut seg = |len: i64| {
                let c = clip(at, at + len);
                at += len;
                c
            };
            let (dns, connect, tls) = (seg(r.dns_ns), seg(r.connect_ns), seg(r.tls_ns));
            let first = r.first.unwrap_or(r.end).0;
            let wait = clip(r.sent.0, first);
            let transfer = clip(first, r.end.0);
            let phase = if r.kind.is_sumdb() {
                "checksum-db"
            } else if r.fell_back {
                "fallback"
            } else {
                "wait"
            };
            sum[0] += dns;
            sum[1] += connect;
            sum[2] += tls;
            match phase {
                "checksum-db" => sum[6] += wait + transfer,
                "fallback" => sum[4] += wait + transfer,
                _ => {
                    sum[3] += wait;
                    sum[5] += transfer;
                }
            }
            if phase != "checksum-db" {
                let p = per_proxy
                    .entry(r.proxy.clone().unwrap_or_else(|| "unknown".into()))
                    .or_default();
                if phase == "fallback" {
                    p[2] += wait + transfer;
                } else {
                    p[0] += wait;
                    p[1] += transfer;
                }
            }
            if n < listed_from {
                continue;
            }
            steps.push(PathStep {
                exchange: r.exchange,
                url: r.url.clone(),
                proxy: r.proxy.clone(),
                kind: r.kind.as_str(),
                status: r.status,
                start_ms: ms((r.start.0 - w0.0).max(0)),
                dns_ms: ms(dns),
                connect_ms: ms(connect),
                tls_ms: ms(tls),
                wait_ms: ms(wait),
                transfer_ms: ms(transfer),
                phase,
            });
        }
        // Whole microseconds, and idle what is left: the parts add up to the wall clock
        // as written, not only before rounding.
        let sum = sum.map(|ns| ns / 1_000 * 1_000);
        let wall = (w1.0 - w0.0) / 1_000 * 1_000;
        let idle = (wall - sum.iter().sum::<i64>()).max(0);
        v.dns_ms = ms(sum[0]);
        v.connect_ms = ms(sum[1]);
        v.tls_ms = ms(sum[2]);
        v.wait_ms = ms(sum[3]);
        v.fallback_ms = ms(sum[4]);
        v.transfer_ms = ms(sum[5]);
        v.checksum_db_ms = ms(sum[6]);
        v.idle_ms = ms(idle);
        v.proxies = per_proxy
            .into_iter()
            .map(|(proxy, [w, t, f])| BudgetProxy {
                proxy,
                wait_ms: ms(w),
                transfer_ms: ms(t),
                fallback_ms: ms(f),
            })
            .collect();
        v.critical_path = steps;
        Some(v)
    }

    /// The chain of requests that set the end time, oldest first (indexes into `reqs`):
    /// from the request that ended last (by `w1`), each step back is the request that
    /// ended last before it began. Steps that end before `w0` are not part of the run.
    fn critical_path(&self, w0: Ts, w1: Ts) -> Vec<usize> {
        let mut order: Vec<usize> = (0..self.reqs.len())
            .filter(|&i| self.reqs[i].start < w1 && self.reqs[i].end > w0)
            .collect();
        order.sort_by_key(|&i| (self.reqs[i].end, self.reqs[i].start));
        let mut path = Vec::new();
        let mut pos = order.len();
        while pos > 0 {
            let i = order[pos - 1];
            path.push(i);
            let start = self.reqs[i].start;
            // Strictly earlier in the order, so the walk always ends.
            pos = order[..pos - 1].partition_point(|&j| self.reqs[j].end <= start);
        }
        path.reverse();
        path
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gomodwatch_wire::vocab::GoRequest;

    fn ex(id: u64, proxy: &str, kind: Kind, status: u16, t: (i64, i64, i64)) -> Exchange {
        let ms = 1_000_000;
        Exchange {
            id,
            ts: Ts(t.0 * ms),
            url: Some(format!("{proxy}/m/@v/v1.0.0.{}", kind.as_str())),
            status: Some(status),
            first_byte_at: Some(Ts(t.1 * ms)),
            last_byte_at: Some(Ts(t.2 * ms)),
            go: GoRequest {
                kind,
                proxy: Some(proxy.into()),
                module: Some("m".into()),
                version: Some("v1.0.0".into()),
            },
            ..Default::default()
        }
    }

    fn total(v: &BudgetView) -> f64 {
        v.phases().iter().map(|(_, ms)| ms).sum()
    }

    #[test]
    fn a_fallback_is_named_and_the_parts_add_up() {
        let mut b = Budget::default();
        // A answers 404 after 250 ms, then B serves; meanwhile an overlapping request.
        b.apply(&ex(1, "http://a", Kind::Info, 404, (0, 250, 250)));
        b.apply(&ex(2, "http://a", Kind::Mod, 200, (10, 20, 30)));
        b.apply(&ex(3, "http://b", Kind::Info, 200, (260, 300, 310)));
        let v = b.view(Some((Ts(0), Ts(400_000_000)))).unwrap();
        assert_eq!(v.path_steps, 2);
        assert_eq!(v.fallback_ms, 250.0);
        assert_eq!(v.wait_ms, 40.0);
        assert_eq!(v.transfer_ms, 10.0);
        assert_eq!(v.idle_ms, 100.0);
        assert!((total(&v) - v.wall_ms).abs() < 1e-9);
        assert_eq!(v.proxies[0].proxy, "http://a");
        assert_eq!(v.proxies[0].fallback_ms, 250.0);
    }

    #[test]
    fn falling_back_to_direct_is_a_fallback_and_the_same_proxy_again_is_not() {
        let mut b = Budget::default();
        b.apply(&ex(1, "http://a", Kind::Info, 404, (0, 100, 100)));
        // Go >= 1.24 asks a 4xx twice of the same proxy: not a fallback by itself.
        b.apply(&ex(2, "http://a", Kind::Info, 404, (100, 200, 200)));
        let v = b.view(None).unwrap();
        assert_eq!(v.fallback_ms, 0.0);
        let mut get = ex(3, "https://m", Kind::GoGet, 200, (210, 220, 230));
        get.go.proxy = None;
        b.apply(&get);
        let v = b.view(None).unwrap();
        assert_eq!(v.fallback_ms, 200.0);
        assert_eq!(
            v.proxies
                .iter()
                .map(|p| p.proxy.as_str())
                .collect::<Vec<_>>(),
            ["http://a", "https://m"]
        );
        assert!((total(&v) - v.wall_ms).abs() < 1e-9);
    }

    #[test]
    fn the_oldest_requests_are_forgotten_past_the_limit() {
        let mut b = Budget::default();
        for i in 0..(MAX_BUDGET_REQUESTS as i64 + 3) {
            b.apply(&ex(i as u64, "http://a", Kind::Info, 404, (i, i, i + 1)));
        }
        let v = b.view(None).unwrap();
        assert_eq!(v.requests_not_kept, 3);
        // One request after the other: all on the path, the last 64 listed.
        assert_eq!(v.path_steps, MAX_BUDGET_REQUESTS as u64);
        assert_eq!(v.critical_path.len(), PATH_SHOWN);
        assert_eq!(
            v.critical_path.last().map(|s| s.exchange),
            Some(MAX_BUDGET_REQUESTS as u64 + 2)
        );
        assert!(b.unserved.values().map(VecDeque::len).sum::<usize>() <= UNSERVED_PER_ASK);
        assert!((total(&v) - v.wall_ms).abs() < 1e-6);
    }
}
