//! The time budget (key `b`): where the run's wall clock went along its critical path, the
//! same lines as the report's TIME BUDGET section.

use super::super::app::App;
use super::super::style;
use crate::present::{sanitize, Width};
use crate::session::Session;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Block, Paragraph};
use ratatui::Frame;

pub(crate) fn draw(f: &mut Frame, area: Rect, app: &mut App, session: &Session) {
    let block = Block::bordered().title(" Time budget · Esc: back ");
    let Some(b) = session.budget() else {
        let line = Line::styled("No go-command request seen yet.", style::dim());
        f.render_widget(Paragraph::new(line).block(block), area);
        return;
    };
    let lines: Vec<Line> = b
        .lines(Width::Narrow)
        .into_iter()
        .map(|l| Line::raw(sanitize(&l).into_owned()))
        .collect();
    app.detail_scroll = app.detail_scroll.min(lines.len().saturating_sub(1) as u16);
    f.render_widget(
        Paragraph::new(lines)
            .scroll((app.detail_scroll, 0))
            .block(block),
        area,
    );
}
