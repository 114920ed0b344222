//! How one request for a module is written, in the report and in the TUI.

use super::format::{sanitize, short_proxy, Width};
use crate::gomod::module::{walks, Attempt};
use gomodwatch_wire::vocab::Kind;

/// The answer, with the number of identical requests folded into it: `404 x2` (wide) or
/// `404 ×2` (narrow).
pub fn answer(a: &Attempt, width: Width) -> String {
    let times = match (a.count, width) {
        (1, _) => String::new(),
        (n, Width::Wide) => format!(" x{n}"),
        (n, Width::Narrow) => format!(" ×{n}"),
    };
    format!("{}{times}", sanitize(&a.answer()))
}

/// ` via HOST` when the request was redirected, else nothing.
pub fn via(a: &Attempt) -> String {
    a.redirected_to
        .as_deref()
        .map(|h| format!(" via {}", sanitize(h)))
        .unwrap_or_default()
}

/// The proxy asked, sanitised; `?` when unknown. Narrow drops the scheme.
pub fn proxy(a: &Attempt, width: Width) -> String {
    let p = a.proxy.as_deref().unwrap_or("?");
    match width {
        Width::Wide => sanitize(p).into_owned(),
        Width::Narrow => sanitize(short_proxy(p)).into_owned(),
    }
}

/// The chain of answers for the artifact that says most (the zip, else .info or .mod), in
/// its latest walk down the proxy list: `404→200`, `500→200`, `refused→200`; `×8` when the
/// module was fetched that many times.
pub fn chain_summary(attempts: &[Attempt]) -> String {
    let pick = [
        Kind::Zip,
        Kind::Info,
        Kind::Mod,
        Kind::List,
        Kind::SumdbLookup,
    ]
    .into_iter()
    .map(|k| walks(attempts.iter().filter(|a| a.kind == k)))
    .max_by_key(|w| w.last().map_or(0, Vec::len))
    .unwrap_or_default();
    let Some(last) = pick.last() else {
        return String::new();
    };
    let parts: Vec<String> = last
        .iter()
        .map(|a| match (a.status, a.error.as_deref()) {
            (Some(s), _) => s.to_string(),
            (None, Some("refused")) => "refused".into(),
            (None, Some("no-response")) => "hang".into(),
            (None, Some(e)) => sanitize(e).into_owned(),
            (None, None) => "?".into(),
        })
        .collect();
    let mut s = parts.join("→");
    if pick.len() > 1 {
        s.push_str(&format!(" ×{}", pick.len()));
    }
    s
}
