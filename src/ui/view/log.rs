//! The raw exchange log: method, status, timings, URL — followed like `tail -f` until the
//! user scrolls up. Only the rows on screen are built.

use super::super::app::{log_matches, App};
use super::super::style;
use super::fit::fit;
use crate::present::format::{sanitize, short_proxy};
use crate::session::Session;
use ratatui::layout::{Constraint, Rect};
use ratatui::widgets::{Block, Cell, Row, Table};
use ratatui::Frame;

pub(crate) fn draw(f: &mut Frame, area: Rect, app: &mut App, session: &Session) {
    let rows: Vec<&crate::session::LogRow> = if app.filter.is_empty() {
        session.log.rows.iter().collect()
    } else {
        session
            .log
            .rows
            .iter()
            .filter(|r| log_matches(r, &app.filter))
            .collect()
    };
    let height = area.height.saturating_sub(3) as usize;
    let back = app
        .log_back
        .unwrap_or(0)
        .min(rows.len().saturating_sub(height));
    if app.log_back.is_some() {
        app.log_back = Some(back);
    }
    let end = rows.len() - back;
    let start = end.saturating_sub(height);
    let first_ts = session.first.unwrap_or_default();
    let mode = if app.log_back.is_none() {
        "following (↑ to stop)"
    } else {
        "paused scroll (f follows)"
    };
    let dropped = session
        .log
        .logged
        .saturating_sub(session.log.rows.len() as u64);
    let title = if dropped > 0 {
        format!(
            " {} exchanges ({} oldest not kept) · {mode} ",
            rows.len(),
            dropped
        )
    } else {
        format!(" {} exchanges · {mode} ", rows.len())
    };
    let header =
        Row::new(["+s", "Status", "TTFB", "Total", "Bytes", "Request"]).style(style::header());
    // The request takes what the fixed columns leave (5 of them and 5 gaps); what does not
    // fit is cut with an ellipsis.
    let request_width =
        usize::from(area.width.saturating_sub(2)).saturating_sub(7 + 8 + 6 + 6 + 5 + 5);
    let body: Vec<Row> = rows[start..end]
        .iter()
        .map(|r| {
            let answer = match (r.status, r.error.as_deref()) {
                (Some(s), None) => s.to_string(),
                (Some(s), Some(e)) => format!("{s} {e}"),
                (None, Some(e)) => sanitize(e).into_owned(),
                (None, None) => "-".into(),
            };
            // The method only when it is not the go command's usual GET; the URL without
            // its scheme, to leave room for the path.
            let url = r.url.as_deref().map(short_proxy).unwrap_or("?");
            let url = sanitize(url);
            let request = match r.method.as_deref() {
                Some("GET") | None => url.to_string(),
                Some(m) => format!("{} {url}", sanitize(m)),
            };
            Row::new([
                Cell::from(format!("{:.3}", r.ts.ms_since(first_ts) / 1000.0)),
                Cell::from(fit(&answer, 8).into_owned())
                    .style(style::status(r.status, r.error.as_deref())),
                Cell::from(style::ms(r.ttfb_ms)),
                Cell::from(style::ms(r.total_ms)),
                Cell::from(style::bytes(Some(r.resp_bytes))),
                Cell::from(fit(&request, request_width).into_owned()),
            ])
        })
        .collect();
    let widths = [
        Constraint::Length(7),
        Constraint::Length(8),
        Constraint::Length(6),
        Constraint::Length(6),
        Constraint::Length(5),
        Constraint::Fill(1),
    ];
    f.render_widget(
        Table::new(body, widths)
            .header(header)
            .block(Block::bordered().title(title)),
        area,
    );
}
