//! Problems, most serious first: the sentences a user can act on.

use super::super::app::App;
use super::super::data::Data;
use super::super::style;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Wrap};
use ratatui::Frame;

pub(crate) fn draw(f: &mut Frame, area: Rect, app: &mut App, data: &Data) {
    let problems = data.problems();
    let block = Block::bordered().title(format!(
        " {} · Enter: the module ",
        super::modules::plural(problems.len(), "problem")
    ));
    if problems.is_empty() {
        let line = Line::styled(
            "No problems: every request was answered as the go command wants.",
            style::dim(),
        );
        f.render_widget(Paragraph::new(line).block(block), area);
        return;
    }
    app.problem_index = app.problem_index.min(problems.len() - 1);
    // Each problem is a paragraph; start at the selected one's neighbourhood so long lists
    // still show the selection.
    let first = app.problem_index.saturating_sub(2);
    let mut lines: Vec<Line> = Vec::new();
    for (i, p) in problems.iter().enumerate().skip(first) {
        let (st, tag) = style::severity(p.severity);
        let sel = if i == app.problem_index {
            style::selected()
        } else {
            Style::new()
        };
        let mut spans = vec![Span::styled(format!("{tag:<8}"), st), Span::raw(" ")];
        if let Some(s) = &p.subject {
            spans.push(Span::styled(format!("{s}: "), style::header()));
        }
        spans.push(Span::raw(p.text.clone()));
        lines.push(Line::from(spans).style(sel));
        lines.push(Line::raw(""));
    }
    f.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(block),
        area,
    );
}
