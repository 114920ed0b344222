//! Tabs, status bar, filter line and help.

use super::super::app::{App, View, TABS};
use super::super::data::Data;
use super::super::style;
use crate::session::{Session, SourceStatus as Status};
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};
use ratatui::Frame;

pub(crate) fn tabs(f: &mut Frame, area: Rect, app: &App, data: &Data, session: &Session) {
    let current = if matches!(app.view, View::Detail | View::Budget) {
        app.back_to
    } else {
        app.view
    };
    let mut spans = vec![Span::styled(
        " gomodwatch ",
        style::header().fg(Color::Cyan),
    )];
    for v in TABS {
        let n = match v {
            View::Modules => data.modules.len(),
            View::Proxies => data.summary.proxies.len(),
            View::Problems => data.problems().len(),
            View::Log => session.exchanges as usize,
            View::Detail | View::Budget => 0,
        };
        let label = format!(" {} {} ", v.title(), n);
        let st = if v == current {
            Style::new().add_modifier(Modifier::REVERSED | Modifier::BOLD)
        } else if v == View::Problems && n > 0 {
            Style::new().fg(Color::Yellow)
        } else {
            Style::new()
        };
        spans.push(Span::raw("│"));
        spans.push(Span::styled(label, st));
    }
    if matches!(app.view, View::Detail | View::Budget) {
        spans.push(Span::raw("│"));
        spans.push(Span::styled(
            format!(" {} ", app.view.title()),
            Style::new().add_modifier(Modifier::REVERSED),
        ));
    }
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}

fn elapsed(status: &Status) -> String {
    let secs = status.started.map_or(0, |s| s.elapsed().as_secs());
    format!("{:02}:{:02}", secs / 60, secs % 60)
}

pub(crate) fn status_bar(f: &mut Frame, area: Rect, app: &App, session: &Session) {
    let status = &session.source;
    if let Some(text) = &app.editing {
        let line = Line::from(vec![
            Span::styled(" filter: ", style::header()),
            Span::raw(text.clone()),
            Span::styled("▏", Style::new().add_modifier(Modifier::SLOW_BLINK)),
            Span::styled("  Enter apply · Esc cancel", style::dim()),
        ]);
        f.render_widget(Paragraph::new(line), area);
        return;
    }
    let state = if app.paused {
        Span::styled(" PAUSED ", Style::new().bg(Color::Yellow).fg(Color::Black))
    } else if status.done {
        Span::styled(" done ", Style::new().bg(Color::DarkGray).fg(Color::White))
    } else {
        Span::styled(" live ", Style::new().bg(Color::Green).fg(Color::Black))
    };
    let drops = if status.dropped > 0 {
        Style::new().fg(Color::Red)
    } else {
        Style::new()
    };
    // The MITM sees requests, not packets: it counts those.
    let counted = if status.mitm_client_limit.is_some() {
        super::modules::plural(session.exchanges as usize, "request")
    } else {
        format!("{} pkts", status.packets)
    };
    let mut spans: Vec<(String, Style)> = vec![
        (status.name.clone(), Style::new()),
        (format!(" │ {counted} │"), Style::new()),
        (format!(" {} dropped ", status.dropped), drops),
        (
            format!("│ {} │ {} ", plural_gaps(status.gaps), elapsed(status)),
            Style::new(),
        ),
    ];
    // What the decoder's bounds cut is said, never dropped silently.
    if status.limits.any() {
        spans.push((
            format!("│ {} ", status.limits.phrase()),
            Style::new().fg(Color::Red),
        ));
    }
    // Packets not read (interfaces of a link type not read) and payload a snap length cut
    // off: the traffic shown is not all there was.
    if status.skipped_packets > 0 {
        spans.push((
            format!("│ {} skipped ", status.skipped_packets),
            Style::new().fg(Color::Yellow),
        ));
    }
    if status.snaplen_bytes > 0 {
        spans.push((
            format!(
                "│ {} cut by snaplen ",
                crate::present::format::bytes(
                    status.snaplen_bytes,
                    crate::present::format::Width::Wide
                )
            ),
            Style::new().fg(Color::Yellow),
        ));
    }
    // Past --max-modules older modules are folded into counts: say so, never silently.
    let folded = session.modules.folded.modules;
    if folded > 0 {
        spans.push((
            format!("│ {folded} folded (limit {}) ", session.modules.limit),
            Style::new().fg(Color::Yellow),
        ));
    }
    if !app.filter.is_empty() {
        spans.push((
            format!("│ filter: {} ", app.filter),
            Style::new().fg(Color::Cyan),
        ));
    }
    let notice = status.notices.last().map(|n| {
        spans.push((format!("│ {n} "), Style::new().fg(Color::Red)));
        spans.len() - 1
    });
    spans.push(("│ ? help  q quit".into(), style::dim()));
    fit_bar(
        &mut spans,
        notice,
        usize::from(area.width).saturating_sub(state.width() + 1),
    );
    let mut line = vec![state, Span::raw(" ")];
    line.extend(spans.into_iter().map(|(t, st)| Span::styled(t, st)));
    f.render_widget(
        Paragraph::new(Line::from(line)).style(Style::new().bg(Color::Black)),
        area,
    );
}

fn plural_gaps(n: u64) -> String {
    super::modules::plural(n as usize, "gap")
}

/// The status bar in `width` columns: the keys' hint loses `q quit` first, then the
/// source's name is cut (from the left, with an ellipsis: a path's end names the file),
/// then the newest notice (the log view has it in full).
fn fit_bar(spans: &mut [(String, Style)], notice: Option<usize>, width: usize) {
    use super::fit::fit;
    let total = |s: &[(String, Style)]| s.iter().map(|(t, _)| t.chars().count()).sum::<usize>();
    let last = spans.len() - 1;
    if total(spans) > width {
        spans[last].0 = "│ ? help".into();
    }
    let over = total(spans).saturating_sub(width);
    if over > 0 {
        let name: Vec<char> = spans[0].0.chars().collect();
        let keep = name.len().saturating_sub(over).max(4.min(name.len()));
        if keep < name.len() {
            let tail: String = name[name.len() - (keep - 1)..].iter().collect();
            spans[0].0 = format!("…{tail}");
        }
    }
    let over = total(spans).saturating_sub(width);
    if let (true, Some(i)) = (over > 0, notice) {
        let text = spans[i].0.trim_end().to_string();
        let keep = text.chars().count().saturating_sub(over + 1).max(4);
        spans[i].0 = format!("{} ", fit(&text, keep));
    }
}

const HELP: &[(&str, &str)] = &[
    ("↑ ↓  j k", "move"),
    ("PgUp PgDn  g G", "page, top, bottom"),
    ("Enter", "module detail: chain, waterfall, hashes"),
    ("Esc  ←", "back; clears the filter"),
    ("Tab  Shift-Tab", "next / previous view"),
    ("/", "filter by module, proxy, status, outcome"),
    ("s", "sort: recent, outcome, module, bytes, time"),
    ("p", "pause / resume decoding"),
    ("f", "log: follow new exchanges (tail -f)"),
    ("b", "time budget: where the run's time went"),
    ("mouse wheel", "scroll"),
    ("q  Ctrl-C", "quit"),
];

pub(crate) fn help(f: &mut Frame, area: Rect) {
    let [area] = Layout::horizontal([Constraint::Length(64)])
        .flex(Flex::Center)
        .areas(area);
    let [area] = Layout::vertical([Constraint::Length(HELP.len() as u16 + 4)])
        .flex(Flex::Center)
        .areas(area);
    let lines: Vec<Line> = HELP
        .iter()
        .map(|(k, what)| {
            Line::from(vec![
                Span::styled(format!(" {k:<16}"), style::header()),
                Span::raw(*what),
            ])
        })
        .chain([
            Line::raw(""),
            Line::styled(" any key closes this", style::dim()),
        ])
        .collect();
    f.render_widget(Clear, area);
    f.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(Block::bordered().title(" keys ")),
        area,
    );
}
