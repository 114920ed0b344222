//! The modules table: one row per module@version, coloured by outcome, newest activity
//! first by default. Only the rows on screen are built, so 100 000 rows cost nothing.

use super::super::app::App;
use super::super::data::Data;
use super::super::style;
use super::fit::{fit, share};
use crate::present::{attempt, Outcome};
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::Line;
use ratatui::widgets::{Block, Cell, Paragraph, Row, Table, Wrap};
use ratatui::Frame;

pub(crate) fn draw(f: &mut Frame, area: Rect, app: &mut App, data: &Data, done: bool) {
    let rows = app.visible_modules(data);
    app.sync_selection(data);
    // Counts of what is shown: under a filter, the rows it keeps.
    let mut counts = [
        Outcome::Ok,
        Outcome::NotFound,
        Outcome::Incomplete,
        Outcome::Failed,
        Outcome::ChecksumMismatch,
    ]
    .map(|o| (o, 0usize));
    for &i in &rows {
        if let Some(c) = counts
            .iter_mut()
            .find(|(o, _)| *o == data.modules[i].outcome)
        {
            c.1 += 1;
        }
    }
    let counts: Vec<String> = counts
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|(o, n)| format!("{n} {}", o.as_str()))
        .collect();
    let shown = if rows.len() == data.modules.len() {
        plural(rows.len(), "module")
    } else {
        format!("{} of {}", rows.len(), plural(data.modules.len(), "module"))
    };
    let title = format!(
        " {shown}{} · sort: {} ",
        if counts.is_empty() {
            String::new()
        } else {
            format!(" ({})", counts.join(", "))
        },
        app.sort.name()
    );
    // On narrow screens proxies get letters (explained in the bottom border).
    let narrow = area.width < 110;
    let inner_width = area.width.saturating_sub(2);
    let mut block = Block::bordered().title(fit(&title, inner_width as usize).into_owned());
    if narrow && !data.letters.is_empty() {
        let legend: Vec<String> = data
            .letters
            .iter()
            .map(|(p, c)| format!("{c}={}", style::short_proxy(p)))
            .collect();
        let legend = format!(" {} ", legend.join(" "));
        block = block.title_bottom(fit(&legend, inner_width as usize).into_owned());
    }
    if rows.is_empty() {
        let msg = if !data.modules.is_empty() {
            "No module matches the filter (Esc clears it)."
        } else if done {
            "done: no module traffic in this capture (no GOPROXY requests or direct fetches)"
        } else {
            "Waiting for module traffic (GOPROXY requests)…"
        };
        f.render_widget(
            Paragraph::new(Line::styled(msg, style::dim()))
                .wrap(Wrap { trim: true })
                .block(block),
            area,
        );
        return;
    }
    let height = area.height.saturating_sub(3) as usize;
    let offset = super::scroll::window(app.module_index, app.module_offset, height, rows.len());
    app.module_offset = offset;
    let header = [
        "Module",
        "Version",
        if narrow { "Via" } else { "Served by" },
        "Attempts",
        "Outcome",
        "Bytes",
        "Time",
    ];
    // The cells of the rows on screen, as text: the columns are sized by them.
    let cells: Vec<(usize, [String; 7], Style)> = rows
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
            let (outcome, outcome_style) = match (&m.direct, m.outcome) {
                // Fetched from its code host: its own colour, apart from proxy oks.
                (Some(_), Outcome::Ok) => ("direct", style::direct()),
                _ => (short_outcome(m.outcome), style::outcome(m.outcome)),
            };
            let text = [
                m.module.clone(),
                m.version.clone().unwrap_or_else(|| {
                    // A direct fetch whose tag the git traffic did not show.
                    if m.direct.is_some() { "(git)" } else { "-" }.into()
                }),
                served,
                attempt::chain_summary(&m.attempts),
                outcome.to_string(),
                style::bytes(m.zip_bytes),
                time(m),
            ];
            (pos, text, outcome_style)
        })
        .collect();
    let want: Vec<u16> = (0..7)
        .map(|c| {
            cells
                .iter()
                .map(|(_, t, _)| t[c].chars().count())
                .chain([header[c].chars().count()])
                .max()
                .unwrap_or(0) as u16
        })
        .collect();
    // Module and version may be cut (with an ellipsis), the rest keep enough to read. The
    // version is cut last: while the other columns' minimums leave room for it whole, the
    // module path and the rest give way first (a path's start and end still say which
    // module it is; a cut pseudo-version says nothing).
    let mut min = [12, 8, 3, 7, 7, 5, 6];
    let others: u16 = min.iter().sum::<u16>() - min[1] + (min.len() as u16 - 1);
    if others + want[1] <= inner_width {
        min[1] = min[1].max(want[1]);
    }
    let widths = share(&want, &min, inner_width);
    let body: Vec<Row> = cells
        .iter()
        .map(|(pos, text, outcome_style)| {
            let row = Row::new(text.iter().enumerate().map(|(c, t)| {
                let cell = Cell::from(fit(t, widths[c] as usize).into_owned());
                if c == 4 {
                    cell.style(*outcome_style)
                } else {
                    cell
                }
            }));
            if *pos == app.module_index {
                row.style(style::selected())
            } else {
                row
            }
        })
        .collect();
    let header = Row::new(
        header
            .iter()
            .enumerate()
            .map(|(c, h)| Cell::from(fit(h, widths[c] as usize).into_owned())),
    )
    .style(style::header());
    let constraints: Vec<Constraint> = widths.iter().map(|w| Constraint::Length(*w)).collect();
    f.render_widget(
        Table::new(body, constraints).header(header).block(block),
        area,
    );
}

/// `1 module`, `3 modules`.
pub(crate) fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// The module's time. One left waiting (incomplete) has no answer time: what it waited
/// is a lower bound (`≥`), and nothing when the wait was not measured, never a `0.0ms`
/// that reads as a fast answer.
fn time(m: &crate::present::ModuleView) -> String {
    match m.outcome {
        Outcome::Incomplete if m.duration_ms > 0.0 => {
            format!("≥{}", style::ms(Some(m.duration_ms)))
        }
        Outcome::Incomplete => "-".into(),
        _ => style::ms(Some(m.duration_ms)),
    }
}

/// Outcomes in at most 9 columns.
fn short_outcome(o: Outcome) -> &'static str {
    match o {
        Outcome::ChecksumMismatch => "MISMATCH",
        Outcome::Incomplete => "partial",
        o => o.as_str(),
    }
}
