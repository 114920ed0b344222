//! Colours and number formats shared by the views.

use crate::present::format::{self, sanitize, Width};
use crate::present::{Outcome, Severity};
use ratatui::style::{Color, Modifier, Style};

pub(crate) fn outcome(o: Outcome) -> Style {
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

/// A module fetched direct from its code host (not a proxy) that worked.
pub(crate) fn direct() -> Style {
    Style::new().fg(Color::Cyan)
}

pub(crate) fn severity(s: Severity) -> (Style, &'static str) {
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

pub(crate) fn status(code: Option<u16>, error: Option<&str>) -> Style {
    match (code, error) {
        (Some(200), None) => Style::new().fg(Color::Green),
        (Some(404 | 410), _) => Style::new().fg(Color::Yellow),
        (Some(300..=399), None) => Style::new().fg(Color::Cyan),
        _ => Style::new().fg(Color::Red),
    }
}

pub(crate) fn selected() -> Style {
    Style::new().add_modifier(Modifier::REVERSED)
}

pub(crate) fn dim() -> Style {
    Style::new().fg(Color::DarkGray)
}

pub(crate) fn header() -> Style {
    Style::new().add_modifier(Modifier::BOLD)
}

/// Durations and sizes in the TUI's narrow columns (one formatter for every view:
/// `present::format`).
pub(crate) fn ms(v: Option<f64>) -> String {
    format::duration(v, Width::Narrow)
}

pub(crate) fn bytes(n: Option<u64>) -> String {
    n.map_or_else(|| "-".into(), |n| format::bytes(n, Width::Narrow))
}

/// A proxy base URL without its scheme, sanitised.
pub(crate) fn short_proxy(p: &str) -> String {
    // `direct (git https://host/repo.git)`: the VCS and the repository, without scheme.
    if let Some(inner) = p.strip_prefix("direct (").and_then(|r| r.strip_suffix(')')) {
        let (vcs, repo) = inner.split_once(' ').unwrap_or(("", inner));
        return sanitize(&format!("{vcs} {}", format::short_proxy(repo))).into_owned();
    }
    sanitize(format::short_proxy(p)).into_owned()
}
