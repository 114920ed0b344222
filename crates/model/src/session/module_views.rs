//! From records to module views: version-less lookups joined to the version they led to,
//! prefix probes folded into their query, and each module judged.

use super::checksum_db::ChecksumDb;
use super::modules::Modules;
use super::Session;
use crate::gomod::direct_verdict::is_direct;
use crate::gomod::goproxy::GoproxyList;
use crate::gomod::module::{Attempt, ModuleRecord};
use crate::gomod::sumdb::{SumTable, Sums};
use crate::gomod::verdict::{judge, JudgeCtx, Outcome};
use crate::present::{ModuleView, ServedBy};
use gomodwatch_wire::vocab::{Kind, Ts};
use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

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
    /// Those losses are the MITM tap's (see `JudgeCtx::lost_in_tap`).
    pub lost_in_tap: bool,
    /// The go command's environment, when known (`--go-env`, or `go env` live).
    pub env: Option<&'a crate::gomod::goenv::GoEnv>,
}

impl Modules {
    /// Every module@version the traffic touched, with its verdict, oldest first.
    pub fn views(&self, j: &Judging<'_>) -> Vec<ModuleView> {
        let mut views: Vec<ModuleView> = Vec::new();
        for (root, _) in self.roots() {
            views.extend(self.component_views(root, j).0);
        }
        // Stable: views with the same time and path keep their merge order.
        views.sort_by(|a, b| (a.ts, &a.module).cmp(&(b.ts, &b.module)));
        views
    }

    /// The views of one component (see [`Modules::root_of`]), in merge order, and whether
    /// they depend on when the traffic ended or how much the capture lost (a request
    /// still waiting for its answer).
    pub fn component_views(&self, root: &str, j: &Judging<'_>) -> (Vec<ModuleView>, bool) {
        let recs: Vec<&ModuleRecord> = self.component(root).collect();
        let waiting = recs
            .iter()
            .any(|r| r.attempts.iter().any(|a| a.status.is_none()));
        let views = merged_records(&recs)
            .into_iter()
            .map(|(rec, probes)| {
                let (judgement, sumdb, gosum) = judged(&rec, j);
                let direct = is_direct(&rec).then(|| self.judge_direct(&rec, j));
                let mut v = view(rec, probes, judgement, sumdb, gosum);
                if let Some(d) = direct {
                    super::direct::apply(&mut v, d);
                }
                v
            })
            .collect();
        (views, waiting)
    }
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
        direct: None,
        hash_note: None,
        ts: rec.first,
        duration_ms: (duration_ms * 1000.0).round() / 1000.0,
        attempts_not_kept: rec.dropped_attempts,
    };
    // A merged copy gives its attempts away; a borrowed record's are copied.
    v.attempts = rec.into_owned().attempts;
    v
}

/// Module views kept between refreshes, for a view that shows them while traffic flows
/// (the TUI, the metrics): only the components whose records changed since the last
/// refresh are merged and judged again, so a refresh costs what changed, not what was
/// seen. Everything is judged again when what verdicts consult changes (the chain, the
/// packets lost); a component still waiting for an answer when the traffic's end moves.
#[derive(Default)]
pub struct ViewCache {
    /// Keep the views themselves (the TUI), or only their outcomes (metrics).
    keep_views: bool,
    seen_gen: u64,
    fold_epoch: u64,
    stamp: Option<(Option<GoproxyList>, u64, u64)>,
    end: Ts,
    comps: BTreeMap<String, CompViews>,
    sorted: Vec<Arc<ModuleView>>,
    counts: BTreeMap<Outcome, u64>,
    /// Components merged and judged by the last refresh (for measurements).
    pub last_recomputed: usize,
}

struct CompViews {
    views: Vec<Arc<ModuleView>>,
    outcomes: Vec<Outcome>,
    waiting: bool,
}

impl ViewCache {
    pub fn new(keep_views: bool) -> Self {
        ViewCache {
            keep_views,
            ..Default::default()
        }
    }

    /// Brings the views up to date with the session; returns whether anything changed.
    pub fn update(&mut self, s: &Session) -> bool {
        let chain = s.chain();
        let stamp = (chain.clone(), s.source.lost(), s.config.slo_ms.to_bits());
        let mut changed = false;
        if self.stamp.as_ref() != Some(&stamp) {
            changed = !self.comps.is_empty() || self.stamp.is_none();
            self.comps.clear();
            self.seen_gen = 0;
            self.stamp = Some(stamp);
        }
        let m = &s.modules;
        if m.fold_epoch != self.fold_epoch {
            self.fold_epoch = m.fold_epoch;
            let before = self.comps.len();
            self.comps.retain(|root, _| m.has_path(root));
            changed |= self.comps.len() != before;
        }
        let mut dirty: BTreeSet<&str> = BTreeSet::new();
        if m.gen != self.seen_gen {
            for rec in m.records.values() {
                if rec.gen > self.seen_gen {
                    dirty.insert(m.root_of(&rec.module));
                }
            }
        }
        if s.last != self.end {
            self.end = s.last;
            for (root, c) in &self.comps {
                if c.waiting {
                    // Borrowed from the session's records, like the others.
                    if let Some(((path, _), _)) = m.records.range((root.clone(), None)..).next() {
                        dirty.insert(path.as_str());
                    }
                }
            }
        }
        self.seen_gen = m.gen;
        let j = s.judging(chain.as_ref());
        self.last_recomputed = dirty.len();
        for root in dirty {
            // A new record above older roots joins their components into this one.
            let under = format!("{root}/");
            let absorbed: Vec<String> = self
                .comps
                .range(under.clone()..)
                .take_while(|(k, _)| k.starts_with(&under))
                .map(|(k, _)| k.clone())
                .collect();
            for k in absorbed {
                self.comps.remove(&k);
            }
            let (views, waiting) = m.component_views(root, &j);
            let outcomes = views.iter().map(|v| v.outcome).collect();
            let views = if self.keep_views {
                views.into_iter().map(Arc::new).collect()
            } else {
                Vec::new()
            };
            self.comps.insert(
                root.to_string(),
                CompViews {
                    views,
                    outcomes,
                    waiting,
                },
            );
            changed = true;
        }
        if changed {
            self.counts.clear();
            for c in self.comps.values() {
                for o in &c.outcomes {
                    *self.counts.entry(*o).or_default() += 1;
                }
            }
            if self.keep_views {
                self.sorted.clear();
                self.sorted
                    .extend(self.comps.values().flat_map(|c| c.views.iter().cloned()));
                // Stable: views with the same time and path keep their merge order.
                self.sorted
                    .sort_by(|a, b| (a.ts, &a.module).cmp(&(b.ts, &b.module)));
            }
        }
        changed
    }

    /// Every module view, oldest first (empty unless views are kept).
    pub fn views(&self) -> &[Arc<ModuleView>] {
        &self.sorted
    }

    /// Modules held in full, by outcome.
    pub fn count(&self, outcome: Outcome) -> u64 {
        self.counts.get(&outcome).copied().unwrap_or(0)
    }

    pub fn len(&self) -> usize {
        self.comps.values().map(|c| c.outcomes.len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.comps.values().all(|c| c.outcomes.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gomodwatch_wire::vocab::Kind;

    /// The merge as it was (every pair compared), as the oracle.
    fn quadratic(records: &[&ModuleRecord]) -> Vec<(ModuleRecord, Vec<String>)> {
        let mut versioned: Vec<Cow<'_, ModuleRecord>> = Vec::new();
        let mut loose: Vec<&ModuleRecord> = Vec::new();
        for &rec in records {
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
                let target = versioned
                    .iter_mut()
                    .filter(|v| v.module == rec.module)
                    .min_by_key(|v| nearness(v, a));
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
            if let Some(o) = all.iter().position(|o| found(o) && same_query(r, o)) {
                is_probe[i] = true;
                probes_of[o].push(label(r));
            }
        }
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
            .map(|((r, p), _)| (r.into_owned(), p))
            .collect()
    }

    type Shape = (String, Option<String>, Vec<(i64, Option<u16>)>, Vec<String>);

    fn shape(v: Vec<(ModuleRecord, Vec<String>)>) -> Vec<Shape> {
        let mut out: Vec<Shape> = v
            .into_iter()
            .map(|(r, p)| {
                let a = r.attempts.iter().map(|a| (a.ts.0, a.status)).collect();
                (r.module, r.version, a, p)
            })
            .collect();
        out.sort();
        out
    }

    /// Random records over a few related paths: the component-wise, indexed merge gives
    /// exactly what comparing every pair gave.
    #[test]
    fn indexed_merge_equals_the_quadratic_one() {
        let paths = [
            "a", "a/b", "a/b/c", "a/c", "a-b", "x", "x/y", "x/y/z", "q/r",
        ];
        let versions = [None, Some("v1"), Some("v2")];
        let mut rng = 0x2545_f491_4f6c_dd1du64;
        let mut next = |n: u64| {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng % n
        };
        for round in 0..400 {
            let mut m = Modules::default();
            let n = 1 + next(14);
            for _ in 0..n {
                let path = paths[next(paths.len() as u64) as usize].to_string();
                let version = versions[next(3) as usize].map(str::to_string);
                let ts = Ts(next(25) as i64 * 1_000_000_000);
                let kind = if version.is_none() {
                    Kind::List
                } else {
                    Kind::Info
                };
                let status = if next(3) == 0 { 200 } else { 404 };
                m.gen += 1;
                let key = (path.clone(), version.clone());
                if !m.records.contains_key(&key) {
                    *m.paths_mut().entry(path.clone()).or_default() += 1;
                }
                let rec = m
                    .records
                    .entry(key)
                    .or_insert_with(|| ModuleRecord::new(path.clone(), version, ts));
                rec.add(Attempt {
                    exchange: Some(m.gen),
                    proxy: Some("http://p".into()),
                    kind,
                    status: Some(status),
                    error: None,
                    ttfb_ms: Some(1.0),
                    count: 1,
                    total_ms: Some(1.0),
                    url: None,
                    redirected_to: None,
                    step: None,
                    ts,
                    bytes: 0,
                    connection: None,
                    setup: Default::default(),
                    h2_reused: false,
                });
            }
            let all: Vec<&ModuleRecord> = m.records.values().collect();
            let want = shape(quadratic(&all));
            let mut got = Vec::new();
            for (root, _) in m.roots() {
                let recs: Vec<&ModuleRecord> = m.component(root).collect();
                got.extend(
                    merged_records(&recs)
                        .into_iter()
                        .map(|(r, p)| (r.into_owned(), p)),
                );
            }
            assert_eq!(shape(got), want, "round {round}");
        }
    }
}
