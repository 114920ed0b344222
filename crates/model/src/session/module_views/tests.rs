use super::*;
use gomodwatch_wire::vocab::{Kind, Ts};

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
                html: false,
                authorization: None,
                location: None,
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
