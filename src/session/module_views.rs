//! From records to module views: version-less lookups joined to the version they led to,
//! prefix probes folded into their query, and each module judged.

use super::checksum_db::ChecksumDb;
use super::modules::Modules;
use crate::gomod::goproxy::GoproxyList;
use crate::gomod::module::{Attempt, ModuleRecord};
use crate::gomod::sumdb::{SumTable, Sums};
use crate::gomod::verdict::{judge, JudgeCtx};
use crate::present::{ModuleView, ServedBy};
use crate::vocab::{Kind, Ts};
use std::borrow::Cow;

/// What the verdicts consult besides the modules' own requests.
pub struct Judging<'a> {
    pub chain: Option<&'a GoproxyList>,
    pub slo_ms: f64,
    pub gosum: &'a SumTable,
    pub checksum_db: &'a ChecksumDb,
    /// The end of the traffic seen.
    pub end: Ts,
    /// Packets the capture lost.
    pub lost: u64,
}

impl Modules {
    /// Every module@version the traffic touched, with its verdict, oldest first.
    pub fn views(&self, j: &Judging<'_>) -> Vec<ModuleView> {
        let merged = self.merged_records();
        let ctx_for = |rec: &ModuleRecord| {
            let Some(v) = &rec.version else {
                return (None, None, None);
            };
            let m = &rec.module;
            (
                j.checksum_db.sums(m, v).cloned(),
                j.gosum.get(m, v).cloned(),
                j.checksum_db
                    .source(m, v)
                    .map(|b| j.checksum_db.describe(b)),
            )
        };
        let mut views: Vec<ModuleView> = merged
            .into_iter()
            .map(|(rec, probes)| {
                let (sumdb, gosum, source) = ctx_for(&rec);
                let ctx = JudgeCtx {
                    goproxy: j.chain,
                    slo_ms: j.slo_ms,
                    sumdb: sumdb.as_ref(),
                    sumdb_source: source.as_deref(),
                    gosum: gosum.as_ref(),
                    end: j.end,
                    lost: j.lost,
                };
                let judgement = judge(&rec, &ctx);
                view(rec, probes, judgement, sumdb, gosum)
            })
            .collect();
        views.sort_by(|a, b| (a.ts, &a.module).cmp(&(b.ts, &b.module)));
        views
    }

    /// Version-less lookups (`@v/list`, `@latest`) join the version they led to; prefix
    /// probes that 404'd next to a path that resolved are folded into it.
    fn merged_records(&self) -> Vec<(Cow<'_, ModuleRecord>, Vec<String>)> {
        // Borrowed unless a version-less lookup has to be merged in (then copied once).
        let mut versioned: Vec<Cow<'_, ModuleRecord>> = Vec::new();
        let mut loose: Vec<&ModuleRecord> = Vec::new();
        for rec in self.records.values() {
            if rec.version.is_some() {
                versioned.push(Cow::Borrowed(rec));
            } else {
                loose.push(rec);
            }
        }
        let mut leftovers: Vec<ModuleRecord> = Vec::new();
        for rec in loose {
            let mut rest = ModuleRecord::new(rec.module.clone(), None, rec.first);
            for a in &rec.attempts {
                // The version of this module whose requests follow the lookup soonest
                // (attempts are kept in time order: a binary search finds the next one).
                let target = versioned
                    .iter_mut()
                    .filter(|v| v.module == rec.module)
                    .min_by_key(|v| {
                        let next = v.attempts.partition_point(|x| x.ts < a.ts);
                        match v.attempts.get(next) {
                            Some(x) => (0, x.ts.0 - a.ts.0),
                            None => (1, a.ts.0 - v.last.0),
                        }
                    });
                match target {
                    Some(t) => t.to_mut().add(a.clone()),
                    None => rest.add(a.clone()),
                }
            }
            if !rest.attempts.is_empty() {
                leftovers.push(rest);
            }
        }
        let all: Vec<Cow<'_, ModuleRecord>> = versioned
            .into_iter()
            .chain(leftovers.into_iter().map(Cow::Owned))
            .collect();
        let found = |r: &ModuleRecord| r.attempts.iter().any(Attempt::ok);
        let related = |a: &str, b: &str| {
            a != b && (a.starts_with(&format!("{b}/")) || b.starts_with(&format!("{a}/")))
        };
        let mut probes_of: Vec<Vec<String>> = vec![Vec::new(); all.len()];
        let mut is_probe = vec![false; all.len()];
        let label = |r: &ModuleRecord| match &r.version {
            Some(v) => format!("{}@{v}", r.module),
            None => r.module.clone(),
        };
        let same_query = |r: &ModuleRecord, o: &ModuleRecord| {
            related(&r.module, &o.module)
                && (r.version.is_none() || r.version == o.version)
                && (r.first.0 - o.first.0).abs() < 10_000_000_000
        };
        for (i, r) in all.iter().enumerate() {
            if found(r) {
                continue;
            }
            // A path that resolved in the same query owns the probes that did not.
            if let Some(o) = all.iter().position(|o| found(o) && same_query(r, o)) {
                is_probe[i] = true;
                probes_of[o].push(label(r));
            }
        }
        // A query where no path resolved is one failure, told under its longest path (the
        // package the user asked for), not one per prefix.
        let failed = |r: &ModuleRecord| !r.attempts.iter().any(Attempt::ok);
        for i in 0..all.len() {
            if is_probe[i] || !failed(&all[i]) {
                continue;
            }
            let owner = (0..all.len())
                .filter(|&o| {
                    !is_probe[o] && failed(&all[o]) && (o == i || same_query(&all[i], &all[o]))
                })
                .max_by_key(|&o| (all[o].module.len(), std::cmp::Reverse(o)));
            if let Some(o) = owner.filter(|&o| o != i) {
                is_probe[i] = true;
                let mut moved = std::mem::take(&mut probes_of[i]);
                probes_of[o].push(label(&all[i]));
                probes_of[o].append(&mut moved);
            }
        }
        all.into_iter()
            .zip(probes_of)
            .zip(is_probe)
            .filter(|(_, p)| !p)
            .map(|(x, _)| x)
            .collect()
    }
}

fn view(
    rec: Cow<'_, ModuleRecord>,
    probes: Vec<String>,
    j: crate::gomod::verdict::Judgement,
    sumdb: Option<Sums>,
    gosum: Option<Sums>,
) -> ModuleView {
    let served = |k| rec.served_by(k).map(str::to_string);
    // Time spent waiting on the network for this module: every request of the latest walk
    // of each artifact (a module fetched eight times does not take eight times as long).
    let duration_ms: f64 = ModuleRecord::ARTIFACTS
        .into_iter()
        .filter_map(|k| rec.walks(k).pop())
        .flatten()
        .map(|a| a.total_ms.or(a.ttfb_ms).unwrap_or(0.0))
        .sum();
    let mut v = ModuleView {
        kind: "module",
        module: rec.module.clone(),
        version: rec.version.clone(),
        outcome: j.outcome,
        served_by: ServedBy {
            info: served(Kind::Info),
            gomod: served(Kind::Mod),
            zip: served(Kind::Zip),
        },
        attempts: Vec::new(),
        zip_bytes: rec.zip_bytes,
        h1: rec.zip_h1.clone(),
        sumdb_h1: sumdb.as_ref().and_then(|s| s.zip.clone()),
        severity: j.problem.as_ref().map(|p| p.severity),
        problem: j.problem.map(|p| p.text),
        mod_h1: rec.mod_h1.clone(),
        sumdb_mod_h1: sumdb.and_then(|s| s.gomod),
        gosum_h1: gosum.as_ref().and_then(|s| s.zip.clone()),
        gosum_mod_h1: gosum.and_then(|s| s.gomod),
        probes,
        ts: rec.first,
        duration_ms: (duration_ms * 1000.0).round() / 1000.0,
    };
    // A merged copy gives its attempts away; a borrowed record's are copied.
    v.attempts = rec.into_owned().attempts;
    v
}
