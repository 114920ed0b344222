//! Proxies: the configured GOPROXY chain beside the one observed, and per proxy its
//! requests, status mix, errors, first-byte percentiles, bytes and a latency sparkline.

use super::super::app::App;
use super::super::data::Data;
use super::super::style;
use crate::present::format::{self, sanitize, Width};
use crate::present::ChainSource;
use crate::session::Session;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Sparkline};
use ratatui::Frame;

pub(crate) fn draw(f: &mut Frame, area: Rect, app: &mut App, data: &Data, session: &Session) {
    let [chain_area, list_area] =
        Layout::vertical([Constraint::Length(4), Constraint::Min(3)]).areas(area);
    chain(f, chain_area, data, session);
    let proxies = &data.summary.proxies;
    let block = Block::bordered().title(" proxies: time to first byte, newest on the right ");
    if proxies.is_empty() {
        f.render_widget(
            Paragraph::new(Line::styled("No proxy requests seen yet.", style::dim())).block(block),
            list_area,
        );
        return;
    }
    app.proxy_index = app.proxy_index.min(proxies.len() - 1);
    let inner = block.inner(list_area);
    f.render_widget(block, list_area);
    // Three rows per proxy: figures, sparkline, spacing.
    let per = 3u16;
    let fit = (inner.height / per).max(1) as usize;
    let first = super::scroll::window(app.proxy_index, 0, fit, proxies.len());
    for (slot, (i, p)) in proxies.iter().enumerate().skip(first).take(fit).enumerate() {
        let y = inner.y + slot as u16 * per;
        if y + 1 >= inner.y + inner.height {
            break;
        }
        let status: Vec<Span> = p
            .status
            .iter()
            .map(|(k, v)| {
                let code = k.parse::<u16>().ok();
                Span::styled(format!("{k}:{v} "), style::status(code, None))
            })
            .collect();
        let mut spans = vec![
            Span::styled(
                format!("{} ", sanitize(&p.proxy)),
                if i == app.proxy_index {
                    style::selected()
                } else {
                    style::header()
                },
            ),
            Span::raw(format!("{} req ", p.requests)),
        ];
        spans.extend(status);
        if p.errors > 0 {
            spans.push(Span::styled(
                format!("{} errors ", p.errors),
                Style::new().fg(Color::Red),
            ));
        }
        spans.push(Span::raw(format!(
            "p50 {} p95 {} max {} · {}",
            style::ms(p.p50_ms),
            style::ms(p.p95_ms),
            style::ms(p.max_ms),
            format::bytes(p.bytes, Width::Wide)
        )));
        // What the time to first byte is made of, when measured: distance and the server.
        if p.rtt_p50_ms.is_some() || p.server_p50_ms.is_some() {
            // Medians, to fit beside the rest (the report and NDJSON have the p95s).
            spans.push(Span::raw(format!(
                " · rtt {} server {}",
                style::ms(p.rtt_p50_ms),
                style::ms(p.server_p50_ms),
            )));
        }
        f.render_widget(
            Paragraph::new(Line::from(spans)),
            Rect {
                y,
                height: 1,
                ..inner
            },
        );
        let samples: Vec<u64> = session
            .proxies
            .by_base
            .get(&p.proxy)
            .map(|t| {
                t.ttfb
                    .recent(inner.width as usize)
                    .iter()
                    .map(|ms| (ms * 1000.0) as u64)
                    .collect()
            })
            .unwrap_or_default();
        let slow = p.p95_ms.is_some_and(|v| v > session.config.slo_ms);
        f.render_widget(
            Sparkline::default()
                .data(&samples)
                .style(Style::new().fg(if slow { Color::Yellow } else { Color::Green })),
            Rect {
                y: y + 1,
                height: 1,
                ..inner
            },
        );
    }
}

/// GOPROXY as configured (flag or go env) and as the traffic walked it.
fn chain(f: &mut Frame, area: Rect, data: &Data, session: &Session) {
    // The same words as the report's GOPROXY line: what was given, or what the traffic
    // shows when nothing was.
    let (label, configured) = match session
        .config
        .goproxy
        .as_ref()
        .or(data.summary.goproxy.as_ref())
    {
        Some(l) => {
            let from = match l.source {
                ChainSource::Flag => "--goproxy",
                ChainSource::GoEnv => "go env",
                ChainSource::Inferred => "inferred from the traffic; --goproxy gives the real one",
            };
            let label = if l.source == ChainSource::Inferred {
                "inferred   "
            } else {
                "configured "
            };
            (label, format!("{} ({from})", l.display()))
        }
        None => (
            "configured ",
            "unknown: no proxy requests seen (give --goproxy, or capture live where go env tells)"
                .into(),
        ),
    };
    let observed = match &data.summary.goproxy {
        Some(l) => {
            let counts: Vec<String> = l
                .entries
                .iter()
                .map(|e| {
                    let n = data
                        .summary
                        .proxies
                        .iter()
                        .find(|p| p.proxy == e.url)
                        .map_or(0, |p| p.requests);
                    format!("{} ({n} req)", style::short_proxy(&e.url))
                })
                .collect();
            // Written back with the separators GOPROXY would use.
            let mut s = String::new();
            for (i, c) in counts.iter().enumerate() {
                if i > 0 {
                    s.push_str(if l.entries[i - 1].fallback_on_error {
                        " | "
                    } else {
                        " , "
                    });
                }
                s.push_str(c);
            }
            s
        }
        None => "no proxy asked yet".into(),
    };
    // One line each: what does not fit is cut with an ellipsis.
    let room = usize::from(area.width.saturating_sub(2)).saturating_sub(11);
    let lines = vec![
        Line::from(vec![
            Span::styled(label, style::header()),
            Span::raw(super::fit::fit(&configured, room).into_owned()),
        ]),
        Line::from(vec![
            Span::styled("observed   ", style::header()),
            Span::raw(super::fit::fit(&observed, room).into_owned()),
        ]),
    ];
    f.render_widget(
        Paragraph::new(lines).block(Block::bordered().title(" GOPROXY ")),
        area,
    );
}
