//! The report's lines for a module fetched direct: the repository, why it went there,
//! the discovery, each VCS step with its time and bytes, and why there is no `h1:`.

use crate::present::format::{self, sanitize, Width};
use crate::present::{Attempt, Kind, ModuleView};
use std::fmt::Write as _;

/// `info/refs 200 (3.4 ms, 147 B)`.
fn step(a: &Attempt) -> String {
    let answer = match (a.status, a.error.as_deref()) {
        (Some(s), None) => s.to_string(),
        (Some(s), Some(e)) => format!("{s} {e}"),
        (None, Some(e)) => e.to_string(),
        (None, None) => "no answer".into(),
    };
    let times = if a.count > 1 {
        format!(" x{}", a.count)
    } else {
        String::new()
    };
    format!(
        "{} {answer}{times} ({}, {})",
        a.step.unwrap_or("request"),
        format::duration(a.total_ms.or(a.ttfb_ms), Width::Wide),
        format::bytes(a.bytes, Width::Wide)
    )
}

/// The version as the report shows it: a direct fetch whose tag the traffic did not show.
pub(crate) fn version(m: &ModuleView) -> Option<&'static str> {
    (m.version.is_none() && m.direct.is_some()).then_some("(from git: version not visible)")
}

pub(crate) fn lines(o: &mut String, m: &ModuleView) {
    let Some(d) = &m.direct else { return };
    let repo = match (&d.vcs, &d.repo) {
        (Some(v), Some(r)) => format!("{v} {r}"),
        (None, Some(r)) => r.clone(),
        _ => "repository not seen".into(),
    };
    let root = d
        .root
        .as_deref()
        .map(|r| format!(" (go-import root {r})"))
        .unwrap_or_default();
    let _ = writeln!(
        o,
        "    {:<15} {}{}",
        "direct",
        sanitize(&repo),
        sanitize(&root)
    );
    let _ = writeln!(o, "    {:<15} {}", "why", sanitize(&d.why));
    let discovery: Vec<String> = m
        .attempts
        .iter()
        .filter(|a| a.kind == Kind::GoGet)
        .map(|a| {
            format!(
                "{} {}",
                sanitize(a.url.as_deref().or(a.proxy.as_deref()).unwrap_or("?")),
                step(a).trim_start_matches("go-get ")
            )
        })
        .collect();
    if !discovery.is_empty() {
        let _ = writeln!(o, "    {:<15} {}", "discovery", discovery.join(" -> "));
    }
    let vcs: Vec<String> = m
        .attempts
        .iter()
        .filter(|a| a.kind == Kind::Vcs)
        .map(step)
        .collect();
    if !vcs.is_empty() {
        let name = d.vcs.as_deref().unwrap_or("vcs");
        let _ = writeln!(o, "    {:<15} {}", name, vcs.join(" -> "));
    }
    if let Some(n) = &m.hash_note {
        let _ = writeln!(o, "    {:<15} {}", "h1", sanitize(n));
    }
}
