//! The modules table: one row per module@version, coloured by outcome, newest activity
//! first by default. Only the rows on screen are built, so 100 000 rows cost nothing.

use super::super::app::App;
use super::super::data::Data;
use super::super::style;
use crate::present::attempt;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Block, Cell, Paragraph, Row, Table};
use ratatui::Frame;

pub(crate) fn draw(f: &mut Frame, area: Rect, app: &mut App, data: &Data) {
    let rows = app.visible_modules(data);
    app.sync_selection(data);
    let counts: Vec<String> = App::outcome_counts(data)
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|(o, n)| format!("{n} {}", o.as_str()))
        .collect();
    let title = format!(
        " {} modules ({}) · sort: {} ",
        rows.len(),
        if counts.is_empty() {
            "none yet".to_string()
        } else {
            counts.join(", ")
        },
        app.sort.name()
    );
    // On narrow screens proxies get letters (explained in the bottom border).
    let narrow = area.width < 110;
    let mut block = Block::bordered().title(title);
    if narrow && !data.letters.is_empty() {
        let legend: Vec<String> = data
            .letters
            .iter()
            .map(|(p, c)| format!("{c}={}", style::short_proxy(p)))
            .collect();
        block = block.title_bottom(format!(" {} ", legend.join(" ")));
    }
    if rows.is_empty() {
        let msg = if data.modules.is_empty() {
            "Waiting for module traffic (GOPROXY requests)…"
        } else {
            "No module matches the filter (Esc clears it)."
        };
        f.render_widget(
            Paragraph::new(Line::styled(msg, style::dim())).block(block),
            area,
        );
        return;
    }
    let height = area.height.saturating_sub(3) as usize;
    let offset = super::scroll::window(app.module_index, app.module_offset, height, rows.len());
    app.module_offset = offset;
    let header = Row::new([
        "Module",
        "Version",
        if narrow { "Via" } else { "Served by" },
        "Attempts",
        "Outcome",
        "Bytes",
        "Time",
    ])
    .style(style::header());
    let body: Vec<Row> = rows
        .iter()
        .enumerate()
        .skip(offset)
        .take(height)
        .map(|(pos, &i)| {
            let m = &data.modules[i];
            let served = m
                .served_by
                .zip
                .as_deref()
                .or(m.served_by.info.as_deref())
                .or(m.served_by.gomod.as_deref());
            let served = match (served, narrow) {
                (Some(p), true) => data
                    .letter(p)
                    .map_or_else(|| style::short_proxy(p).to_string(), String::from),
                (Some(p), false) => style::short_proxy(p).to_string(),
                (None, _) => "-".to_string(),
            };
            let row = Row::new([
                Cell::from(m.module.clone()),
                Cell::from(m.version.clone().unwrap_or_else(|| {
                    // A direct fetch whose tag the git traffic did not show.
                    if m.direct.is_some() { "(git)" } else { "-" }.into()
                })),
                Cell::from(served),
                Cell::from(attempt::chain_summary(&m.attempts)),
                match (&m.direct, m.outcome) {
                    // Fetched from its code host: its own colour, apart from proxy oks.
                    (Some(_), crate::present::Outcome::Ok) => {
                        Cell::from("direct").style(style::direct())
                    }
                    _ => Cell::from(short_outcome(m.outcome)).style(style::outcome(m.outcome)),
                },
                Cell::from(style::bytes(m.zip_bytes)),
                Cell::from(style::ms(Some(m.duration_ms))),
            ]);
            if pos == app.module_index {
                row.style(style::selected())
            } else {
                row
            }
        })
        .collect();
    let widths = [
        Constraint::Fill(5),
        Constraint::Fill(2),
        if narrow {
            Constraint::Length(6)
        } else {
            Constraint::Fill(3)
        },
        Constraint::Length(11),
        Constraint::Length(9),
        Constraint::Length(5),
        Constraint::Length(6),
    ];
    f.render_widget(Table::new(body, widths).header(header).block(block), area);
}

/// Outcomes in at most 9 columns.
fn short_outcome(o: crate::present::Outcome) -> &'static str {
    use crate::present::Outcome;
    match o {
        Outcome::ChecksumMismatch => "MISMATCH",
        Outcome::Incomplete => "partial",
        o => o.as_str(),
    }
}
