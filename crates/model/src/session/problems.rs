//! Problems worth telling, most serious first: the module verdicts, and what only the
//! whole session shows (refused proxies, undecodable TLS, traffic that contradicts the
//! configured GOPROXY, slow proxies).

use super::model::Session;
use super::network_problems::Role;
use super::tls_servers::TlsServer;
use crate::gomod::cause::Cause;
use crate::gomod::drift;
use crate::gomod::verdict::{Outcome, Problem, Severity};
use crate::present::format::{self, Width};
use crate::present::ModuleView;
use std::borrow::Borrow;
use std::collections::HashMap;

impl Session {
    /// Every problem worth telling, most serious first: module verdicts, then what only
    /// the whole session shows (refused proxies, undecodable TLS, configuration drift).
    pub(crate) fn problems<M: Borrow<ModuleView>>(&self, modules: &[M]) -> Vec<Problem> {
        let mut out: Vec<Problem> = modules
            .iter()
            .map(Borrow::borrow)
            .filter_map(|m: &ModuleView| {
                Some(Problem {
                    severity: m.severity?,
                    text: m.problem.clone()?,
                    subject: Some(m.subject()),
                    proxy: None,
                    cause: m.cause,
                    step: m.step,
                    host: m.host.clone(),
                    inferred: m.inferred,
                })
            })
            .collect();
        // Direct fetches' further warnings (plain http, not verified, a pattern too broad).
        for m in modules.iter().map(Borrow::borrow) {
            super::direct_views::warnings(m, &mut out);
        }
        // A zip served by a proxy but not hashed: its checksum was not checked on the wire
        // (told once per reason, naming the modules).
        for m in modules.iter().map(Borrow::borrow) {
            if let (None, Some(note)) = (&m.direct, &m.hash_note) {
                out.push(Problem {
                    severity: Severity::Warning,
                    text: format!("{note}, so its checksum was not checked on the wire"),
                    subject: Some(m.subject()),
                    ..Default::default()
                });
            }
        }
        for (server, n) in &self.connections.refused_by_server {
            if self.modules.direct.refused_here(server) {
                continue;
            }
            let s = if *n == 1 { "" } else { "s" };
            // Only an endpoint that is a GOPROXY entry may be told to leave GOPROXY.
            let (severity, text, proxy) = match self.role_of(server, None) {
                Role::GoproxyEntry(url) => (
                    Severity::Warning,
                    format!(
                        "{url} refused {n} connection{s} (nothing listens there): remove it from \
                         GOPROXY or start the proxy"
                    ),
                    Some(url),
                ),
                role => (
                    Severity::Error,
                    format!(
                        "nothing listens at {server}: {n} connection{s} refused; {}",
                        self.fix_for(&role)
                    ),
                    None,
                ),
            };
            out.push(
                Problem {
                    severity,
                    text,
                    subject: None,
                    proxy,
                    ..Default::default()
                }
                .caused(Cause::Refused, "connect", server.to_string()),
            );
        }
        for (
            name,
            TlsServer {
                connections,
                failed,
                bytes,
                ..
            },
        ) in &self.tls.by_name
        {
            // Handshakes that failed carried nothing: they have problems of their own.
            let n = &(connections - failed);
            if *n == 0 {
                continue;
            }
            out.push(Problem {
                severity: Severity::Info,
                text: format!(
                    "{n} TLS connection{} to {name} ({}) cannot be decoded from a capture: run \
                     gomodwatch --mitm to see which modules they carried",
                    if *n == 1 { "" } else { "s" },
                    format::bytes(*bytes, Width::Wide)
                ),
                subject: None,
                proxy: None,
                ..Default::default()
            });
        }
        out.extend(self.network_problems());
        self.config_problems(&mut out);
        // The go command got what it asked for (it exited 0, or every module arrived): what
        // failed on the way cost time, not the run.
        let ms: Vec<&ModuleView> = modules.iter().map(Borrow::borrow).collect();
        let recovered = match self.config.go_run.as_ref().and_then(|r| r.exit()) {
            Some(code) => code == 0,
            None => !ms.is_empty() && ms.iter().all(|m| m.outcome == Outcome::Ok),
        };
        for p in out.iter_mut().filter(|p| p.subject.is_none()) {
            if recovered && p.severity >= Severity::Error {
                p.severity = Severity::Warning;
                p.text.push_str(
                    " (every module arrived nonetheless: the go command recovered, at a cost)",
                );
            }
        }
        out.extend(self.config_drift());
        self.timing_problems(&mut out);
        for (proxy, t) in &self.proxies.by_base {
            if let Some(p95) = t.ttfb.percentile(95.0) {
                let over = p95 > self.config.slo_ms;
                // Measured round trips and server times tell far from slow.
                if let Some(p) = self.far_or_slow(proxy, t).filter(|_| over) {
                    out.push(p);
                    continue;
                }
                // A GOPROXY entry that served nothing is told with what it cost and the fix
                // (timing_problems); "slow" would only repeat it, less usefully.
                if over && t.requests >= 5 && self.served_nothing(proxy).is_none() {
                    out.push(Problem {
                        severity: Severity::Info,
                        text: format!(
                            "proxy {proxy} is slow: p95 time to first byte {p95:.0} ms over {} \
                             requests (SLO {:.0} ms)",
                            t.requests, self.config.slo_ms
                        ),
                        subject: None,
                        proxy: Some(proxy.clone()),
                        ..Default::default()
                    });
                }
            }
        }
        fold_refused_fallbacks(&mut out);
        // Most serious first; a stable order within a severity. The same sentence for
        // several modules is told once, naming them all.
        out.sort_by_key(|p| std::cmp::Reverse(p.severity));
        let mut merged: Vec<Problem> = Vec::new();
        // Indexed by sentence: thousands of failed modules merge in linear time.
        let mut at: HashMap<String, usize> = HashMap::new();
        for p in out {
            match at.get(&p.text).map(|&i| &mut merged[i]) {
                Some(m) => {
                    if let (Some(a), Some(b)) = (&mut m.subject, &p.subject) {
                        a.push_str(", ");
                        a.push_str(b);
                    }
                }
                None => {
                    at.insert(p.text.clone(), merged.len());
                    merged.push(p);
                }
            }
        }
        merged
    }

    /// Traffic that contradicts the configured GOPROXY (not an inferred one).
    fn config_drift(&self) -> Vec<Problem> {
        let Some(list) = &self.config.goproxy else {
            return Vec::new();
        };
        drift::check(
            list,
            &drift::Observed {
                proxies: self.proxies.by_base.keys().map(String::as_str).collect(),
                records: &self.modules.records,
                sumdb_sources: self.checksum_db.sources().collect(),
                sumdb_supported: &self.checksum_db.supported,
            },
        )
    }
}

/// One warning per cause: a GOPROXY entry that refused connections is told once, with the
/// module versions whose requests fell back from it through '|' (each module's record keeps
/// its own sentence), instead of one warning per artifact and another for the address.
fn fold_refused_fallbacks(out: &mut Vec<Problem>) {
    let entries: Vec<String> = out
        .iter()
        .filter(|p| p.subject.is_none() && p.cause == Some(Cause::Refused))
        .filter_map(|p| p.proxy.clone())
        .collect();
    for url in entries {
        let mut subjects: Vec<String> = Vec::new();
        out.retain(|p| {
            let fell_back = p.severity == Severity::Warning
                && p.cause == Some(Cause::Refused)
                && p.host.as_deref() == Some(url.as_str());
            match (&p.subject, fell_back) {
                (Some(s), true) => {
                    subjects.push(s.clone());
                    false
                }
                _ => true,
            }
        });
        if subjects.is_empty() {
            continue;
        }
        subjects.sort();
        subjects.dedup();
        let n = subjects.len();
        let shown = if n > 3 {
            format!("{}, and {} more", subjects[..3].join(", "), n - 3)
        } else {
            subjects.join(", ")
        };
        let what = format!(
            "; GOPROXY's '|' fell back from it for {n} module version{} ({shown}), each of \
             their requests paying that failed round trip",
            if n == 1 { "" } else { "s" }
        );
        if let Some(p) = out
            .iter_mut()
            .find(|p| p.subject.is_none() && p.proxy.as_deref() == Some(url.as_str()))
        {
            match p.text.find(": remove it from GOPROXY") {
                Some(at) => p.text.insert_str(at, &what),
                None => p.text.push_str(&what),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::config::SessionConfig;
    use super::*;
    use crate::gomod::classify::classify;
    use crate::gomod::goproxy::{ChainSource, GoproxyList};
    use gomodwatch_wire::vocab::{BodyInfo, Event, Exchange, Ts};

    fn exchange(id: u64, url: &str, status: u16, body: Option<&str>) -> Event {
        Event::Exchange(Box::new(Exchange {
            id,
            connection: 1,
            ts: Ts(id as i64 * 1_000_000),
            url: Some(url.into()),
            status: Some(status),
            go: classify(url, &[]),
            body: BodyInfo {
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
