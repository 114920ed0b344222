//! One module in full: its lookup chain attempt by attempt, a waterfall of every request's
//! phases (DNS, connect, TLS, first byte, transfer) on one time axis, and the checksums.
//! A request that paid for its connection shows the setup bars; a stream multiplexed on an
//! HTTP/2 connection opened earlier shows none, and says so.

use super::super::app::App;
use super::super::data::Data;
use super::super::style;
use crate::present::attempt;
use crate::present::format::{self, Width};
use crate::present::{artifact_name, Attempt, ModuleView, Ts};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Wrap};
use ratatui::Frame;

pub(crate) fn draw(f: &mut Frame, area: Rect, app: &mut App, data: &Data) {
    let Some(m) = app.detail(data) else {
        let msg = Line::styled(
            "That module is gone from view (filter?). Esc goes back.",
            style::dim(),
        );
        f.render_widget(Paragraph::new(msg).block(Block::bordered()), area);
        return;
    };
    let title = format!(
        " {} {} ",
        m.module,
        m.version.as_deref().unwrap_or("(no version)")
    );
    let block = Block::bordered().title(title);
    let inner = block.inner(area);
    f.render_widget(block, area);
    let mut lines = summary(m);
    lines.push(Line::raw(""));
    lines.push(Line::styled("LOOKUP CHAIN", style::header()));
    lines.extend(chain(m));
    lines.push(Line::raw(""));
    let wf = waterfall(m, inner.width.saturating_sub(2) as usize);
    lines.extend(wf);
    let max_scroll = lines.len().saturating_sub(inner.height as usize) as u16;
    app.detail_scroll = app.detail_scroll.min(max_scroll);
    let [body] = Layout::vertical([Constraint::Min(1)]).areas(inner);
    f.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .scroll((app.detail_scroll, 0)),
        body,
    );
}

fn summary(m: &ModuleView) -> Vec<Line<'static>> {
    let served = |p: &Option<String>| {
        p.as_deref()
            .map(style::short_proxy)
            .unwrap_or_else(|| "-".into())
    };
    let mut lines = vec![Line::from(vec![
        Span::styled(
            format!(" {} ", m.outcome.as_str()),
            style::outcome(m.outcome),
        ),
        Span::raw(format!(
            "  served by: info {} · mod {} · zip {}   {}  {}",
            served(&m.served_by.info),
            served(&m.served_by.gomod),
            served(&m.served_by.zip),
            m.zip_bytes
                .map(|b| format::bytes(b, Width::Wide))
                .unwrap_or_default(),
            style::ms(Some(m.duration_ms)),
        )),
    ])];
    if let Some(p) = &m.problem {
        lines.push(Line::styled(
            format!("! {p}"),
            Style::new().fg(Color::Yellow),
        ));
    }
    for (what, seen, db, sum) in [
        ("zip", &m.h1, &m.sumdb_h1, &m.gosum_h1),
        ("go.mod", &m.mod_h1, &m.sumdb_mod_h1, &m.gosum_mod_h1),
    ] {
        let Some(seen) = seen else { continue };
        let mut spans = vec![
            Span::styled(format!("{what:<7}"), style::header()),
            Span::raw(seen.clone()),
        ];
        for (name, want) in [("checksum db", db), ("go.sum", sum)] {
            match want {
                Some(w) if w == seen => spans.push(Span::styled(
                    format!("  = {name}"),
                    Style::new().fg(Color::Green),
                )),
                Some(w) => spans.push(Span::styled(
                    format!("  ≠ {name} {w}"),
                    Style::new().fg(Color::White).bg(Color::Red),
                )),
                None => {}
            }
        }
        lines.push(Line::from(spans));
    }
    if !m.probes.is_empty() {
        lines.push(Line::styled(
            format!("same query also asked for: {}", m.probes.join(", ")),
            style::dim(),
        ));
    }
    super::detail_direct::lines(m, &mut lines);
    lines
}

/// What an attempt asked for: the artifact, or a direct fetch's step.
fn what(a: &Attempt) -> &'static str {
    a.step.unwrap_or_else(|| artifact_name(a.kind))
}

fn chain(m: &ModuleView) -> Vec<Line<'static>> {
    m.attempts
        .iter()
        .map(|a| {
            Line::from(vec![
                Span::raw(format!("+{:<8} ", style::ms(Some(a.ts.ms_since(m.ts))))),
                Span::raw(format!("{:<16}", what(a))),
                Span::raw(format!("{:<28} ", attempt::proxy(a, Width::Narrow))),
                Span::styled(
                    format!("{:<12}", attempt::answer(a, Width::Narrow)),
                    style::status(a.status, a.error.as_deref()),
                ),
                Span::raw(format!(
                    "ttfb {:<7} total {}{}",
                    style::ms(a.ttfb_ms),
                    style::ms(a.total_ms),
                    attempt::via(a)
                )),
            ])
        })
        .collect()
}

/// Phase colours, in the order they happen.
const PHASES: [(&str, Color); 5] = [
    ("dns", Color::Cyan),
    ("connect", Color::Yellow),
    ("tls", Color::Magenta),
    ("wait", Color::Blue),
    ("transfer", Color::Green),
];

fn waterfall(m: &ModuleView, width: usize) -> Vec<Line<'static>> {
    let label_w = 22usize;
    let bar_w = width.saturating_sub(label_w + 9).max(10);
    // Each request: where its setup began, and its phases in ms.
    let rows: Vec<(&Attempt, Ts, [f64; 5])> = m
        .attempts
        .iter()
        .map(|a| {
            let s = a.setup;
            let setup = [s.dns_ms, s.connect_ms, s.tls_ms]
                .iter()
                .flatten()
                .sum::<f64>();
            let start = Ts(a.ts.0 - (setup * 1e6) as i64);
            let wait = a.ttfb_ms.or(a.total_ms).unwrap_or(0.0);
            let transfer = match (a.ttfb_ms, a.total_ms) {
                (Some(f), Some(t)) => (t - f).max(0.0),
                _ => 0.0,
            };
            let phases = [
                s.dns_ms.unwrap_or(0.0),
                s.connect_ms.unwrap_or(0.0),
                s.tls_ms.unwrap_or(0.0),
                wait,
                transfer,
            ];
            (a, start, phases)
        })
        .collect();
    let Some(t0) = rows.iter().map(|r| r.1).min() else {
        return Vec::new();
    };
    let end = rows
        .iter()
        .map(|(_, s, p)| s.0 as f64 + p.iter().sum::<f64>() * 1e6)
        .fold(t0.0 as f64, f64::max);
    let span_ms = ((end - t0.0 as f64) / 1e6).max(0.001);
    let col = |ms: f64| ((ms / span_ms) * bar_w as f64).round() as usize;
    let mut out = vec![Line::from(
        std::iter::once(Span::styled(
            format!("WATERFALL  0 … {}  ", style::ms(Some(span_ms))),
            style::header(),
        ))
        .chain(
            PHASES
                .iter()
                .map(|(n, c)| Span::styled(format!("■ {n} "), Style::new().fg(*c))),
        )
        .collect::<Vec<_>>(),
    )];
    for (a, start, phases) in rows {
        let label = format!("{} {}", what(a), attempt::proxy(a, Width::Narrow));
        let label = super::fit::fit(&label, label_w - 1);
        let mut spans = vec![Span::raw(format!("{label:<label_w$}"))];
        let offset_ms = start.ms_since(t0);
        let mut at = col(offset_ms);
        spans.push(Span::raw(" ".repeat(at)));
        if a.status.is_none() && a.error.as_deref() == Some("refused") {
            spans.push(Span::styled("✗ refused", Style::new().fg(Color::Red)));
        } else {
            let mut acc = offset_ms;
            for (i, ms) in phases.iter().enumerate() {
                acc += ms;
                let to = col(acc).max(if i == 3 { at + 1 } else { at });
                if to > at {
                    spans.push(Span::styled(
                        "█".repeat(to - at),
                        Style::new().fg(PHASES[i].1),
                    ));
                    at = to;
                }
            }
            spans.push(Span::raw(format!(
                " {}",
                style::ms(a.total_ms.or(a.ttfb_ms))
            )));
            // No DNS, connect or TLS bar: the stream rode an HTTP/2 connection that an
            // earlier request opened (and paid for).
            if a.h2_reused {
                spans.push(Span::styled(" ⇄ h2 conn reused", style::dim()));
            }
        }
        out.push(Line::from(spans));
    }
    out
}
