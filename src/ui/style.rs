//! Colours and number formats shared by the views.

use crate::gomod::module::Attempt;
use crate::gomod::verdict::{Outcome, Severity};
use ratatui::style::{Color, Modifier, Style};

pub fn outcome(o: Outcome) -> Style {
    match o {
        Outcome::Ok => Style::new().fg(Color::Green),
        Outcome::NotFound => Style::new().fg(Color::Yellow),
        Outcome::Incomplete => Style::new().fg(Color::Magenta),
        Outcome::Failed => Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
        Outcome::ChecksumMismatch => Style::new()
            .fg(Color::White)
            .bg(Color::Red)
            .add_modifier(Modifier::BOLD),
    }
}

pub fn severity(s: Severity) -> (Style, &'static str) {
    match s {
        Severity::Critical => (
            Style::new()
                .fg(Color::White)
                .bg(Color::Red)
                .add_modifier(Modifier::BOLD),
            "CRITICAL",
        ),
        Severity::Error => (
            Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
            "ERROR",
        ),
        Severity::Warning => (Style::new().fg(Color::Yellow), "WARNING"),
        Severity::Info => (Style::new().fg(Color::Cyan), "INFO"),
    }
}

pub fn status(code: Option<u16>, error: Option<&str>) -> Style {
    match (code, error) {
        (Some(200), None) => Style::new().fg(Color::Green),
        (Some(404 | 410), _) => Style::new().fg(Color::Yellow),
        (Some(300..=399), None) => Style::new().fg(Color::Cyan),
        _ => Style::new().fg(Color::Red),
    }
}

pub fn selected() -> Style {
    Style::new().add_modifier(Modifier::REVERSED)
}

pub fn dim() -> Style {
    Style::new().fg(Color::DarkGray)
}

pub fn header() -> Style {
    Style::new().add_modifier(Modifier::BOLD)
}

pub fn ms(v: Option<f64>) -> String {
    match v {
        Some(v) if v >= 10_000.0 => format!("{:.0}s", v / 1000.0),
        Some(v) if v >= 1000.0 => format!("{:.1}s", v / 1000.0),
        Some(v) if v >= 10.0 => format!("{v:.0}ms"),
        Some(v) => format!("{v:.1}ms"),
        None => "-".into(),
    }
}

pub fn bytes(n: Option<u64>) -> String {
    match n {
        None => "-".into(),
        Some(n) if n >= 10 << 20 => format!("{}M", n >> 20),
        Some(n) if n >= 1 << 20 => format!("{:.1}M", n as f64 / (1 << 20) as f64),
        Some(n) if n >= 10 << 10 => format!("{}K", n >> 10),
        Some(n) if n >= 1 << 10 => format!("{:.1}K", n as f64 / 1024.0),
        Some(n) => format!("{n}B"),
    }
}

/// A proxy base URL without its scheme, to save columns.
pub fn short_proxy(p: &str) -> &str {
    p.split_once("://").map_or(p, |(_, rest)| rest)
}

/// The chain of answers for the artifact that says most (the zip, else .info or .mod), in
/// its latest walk down the proxy list: `404→200`, `500→200`, `refused→200`; `×8` when the
/// module was fetched that many times.
pub fn chain(attempts: &[Attempt]) -> String {
    use crate::gomod::classify::Kind;
    use crate::gomod::module::walks;
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
            (None, Some(e)) => e.into(),
            (None, None) => "?".into(),
        })
        .collect();
    let mut s = parts.join("→");
    if pick.len() > 1 {
        s.push_str(&format!(" ×{}", pick.len()));
    }
    s
}
