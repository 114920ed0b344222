//! The report's MODULES section, written to be read at the size of a real service (hundreds
//! of module versions): every module with something to say comes first, in full (what went
//! wrong, each artifact's lookup chain, its hashes and what they were checked against); then
//! one line per healthy module, sorted by path; a note that would repeat on many modules is
//! said once, with its count.

use crate::present::attempt;
use crate::present::format::{self, sanitize, Width};
use crate::present::{artifact_name, Attempt, ModuleView, Outcome, ARTIFACTS};
use std::fmt::Write as _;

/// What a hash seen on the wire had to be compared with, when there was nothing.
const NOTHING_TO_COMPARE: &str = "no checksum database answer or go.sum line to compare with";

pub(super) fn modules(o: &mut String, mods: &[ModuleView]) {
    let _ = writeln!(o, "\nMODULES ({})", mods.len());
    let (mut told, mut healthy): (Vec<&ModuleView>, Vec<&ModuleView>) =
        mods.iter().partition(|m| has_something_to_say(m));
    // Failures first, then by path.
    told.sort_by(|a, b| {
        (std::cmp::Reverse(a.outcome), &a.module, &a.version).cmp(&(
            std::cmp::Reverse(b.outcome),
            &b.module,
            &b.version,
        ))
    });
    healthy.sort_by(|a, b| (&a.module, &a.version).cmp(&(&b.module, &b.version)));
    let mut unchecked = 0;
    for m in &told {
        unchecked += details(o, m);
    }
    if !told.is_empty() && !healthy.is_empty() {
        let _ = writeln!(o, "  ({} ok, one line each:)", healthy.len());
    }
    // Columns as wide as the longest path and version, within reason: one long path must
    // not push every other line off the screen.
    let path_w = healthy
        .iter()
        .map(|m| m.module.len())
        .max()
        .unwrap_or(0)
        .min(56);
    let version_w = healthy
        .iter()
        .map(|m| version(m).len())
        .max()
        .unwrap_or(0)
        .min(40);
    for m in &healthy {
        let (hashes, n) = hash_words(m);
        unchecked += n;
        let line = format!(
            "  {:<path_w$} {:<version_w$}  {}  {:>9}  {:>8}  {hashes}",
            sanitize(&m.module),
            version(m),
            outcome_mark(m.outcome),
            m.zip_bytes.map(human_bytes).unwrap_or_default(),
            ms(Some(m.duration_ms)),
        );
        let _ = writeln!(o, "{}", line.trim_end());
    }
    if unchecked > 0 {
        let _ = writeln!(
            o,
            "  {unchecked} hash{} seen on the wire had {NOTHING_TO_COMPARE}",
            if unchecked == 1 { "" } else { "es" }
        );
    }
}

/// A module that is not simply fine: it failed or has a problem, a note, a direct fetch,
/// a hash that differs, or an artifact that took more than one answer to get.
fn has_something_to_say(m: &ModuleView) -> bool {
    let differs = |seen: &Option<String>, want: [&Option<String>; 2]| {
        seen.as_ref()
            .is_some_and(|s| want.iter().any(|w| w.as_ref().is_some_and(|w| w != s)))
    };
    m.outcome != Outcome::Ok
        || m.problem.is_some()
        || m.hash_note.is_some()
        || m.direct.is_some()
        || m.go_said.is_some()
        || differs(&m.h1, [&m.sumdb_h1, &m.gosum_h1])
        || differs(&m.mod_h1, [&m.sumdb_mod_h1, &m.gosum_mod_h1])
        || m.attempts
            .iter()
            .any(|a| a.error.is_some() || a.status.is_some_and(|s| s != 200 && !is_fallback(s)))
}

/// A 404 or 410: "not here", which makes the go command try the next GOPROXY entry — the
/// ordinary working of a list, counted on the module's line rather than told in full.
fn is_fallback(status: u16) -> bool {
    matches!(status, 404 | 410)
}

fn version(m: &ModuleView) -> String {
    match &m.version {
        Some(v) => sanitize(v).into_owned(),
        None => super::report_direct::version(m)
            .unwrap_or("(no version)")
            .to_string(),
    }
}

/// A healthy module's hashes in a few words, and how many had nothing to compare with.
fn hash_words(m: &ModuleView) -> (String, usize) {
    let mut unchecked = 0;
    let mut word =
        |name: &str, seen: &Option<String>, sumdb: &Option<String>, gosum: &Option<String>| {
            let seen = seen.as_ref()?;
            let by: Vec<&str> = [("sumdb", sumdb), ("go.sum", gosum)]
                .into_iter()
                .filter(|(_, w)| w.as_ref() == Some(seen))
                .map(|(n, _)| n)
                .collect();
            Some(if by.is_empty() {
                unchecked += 1;
                format!("{name} h1 seen")
            } else {
                format!("{name} h1 = {}", by.join(", "))
            })
        };
    let words: Vec<String> = [
        word("zip", &m.h1, &m.sumdb_h1, &m.gosum_h1),
        word("go.mod", &m.mod_h1, &m.sumdb_mod_h1, &m.gosum_mod_h1),
    ]
    .into_iter()
    .flatten()
    .chain({
        let n = m
            .attempts
            .iter()
            .filter(|a| a.status.is_some_and(is_fallback))
            .count();
        (n > 0).then(|| format!("{n} × 404/410 before the proxy that served"))
    })
    .collect();
    (words.join("; "), unchecked)
}

/// A module in full; returns how many of its hashes had nothing to compare with.
fn details(o: &mut String, m: &ModuleView) -> usize {
    let size = m.zip_bytes.map(human_bytes).unwrap_or_default();
    let _ = writeln!(
        o,
        "  {} {}  {}  {}  {}",
        sanitize(&m.module),
        version(m),
        outcome_mark(m.outcome),
        size,
        // A module left waiting has no answer time: what it waited is a lower bound,
        // and an unmeasured wait is no `0.0 ms` that reads as a fast answer.
        match m.outcome {
            Outcome::Incomplete if m.duration_ms > 0.0 => format!("≥{}", ms(Some(m.duration_ms))),
            Outcome::Incomplete => "(no answer)".into(),
            _ => ms(Some(m.duration_ms)),
        }
    );
    if let Some(p) = &m.problem {
        let _ = writeln!(o, "    ! {p}");
    }
    // A direct fetch's note is told with its other lines (report_direct).
    if let (None, Some(n)) = (&m.direct, &m.hash_note) {
        let _ = writeln!(o, "    ! {n}");
    }
    super::report_direct::lines(o, m);
    for kind in ARTIFACTS {
        let chain: Vec<String> = m
            .attempts
            .iter()
            .filter(|a| a.kind == kind)
            .map(attempt_line)
            .collect();
        if !chain.is_empty() {
            let _ = writeln!(o, "    {:<15} {}", artifact_name(kind), chain.join(" -> "));
        }
    }
    let mut unchecked = 0;
    for (name, seen, sumdb, gosum) in [
        ("zip", &m.h1, &m.sumdb_h1, &m.gosum_h1),
        ("go.mod", &m.mod_h1, &m.sumdb_mod_h1, &m.gosum_mod_h1),
    ] {
        if let Some(h) = seen {
            let verdict = hash_verdict(h, sumdb.as_deref(), gosum.as_deref());
            unchecked += usize::from(verdict.is_empty());
            let _ = writeln!(o, "    {}", format!("{name} {h}  {verdict}").trim_end());
        }
    }
    if !m.probes.is_empty() {
        let _ = writeln!(o, "    same query also asked for: {}", m.probes.join(", "));
    }
    unchecked
}

/// What a hash was checked against; empty when there was nothing to check it against.
fn hash_verdict(seen: &str, sumdb: Option<&str>, gosum: Option<&str>) -> String {
    let mut parts = Vec::new();
    for (name, want) in [("checksum database", sumdb), ("go.sum", gosum)] {
        match want {
            Some(w) if w == seen => parts.push(format!("matches {name}")),
            Some(w) => parts.push(format!("DIFFERS from {name} ({w})")),
            None => {}
        }
    }
    parts.join(", ")
}

fn outcome_mark(o: Outcome) -> &'static str {
    match o {
        Outcome::Ok => "ok",
        Outcome::NotFound => "NOT FOUND",
        Outcome::Incomplete => "INCOMPLETE",
        Outcome::Failed => "FAILED",
        Outcome::ChecksumMismatch => "CHECKSUM MISMATCH",
    }
}

/// One attempt as `proxy 404 (0.3 ms)`.
fn attempt_line(a: &Attempt) -> String {
    format!(
        "{} {}{} ({})",
        attempt::proxy(a, Width::Wide),
        attempt::answer(a, Width::Wide),
        attempt::via(a),
        ms(a.wait_ms())
    )
}

fn ms(v: Option<f64>) -> String {
    format::duration(v, Width::Wide)
}

fn human_bytes(n: u64) -> String {
    format::bytes(n, Width::Wide)
}
