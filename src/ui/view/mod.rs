//! Drawing: one module per view, plus the chrome around them (tabs, status bar, help).

mod budget;
mod chrome;
mod detail;
mod detail_direct;
mod fit;
mod log;
mod modules;
mod problems;
mod proxies;
mod scroll;

use super::app::{App, View};
use super::data::Data;
use crate::session::Session;
use ratatui::layout::{Constraint, Layout};
use ratatui::Frame;

/// Draws the whole screen.
pub(crate) fn draw(f: &mut Frame, app: &mut App, data: &Data, session: &Session) {
    let [tabs, body, bar] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(3),
        Constraint::Length(1),
    ])
    .areas(f.area());
    chrome::tabs(f, tabs, app, data, session);
    match app.view {
        View::Modules => modules::draw(f, body, app, data, session.source.done),
        View::Detail => detail::draw(f, body, app, data),
        View::Proxies => proxies::draw(f, body, app, data, session),
        View::Problems => problems::draw(f, body, app, data),
        View::Log => log::draw(f, body, app, session),
        View::Budget => budget::draw(f, body, app, session),
    }
    chrome::status_bar(f, bar, app, session);
    if app.help {
        chrome::help(f, f.area());
    }
}
