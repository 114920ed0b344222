//! Traffic that contradicts the configured GOPROXY: a proxy asked that is not in it, a
//! walk that skipped an entry, the checksum database asked directly although a proxy
//! mirrors it (docs/goproxy-protocol.md §1.4, §3.2). Only a chain the user configured
//! can be contradicted; an inferred one is the traffic itself.

use super::goproxy::{EntryKind, GoproxyList};
use super::module::{Attempt, ModuleRecord};
use super::verdict::{Problem, Severity};
use gomodwatch_wire::vocab::{Kind, Ts};
use std::collections::{BTreeMap, BTreeSet};

/// What the check looks at.
pub(crate) struct Observed<'a> {
    /// Proxy base URLs the traffic asked.
    pub(crate) proxies: Vec<&'a str>,
    /// Module records by (module, version); version-less lookups have `None`.
    pub(crate) records: &'a BTreeMap<(String, Option<String>), ModuleRecord>,
    /// Base URLs that answered checksum database lookups.
    pub(crate) sumdb_sources: Vec<&'a str>,
    /// `sumdb/<name>/supported` answers by proxy.
    pub(crate) sumdb_supported: &'a BTreeMap<String, Option<u16>>,
}

pub(crate) fn check(list: &GoproxyList, seen: &Observed<'_>) -> Vec<Problem> {
    let warn = |text: String, proxy: Option<&str>| Problem {
        severity: Severity::Warning,
        text,
        subject: None,
        proxy: proxy.map(str::to_string),
        ..Default::default()
    };
    let mut out = Vec::new();
    let display = list.display();
    for proxy in &seen.proxies {
        let is_sumdb_host = seen.sumdb_sources.contains(proxy)
            && !seen.records.values().any(|r| {
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
    for rec in seen.records.values() {
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
                    kind == Kind::Info && listed_just_before(seen.records, &rec.module, a);
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
    let serving: Vec<&String> = seen
        .sumdb_supported
        .iter()
        .filter(|(_, s)| **s == Some(200))
        .map(|(p, _)| p)
        .collect();
    if let Some(p) = serving.first() {
        let direct: BTreeSet<&str> = seen
            .sumdb_sources
            .iter()
            .copied()
            .filter(|s| !seen.sumdb_supported.contains_key(*s))
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

/// Did the proxy of `a` answer `@v/list` (or `@latest`) for this module just before?
fn listed_just_before(
    records: &BTreeMap<(String, Option<String>), ModuleRecord>,
    module: &str,
    a: &Attempt,
) -> bool {
    let Some(rec) = records.get(&(module.to_string(), None)) else {
        return false;
    };
    rec.attempts
        .iter()
        .any(|l| l.ok() && l.proxy == a.proxy && l.ts <= a.ts && a.ts.0 - l.ts.0 < 10_000_000_000)
}
