//! The detail view's lines for a module fetched direct: the repository, why it went
//! there (the rule, or what the traffic shows), its warnings, and why there is no `h1:`.
//! The discovery → ls-refs → fetch steps are the lookup chain and waterfall rows.

use super::super::style;
use crate::present::format::sanitize;
use crate::present::ModuleView;
use ratatui::style::{Color, Style};
use ratatui::text::{Line, Span};

pub(crate) fn lines(m: &ModuleView, out: &mut Vec<Line<'static>>) {
    let Some(d) = &m.direct else { return };
    let repo = match (&d.vcs, &d.repo) {
        (Some(v), Some(r)) => format!("{v} {r}"),
        (None, Some(r)) => r.clone(),
        _ => "repository not seen".into(),
    };
    out.push(Line::from(vec![
        Span::styled("direct  ", style::direct()),
        Span::raw(sanitize(&repo).into_owned()),
        Span::styled(
            d.root
                .as_deref()
                .map(|r| format!("  (go-import root {})", sanitize(r)))
                .unwrap_or_default(),
            style::dim(),
        ),
    ]));
    out.push(Line::raw(format!("why     {}", sanitize(&d.why))));
    for w in d.warnings.iter().filter(|w| m.problem.as_ref() != Some(*w)) {
        out.push(Line::styled(
            format!("! {}", sanitize(w)),
            Style::new().fg(Color::Yellow),
        ));
    }
    if m.version.is_none() {
        out.push(Line::styled(
            "version not visible in the traffic (no tag in an ls-refs answer, no checksum lookup)",
            style::dim(),
        ));
    }
    if let Some(n) = &m.hash_note {
        out.push(Line::styled(
            format!("h1      {}", sanitize(n)),
            style::dim(),
        ));
    }
}
