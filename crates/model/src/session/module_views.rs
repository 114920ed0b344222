//! From records to module views: version-less lookups joined to the version they led to,
//! prefix probes folded into their query, and each module judged. Functions over
//! [`Modules`], which holds the records.

use super::direct_views;
use super::judging::Judging;
use super::modules::Modules;
use crate::gomod::direct_verdict::is_direct;
use crate::gomod::module::{Attempt, ModuleRecord};
use crate::gomod::sumdb::Sums;
use crate::gomod::verdict::{judge, JudgeCtx};
use crate::present::{ModuleView, ServedBy};
use gomodwatch_wire::vocab::Kind;
use std::borrow::Cow;
use std::collections::HashMap;

/// Every module@version the traffic touched, with its verdict, oldest first.
pub(crate) fn views(m: &Modules, j: &Judging<'_>) -> Vec<ModuleView> {
    let mut views: Vec<ModuleView> = Vec::new();
    for (root, _) in m.roots() {
        views.extend(component_views(m, root, j).0);
    }
    // Stable: views with the same time and path keep their merge order.
    views.sort_by(|a, b| (a.ts, &a.module).cmp(&(b.ts, &b.module)));
    views
}

/// The views of one component (see [`Modules::root_of`]), in merge order, and whether
/// they depend on when the traffic ended or how much the capture lost (a request
/// still waiting for its answer).
pub(crate) fn component_views(m: &Modules, root: &str, j: &Judging<'_>) -> (Vec<ModuleView>, bool) {
    let recs: Vec<&ModuleRecord> = m.component(root).collect();
    let waiting = recs
        .iter()
        .any(|r| r.attempts.iter().any(|a| a.status.is_none()));
    let views = merged_records(&recs)
        .into_iter()
        .map(|(rec, probes)| {
            let (judgement, sumdb, gosum) = judged(&rec, j);
            let rec_sumdb = needs_sumdb(&rec, j, gosum.is_some())
                && !rec.attempts_of(Kind::SumdbLookup).any(|a| a.ok());
            let direct = is_direct(&rec).then(|| direct_views::judge(m, &rec, j));
            let mut v = view(rec, probes, judgement, sumdb, gosum);
            if let Some(d) = direct {
                direct_views::apply(&mut v, d);
                unverified_direct(&mut v, &rec_sumdb, j);
            }
            if let Some(run) = j.go_run {
                super::go_run::reconcile(&mut v, run);
            }
            v
        })
        .collect();
    (views, waiting)
}

/// The verdict of a record, with the checksum database's and go.sum's hashes for it.
fn judged(
    rec: &ModuleRecord,
    j: &Judging<'_>,
) -> (crate::gomod::verdict::Judgement, Option<Sums>, Option<Sums>) {
    let (sumdb, gosum, source) = match &rec.version {
        None => (None, None, None),
        Some(v) => {
            let m = &rec.module;
            (
                j.checksum_db.sums(m, v).cloned(),
                j.gosum.get(m, v).cloned(),
                j.checksum_db
                    .source(m, v)
                    .map(|b| j.checksum_db.describe(b)),
            )
        }
    };
    let ctx = JudgeCtx {
        goproxy: j.chain,
        slo_ms: j.slo_ms,
        sumdb: sumdb.as_ref(),
        sumdb_source: source.as_deref(),
        gosum: gosum.as_ref(),
        end: j.end,
        lost: j.lost,
        lost_in_tap: j.lost_in_tap,
        sumdb_down: j
            .sumdb_down
            .as_ref()
            .filter(|_| needs_sumdb(rec, j, gosum.is_some())),
        direct_unresolved: direct_unresolved(rec, j),
        redirects_down: &j.redirects_down,
    };
    (judge(rec, &ctx), sumdb, gosum)
}

/// Two records of one query: related paths (one under the other), the same version (or a
/// version-less lookup), within ten seconds.
fn same_query(r: &ModuleRecord, o: &ModuleRecord) -> bool {
    (r.version.is_none() || r.version == o.version)
        && (r.first.0 - o.first.0).abs() < 10_000_000_000
}

/// The strict `/`-ancestors of a module path (`a/b/c` → `a`, `a/b`).
fn ancestors(path: &str) -> impl Iterator<Item = &str> {
    path.match_indices('/').map(move |(i, _)| &path[..i])
}

/// Version-less lookups (`@v/list`, `@latest`) join the version they led to; prefix
/// probes that 404'd next to a path that resolved are folded into it. `records` are one
/// component's, in key order. Paths are indexed (exact path, and every ancestor), so the
/// work is linear in the records and their path depth, not quadratic.
/// How near a version's requests follow a version-less attempt: the soonest request after
/// it first (attempts are kept in time order, so a binary search finds it), else the
/// version whose last request was nearest before it.
fn nearness(v: &ModuleRecord, a: &Attempt) -> (u8, i64) {
    let next = v.attempts.partition_point(|x| x.ts < a.ts);
    match v.attempts.get(next) {
        Some(x) => (0, x.ts.0 - a.ts.0),
        None => (1, a.ts.0 - v.last.0),
    }
}

fn merged_records<'a>(records: &[&'a ModuleRecord]) -> Vec<(Cow<'a, ModuleRecord>, Vec<String>)> {
    // Borrowed unless a version-less lookup has to be merged in (then copied once).
    let mut versioned: Vec<Cow<'a, ModuleRecord>> = Vec::new();
    let mut by_module: HashMap<&'a str, Vec<usize>> = HashMap::new();
    let mut loose: Vec<&'a ModuleRecord> = Vec::new();
    for &rec in records {
        if rec.version.is_some() {
            by_module
                .entry(rec.module.as_str())
                .or_default()
                .push(versioned.len());
            versioned.push(Cow::Borrowed(rec));
        } else {
            loose.push(rec);
        }
    }
    let mut leftovers: Vec<ModuleRecord> = Vec::new();
    for rec in loose {
        let mut rest = ModuleRecord::new(rec.module.clone(), None, rec.first);
        let same: &[usize] = by_module
            .get(rec.module.as_str())
            .map_or(&[], Vec::as_slice);
        for a in &rec.attempts {
            // The version of this module whose requests follow the lookup soonest
            // (attempts are kept in time order: a binary search finds the next one).
            let target = same
                .iter()
                .copied()
                .min_by_key(|&i| nearness(&versioned[i], a));
            match target {
                Some(t) => versioned[t].to_mut().add(a.clone()),
                None => rest.add(a.clone()),
            }
        }
        if !rest.attempts.is_empty() {
            leftovers.push(rest);
        }
    }
    let all: Vec<Cow<'a, ModuleRecord>> = versioned
        .into_iter()
        .chain(leftovers.into_iter().map(Cow::Owned))
        .collect();
    let found: Vec<bool> = all
        .iter()
        .map(|r| r.attempts.iter().any(Attempt::ok))
        .collect();
    // Path → records with it (found ones, and failed ones), and ancestor path → records
    // under it; indices ascending, as `all` orders them.
    let mut found_at: HashMap<&str, Vec<usize>> = HashMap::new();
    let mut found_under: HashMap<&str, Vec<usize>> = HashMap::new();
    let mut failed_under: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, r) in all.iter().enumerate() {
        let m = r.module.as_str();
        if found[i] {
            found_at.entry(m).or_default().push(i);
        }
        for up in ancestors(m) {
            let index = if found[i] {
                &mut found_under
            } else {
                &mut failed_under
            };
            index.entry(up).or_default().push(i);
        }
    }
    let none: &[usize] = &[];
    let mut probes_of: Vec<Vec<String>> = vec![Vec::new(); all.len()];
    let mut is_probe = vec![false; all.len()];
    let label = |r: &ModuleRecord| match &r.version {
        Some(v) => format!("{}@{v}", r.module),
        None => r.module.clone(),
    };
    for (i, r) in all.iter().enumerate() {
        if found[i] {
            continue;
        }
        // A path that resolved in the same query owns the probes that did not: the first
        // such record, among the paths above this one and those under it.
        let m = r.module.as_str();
        let above = ancestors(m).flat_map(|up| found_at.get(up).map_or(none, Vec::as_slice));
        let below = found_under.get(m).map_or(none, Vec::as_slice);
        let owner = above
            .chain(below)
            .copied()
            .filter(|&o| same_query(r, &all[o]))
            .min();
        if let Some(o) = owner {
            is_probe[i] = true;
            probes_of[o].push(label(r));
        }
    }
    // A query where no path resolved is one failure, told under its longest path (the
    // package the user asked for), not one per prefix: a failed path under this one, in
    // the same query, owns it (the longest; the first of equals).
    for i in 0..all.len() {
        if is_probe[i] || found[i] {
            continue;
        }
        let below = failed_under
            .get(all[i].module.as_str())
            .map_or(none, Vec::as_slice);
        let owner = below
            .iter()
            .copied()
            .filter(|&o| !is_probe[o] && same_query(&all[i], &all[o]))
            .max_by_key(|&o| (all[o].module.len(), std::cmp::Reverse(o)));
        if let Some(o) = owner {
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

/// After the proxies said 404/410, GOPROXY's `direct` sends the go command to the module's
/// code host: the host it looks up first (the path's first element), when every lookup of
/// it failed.
fn direct_unresolved<'a>(rec: &ModuleRecord, j: &'a Judging<'_>) -> Option<&'a str> {
    let chain = j.chain?;
    if !chain
        .entries
        .iter()
        .any(|e| e.kind == crate::gomod::goproxy::EntryKind::Direct)
    {
        return None;
    }
    let host = rec.module.split('/').next()?;
    j.unresolved
        .iter()
        .find(|n| n.as_str() == host)
        .map(String::as_str)
}

/// A module fetched from its code host still has to be verified: with the checksum
/// database unreachable, the go command fails it.
fn unverified_direct(v: &mut ModuleView, needs: &bool, j: &Judging<'_>) {
    let Some(down) = j.sumdb_down.as_ref().filter(|_| *needs) else {
        return;
    };
    if v.outcome != crate::gomod::verdict::Outcome::Ok {
        return;
    }
    v.outcome = crate::gomod::verdict::Outcome::Failed;
    v.severity = Some(crate::gomod::verdict::Severity::Error);
    v.cause = Some(down.cause);
    v.step = Some("sumdb");
    v.host = Some(down.url.clone());
    v.problem = Some(crate::gomod::verdict::sumdb_sentence(down, &v.subject()));
}

/// Does the go command verify this module with the checksum database? Not when GOSUMDB is
/// off, the module is in GONOSUMDB (or GOPRIVATE), or go.sum already has it.
fn needs_sumdb(rec: &ModuleRecord, j: &Judging<'_>, in_gosum: bool) -> bool {
    !in_gosum
        && j.env
            .is_none_or(|e| !e.sumdb_off() && e.nosumdb(&rec.module).is_none())
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
        cause: j.problem.as_ref().and_then(|p| p.cause),
        step: j.problem.as_ref().and_then(|p| p.step),
        host: j.problem.as_ref().and_then(|p| p.host.clone()),
        inferred: j.problem.as_ref().is_some_and(|p| p.inferred),
        go_said: None,
        problem: j.problem.map(|p| p.text),
        mod_h1: rec.mod_h1.clone(),
        sumdb_mod_h1: sumdb.and_then(|s| s.gomod),
        gosum_h1: gosum.as_ref().and_then(|s| s.zip.clone()),
        gosum_mod_h1: gosum.and_then(|s| s.gomod),
        probes,
        direct: None,
        hash_note: not_hashed(&rec),
        ts: rec.first,
        duration_ms: (duration_ms * 1000.0).round() / 1000.0,
        attempts_not_kept: rec.dropped_attempts,
    };
    // A merged copy gives its attempts away; a borrowed record's are copied.
    v.attempts = rec.into_owned().attempts;
    v
}

/// Why a zip a proxy served has no `h1:`, when that is gomodwatch's limit and not the
/// zip's fault (an unusable zip is the module's problem, `gomod::verdict`): hashing fell
/// behind, or the body was not seen in full. A hash is never given up without a word.
fn not_hashed(rec: &ModuleRecord) -> Option<String> {
    let error = rec.zip_hash_error.as_deref()?;
    if rec.zip_h1.is_some() || crate::gomod::h1::invalid_zip_reason(error).is_some() {
        return None;
    }
    Some(format!("the zip was not hashed: {error}"))
}

#[cfg(test)]
mod tests;
