//! Problems worth telling, most serious first: the module verdicts, and what only the
//! whole session shows (refused proxies, undecodable TLS, traffic that contradicts the
//! configured GOPROXY, slow proxies).

use super::{human_bytes, ModuleView, Session, TlsServer};
use crate::gomod::classify::Kind;
use crate::gomod::goproxy::EntryKind;
use crate::gomod::module::Attempt;
use crate::gomod::verdict::{Problem, Severity};
use crate::vocab::time::Ts;
use std::collections::BTreeSet;

impl Session {
    /// Every problem worth telling, most serious first: module verdicts, then what only
    /// the whole session shows (refused proxies, undecodable TLS, configuration drift).
    pub fn problems(&self, modules: &[ModuleView]) -> Vec<Problem> {
        let mut out: Vec<Problem> = modules
            .iter()
            .filter_map(|m| {
                Some(Problem {
                    severity: m.severity?,
                    text: m.problem.clone()?,
                    subject: Some(match &m.version {
                        Some(v) => format!("{}@{v}", m.module),
                        None => m.module.clone(),
                    }),
                    proxy: None,
                })
            })
            .collect();
        for (server, n) in &self.refused_by_server {
            out.push(Problem {
                severity: Severity::Warning,
                text: format!(
                    "{} refused {n} connection{} (nothing listens there): remove it from GOPROXY \
                     or start the proxy",
                    self.base_for_server(server),
                    if *n == 1 { "" } else { "s" }
                ),
                subject: None,
                proxy: Some(self.base_for_server(server)),
            });
        }
        for (
            name,
            TlsServer {
                connections: n,
                bytes,
                ..
            },
        ) in &self.tls_servers
        {
            out.push(Problem {
                severity: Severity::Info,
                text: format!(
                    "{n} TLS connection{} to {name} ({}) cannot be decoded from a capture: run \
                     gomodwatch --mitm to see which modules they carried",
                    if *n == 1 { "" } else { "s" },
                    human_bytes(*bytes)
                ),
                subject: None,
                proxy: None,
            });
        }
        out.extend(self.config_drift());
        for (proxy, t) in &self.proxies {
            if let Some(p95) = t.ttfb.percentile(95.0) {
                if p95 > self.config.slo_ms && t.requests >= 5 {
                    out.push(Problem {
                        severity: Severity::Info,
                        text: format!(
                            "proxy {proxy} is slow: p95 time to first byte {p95:.0} ms over {} \
                             requests (SLO {:.0} ms)",
                            t.requests, self.config.slo_ms
                        ),
                        subject: None,
                        proxy: Some(proxy.clone()),
                    });
                }
            }
        }
        // Most serious first; a stable order within a severity. The same sentence for
        // several modules is told once, naming them all.
        out.sort_by_key(|p| std::cmp::Reverse(p.severity));
        let mut merged: Vec<Problem> = Vec::new();
        for p in out {
            match merged.iter_mut().find(|m| m.text == p.text) {
                Some(m) => {
                    if let (Some(a), Some(b)) = (&mut m.subject, &p.subject) {
                        a.push_str(", ");
                        a.push_str(b);
                    }
                }
                None => merged.push(p),
            }
        }
        merged
    }

    /// Traffic that contradicts the configured GOPROXY (not an inferred one).
    fn config_drift(&self) -> Vec<Problem> {
        let Some(list) = &self.config.goproxy else {
            return Vec::new();
        };
        let warn = |text: String, proxy: Option<&str>| Problem {
            severity: Severity::Warning,
            text,
            subject: None,
            proxy: proxy.map(str::to_string),
        };
        let mut out = Vec::new();
        let display = list.display();
        for proxy in self.proxies.keys() {
            let is_sumdb_host = self.sumdb_source.values().any(|s| s == proxy)
                && !self.records.values().any(|r| {
                    r.attempts
                        .iter()
                        .any(|a| a.proxy.as_deref() == Some(proxy) && a.kind.is_proxy_artifact())
                });
            if list.position(proxy).is_none() && !is_sumdb_host {
                out.push(warn(
                    format!(
                        "proxy {proxy} was asked but is not in GOPROXY ({display}): another \
                         GOPROXY was in effect"
                    ),
                    Some(proxy),
                ));
            }
        }
        // Each artifact walk must start at the top of the list.
        let mut skipped: BTreeSet<(String, String)> = BTreeSet::new();
        for rec in self.records.values() {
            for kind in [Kind::Info, Kind::Mod, Kind::Zip, Kind::List] {
                // When each proxy of the list was last asked for this artifact.
                let mut last_asked: Vec<Option<Ts>> = vec![None; list.entries.len()];
                for a in rec.attempts_of(kind) {
                    let Some(pos) = a.proxy.as_deref().and_then(|p| list.position(p)) else {
                        continue;
                    };
                    // A query's `.info` goes to the proxy whose `@v/list` answered it, not
                    // to the top of the list (TryProxies wraps list and stat together).
                    let follows_list =
                        kind == Kind::Info && self.listed_just_before(&rec.module, a);
                    if !follows_list {
                        for (earlier, asked) in list.entries[..pos].iter().zip(&last_asked) {
                            let recent = asked.is_some_and(|t| a.ts.0 - t.0 < 60_000_000_000);
                            if earlier.kind == EntryKind::Proxy && !recent {
                                skipped.insert((
                                    earlier.url.clone(),
                                    a.proxy.as_deref().unwrap_or_default().to_string(),
                                ));
                            }
                        }
                    }
                    last_asked[pos] = Some(a.ts);
                }
            }
        }
        for (first, then) in skipped {
            out.push(warn(
                format!(
                    "{then} was asked without asking {first} first, although GOPROXY ({display}) \
                     lists {first} before it: another GOPROXY (or GONOPROXY) was in effect"
                ),
                Some(&then),
            ));
        }
        let serving: Vec<&String> = self
            .sumdb_supported
            .iter()
            .filter(|(_, s)| **s == Some(200))
            .map(|(p, _)| p)
            .collect();
        if let Some(p) = serving.first() {
            let direct: BTreeSet<&String> = self
                .sumdb_source
                .values()
                .filter(|s| !self.sumdb_supported.contains_key(*s))
                .collect();
            for d in direct {
                out.push(warn(
                    format!(
                        "the checksum database was asked directly at {d} although proxy {p} serves \
                         it (sumdb/supported answered 200): GOSUMDB names an explicit URL"
                    ),
                    Some(d),
                ));
            }
        }
        out
    }

    /// How to name the checksum database that answered through `base`: under a proxy
    /// (`<proxy>/sumdb/<name>/lookup/...`) or at its own URL.
    pub(super) fn describe_sumdb(&self, base: &str) -> String {
        let name = self
            .log_sumdb_names
            .get(base)
            .map(|n| format!(" {n}"))
            .unwrap_or_default();
        if self.sumdb_supported.contains_key(base) {
            format!("the checksum database{name} (via proxy {base})")
        } else {
            format!("the checksum database{name} at {base}")
        }
    }

    /// Did the proxy of `a` answer `@v/list` (or `@latest`) for this module just before?
    fn listed_just_before(&self, module: &str, a: &Attempt) -> bool {
        let Some(rec) = self.records.get(&(module.to_string(), None)) else {
            return false;
        };
        rec.attempts.iter().any(|l| {
            l.ok() && l.proxy == a.proxy && l.ts <= a.ts && a.ts.0 - l.ts.0 < 10_000_000_000
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::SessionConfig;
    use super::*;
    use crate::gomod::classify::classify;
    use crate::gomod::goproxy::{ChainSource, GoproxyList};
    use crate::vocab::event::{Event, Exchange};

    fn exchange(id: u64, url: &str, status: u16, body: Option<&str>) -> Event {
        Event::Exchange(Box::new(Exchange {
            id,
            connection: 1,
            ts: Ts(id as i64 * 1_000_000),
            url: Some(url.into()),
            status: Some(status),
            go: classify(url, &[]),
            body: crate::vocab::event::BodyInfo {
                text: body.map(str::to_string),
                ..Default::default()
            },
            ..Default::default()
        }))
    }

    /// The proxy mirrors the checksum database (`supported` 200), yet lookups go to the
    /// database's own host: GOSUMDB names a URL.
    #[test]
    fn checksum_database_asked_directly_though_the_proxy_serves_it() {
        let mut s = Session::new(SessionConfig {
            goproxy: Some(GoproxyList::parse("https://proxy.corp", ChainSource::Flag)),
            ..Default::default()
        });
        let record = "5\nexample.com/a v1.0.0 h1:AAAA\nexample.com/a v1.0.0/go.mod h1:BBBB\n\ngo.sum database tree\n6\nx\n";
        for ev in [
            exchange(
                1,
                "https://proxy.corp/sumdb/sum.golang.org/supported",
                200,
                None,
            ),
            exchange(
                2,
                "https://sum.golang.org/lookup/example.com/a@v1.0.0",
                200,
                Some(record),
            ),
        ] {
            s.apply(&ev);
        }
        let mods = s.modules();
        let problems = s.problems(&mods);
        assert!(
            problems.iter().any(|p| p.text.starts_with(
                "the checksum database was asked directly at https://sum.golang.org although proxy https://proxy.corp serves it"
            )),
            "{problems:#?}"
        );
        // The lookup's hashes are known for the module.
        let m = mods.iter().find(|m| m.module == "example.com/a").unwrap();
        assert_eq!(m.sumdb_h1.as_deref(), Some("h1:AAAA"));
        assert_eq!(m.sumdb_mod_h1.as_deref(), Some("h1:BBBB"));
    }
}
