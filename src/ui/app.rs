//! The TUI's state and what each key does. Pure: no terminal here, so every interaction
//! can be tested by feeding keys.

use super::data::Data;
use crate::present::ModuleView;
use crate::session::LogRow;
use crossterm::event::{Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseEventKind};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum View {
    Modules,
    Detail,
    Proxies,
    Problems,
    Log,
    /// The time budget (key `b`), entered like the detail view.
    Budget,
}

/// The views Tab cycles through (the detail view is entered with Enter).
pub(crate) const TABS: [View; 4] = [View::Modules, View::Proxies, View::Problems, View::Log];

impl View {
    pub(crate) fn title(self) -> &'static str {
        match self {
            View::Modules => "Modules",
            View::Detail => "Detail",
            View::Proxies => "Proxies",
            View::Problems => "Problems",
            View::Log => "Log",
            View::Budget => "Budget",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sort {
    /// Latest activity first: what is happening now stays on screen.
    Recent,
    /// Worst outcome first.
    Outcome,
    Module,
    Bytes,
    Time,
}

impl Sort {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Sort::Recent => "recent",
            Sort::Outcome => "outcome",
            Sort::Module => "module",
            Sort::Bytes => "bytes",
            Sort::Time => "time",
        }
    }

    fn next(self) -> Sort {
        match self {
            Sort::Recent => Sort::Outcome,
            Sort::Outcome => Sort::Module,
            Sort::Module => Sort::Bytes,
            Sort::Bytes => Sort::Time,
            Sort::Time => Sort::Recent,
        }
    }
}

/// Identity of a module row, so the selection survives re-sorting and new data.
pub(crate) type ModuleKey = (String, Option<String>);

pub(crate) struct App {
    pub(crate) view: View,
    pub(crate) sort: Sort,
    /// The applied filter (module, proxy, status or outcome substring).
    pub(crate) filter: String,
    /// The filter being typed after `/`, if any.
    pub(crate) editing: Option<String>,
    pub(crate) paused: bool,
    pub(crate) help: bool,
    pub(crate) quit: bool,
    pub(crate) selected_module: Option<ModuleKey>,
    pub(crate) module_index: usize,
    /// First module row on screen (kept so the window moves as little as possible).
    pub(crate) module_offset: usize,
    /// The user chose a module (moved off the top row, or opened one): the selection
    /// follows it. Until then it stays on the top row, so a list filling up (a replay
    /// that finished while the TUI opened) is shown from its top, not scrolled down after
    /// the first module that happened to arrive.
    pub(crate) module_chosen: bool,
    pub(crate) proxy_index: usize,
    pub(crate) problem_index: usize,
    /// Log position from the end; `None` follows new lines like `tail -f`.
    pub(crate) log_back: Option<usize>,
    pub(crate) detail_scroll: u16,
    /// The view to return to from the detail view.
    pub(crate) back_to: View,
}

impl Default for App {
    fn default() -> Self {
        App {
            view: View::Modules,
            sort: Sort::Recent,
            filter: String::new(),
            editing: None,
            paused: false,
            help: false,
            quit: false,
            selected_module: None,
            module_index: 0,
            module_offset: 0,
            module_chosen: false,
            proxy_index: 0,
            problem_index: 0,
            log_back: None,
            detail_scroll: 0,
            back_to: View::Modules,
        }
    }
}

fn module_key(m: &ModuleView) -> ModuleKey {
    (m.module.clone(), m.version.clone())
}

/// Does a module match the filter text? Path, version, outcome, any proxy asked, or any
/// status answered.
pub(crate) fn module_matches(m: &ModuleView, filter: &str) -> bool {
    if filter.is_empty() {
        return true;
    }
    let f = filter.to_lowercase();
    m.module.to_lowercase().contains(&f)
        || m.version
            .as_deref()
            .is_some_and(|v| v.to_lowercase().contains(&f))
        || m.outcome.as_str().contains(&f)
        || m.attempts.iter().any(|a| {
            a.proxy
                .as_deref()
                .is_some_and(|p| p.to_lowercase().contains(&f))
                || a.status.is_some_and(|s| s.to_string() == f)
                || a.error.as_deref().is_some_and(|e| e.contains(&f))
        })
}

pub(crate) fn log_matches(r: &LogRow, filter: &str) -> bool {
    if filter.is_empty() {
        return true;
    }
    let f = filter.to_lowercase();
    r.url
        .as_deref()
        .is_some_and(|u| u.to_lowercase().contains(&f))
        || r.status.is_some_and(|s| s.to_string() == f)
        || r.error.as_deref().is_some_and(|e| e.contains(&f))
        || r.kind.as_str() == f
}

impl App {
    /// Module rows in display order (indices into `data.modules`).
    pub(crate) fn visible_modules(&self, data: &Data) -> Vec<usize> {
        let mut v: Vec<usize> = (0..data.modules.len())
            .filter(|&i| module_matches(&data.modules[i], &self.filter))
            .collect();
        let m = &data.modules;
        let last = |i: usize| m[i].attempts.iter().map(|a| a.ts).max().unwrap_or(m[i].ts);
        match self.sort {
            Sort::Recent => v.sort_by_key(|&i| std::cmp::Reverse(last(i))),
            Sort::Outcome => v.sort_by_key(|&i| (std::cmp::Reverse(m[i].outcome), m[i].ts)),
            Sort::Module => v.sort_by(|&a, &b| {
                (&m[a].module, &m[a].version).cmp(&(&m[b].module, &m[b].version))
            }),
            Sort::Bytes => v.sort_by_key(|&i| std::cmp::Reverse(m[i].zip_bytes.unwrap_or(0))),
            Sort::Time => v.sort_by(|&a, &b| m[b].duration_ms.total_cmp(&m[a].duration_ms)),
        }
        v
    }

    /// Keeps the selection on the same module after data or order changed.
    pub(crate) fn sync_selection(&mut self, data: &Data) {
        let rows = self.visible_modules(data);
        if !self.module_chosen {
            self.module_index = 0;
            self.selected_module = rows.first().map(|&i| module_key(&data.modules[i]));
            return;
        }
        if let Some(key) = &self.selected_module {
            if let Some(pos) = rows
                .iter()
                .position(|&i| &module_key(&data.modules[i]) == key)
            {
                self.module_index = pos;
                return;
            }
        }
        self.module_index = self.module_index.min(rows.len().saturating_sub(1));
        self.selected_module = rows
            .get(self.module_index)
            .map(|&i| module_key(&data.modules[i]));
    }

    /// The module the detail view shows.
    pub(crate) fn detail<'a>(&self, data: &'a Data) -> Option<&'a ModuleView> {
        let key = self.selected_module.as_ref()?;
        data.modules
            .iter()
            .find(|m| &module_key(m) == key)
            .map(|m| &**m)
    }

    /// Applies one terminal event. Returns true if the screen should be redrawn.
    pub(crate) fn handle(&mut self, ev: &Event, data: &Data, page: usize) -> bool {
        match ev {
            Event::Key(k) if k.kind != KeyEventKind::Release => self.key(*k, data, page),
            Event::Mouse(m) => match m.kind {
                MouseEventKind::ScrollDown => self.move_by(3, data),
                MouseEventKind::ScrollUp => self.move_by(-3, data),
                _ => false,
            },
            Event::Resize(..) => true,
            _ => false,
        }
    }

    fn key(&mut self, k: KeyEvent, data: &Data, page: usize) -> bool {
        let ctrl = k.modifiers.contains(KeyModifiers::CONTROL);
        if ctrl && matches!(k.code, KeyCode::Char('c')) {
            self.quit = true;
            return true;
        }
        if let Some(text) = &mut self.editing {
            match k.code {
                KeyCode::Enter => {
                    self.filter = self.editing.take().unwrap_or_default();
                    self.module_index = 0;
                    self.module_chosen = false;
                    self.selected_module = None;
                    self.sync_selection(data);
                }
                KeyCode::Esc => self.editing = None,
                KeyCode::Backspace => {
                    text.pop();
                }
                KeyCode::Char(c) => text.push(c),
                _ => return false,
            }
            return true;
        }
        if self.help {
            // Any key closes the help.
            self.help = false;
            return true;
        }
        let page = page.max(1) as isize;
        match k.code {
            KeyCode::Char('q') => self.quit = true,
            KeyCode::Char('?') => self.help = true,
            KeyCode::Char('p') => self.paused = !self.paused,
            KeyCode::Char('/') => self.editing = Some(self.filter.clone()),
            KeyCode::Char('s') if self.view == View::Modules => {
                self.sort = self.sort.next();
                self.sync_selection(data);
            }
            KeyCode::Char('f') if self.view == View::Log => self.log_back = None,
            KeyCode::Char('b') if self.view != View::Budget => {
                if self.view != View::Detail {
                    self.back_to = self.view;
                }
                self.detail_scroll = 0;
                self.view = View::Budget;
            }
            KeyCode::Tab => self.cycle(1),
            KeyCode::BackTab => self.cycle(-1),
            KeyCode::Down | KeyCode::Char('j') => return self.move_by(1, data),
            KeyCode::Up | KeyCode::Char('k') => return self.move_by(-1, data),
            KeyCode::PageDown => return self.move_by(page, data),
            KeyCode::PageUp => return self.move_by(-page, data),
            KeyCode::Home | KeyCode::Char('g') => return self.move_by(isize::MIN / 2, data),
            KeyCode::End | KeyCode::Char('G') => return self.move_by(isize::MAX / 2, data),
            KeyCode::Enter => self.enter(data),
            KeyCode::Esc | KeyCode::Backspace | KeyCode::Left => {
                if matches!(self.view, View::Detail | View::Budget) {
                    self.view = self.back_to;
                } else if !self.filter.is_empty() && k.code == KeyCode::Esc {
                    self.filter.clear();
                    self.sync_selection(data);
                } else {
                    return false;
                }
            }
            _ => return false,
        }
        true
    }

    fn cycle(&mut self, step: isize) {
        let from = if matches!(self.view, View::Detail | View::Budget) {
            self.back_to
        } else {
            self.view
        };
        let i = TABS.iter().position(|v| *v == from).unwrap_or(0) as isize;
        let n = TABS.len() as isize;
        self.view = TABS[((i + step).rem_euclid(n)) as usize];
    }

    fn enter(&mut self, data: &Data) {
        match self.view {
            View::Modules if self.selected_module.is_some() => {
                self.module_chosen = true;
                self.back_to = View::Modules;
                self.detail_scroll = 0;
                self.view = View::Detail;
            }
            View::Problems => {
                // Jump to the first module the problem names.
                let Some(p) = data.problems().get(self.problem_index) else {
                    return;
                };
                let Some(first) = p.subject.as_deref().and_then(|s| s.split(", ").next()) else {
                    return;
                };
                let (module, version) = match first.rsplit_once('@') {
                    Some((m, v)) => (m.to_string(), Some(v.to_string())),
                    None => (first.to_string(), None),
                };
                if data
                    .modules
                    .iter()
                    .any(|m| m.module == module && m.version == version)
                {
                    self.selected_module = Some((module, version));
                    self.module_chosen = true;
                    self.back_to = View::Problems;
                    self.detail_scroll = 0;
                    self.view = View::Detail;
                }
            }
            _ => {}
        }
    }

    fn move_by(&mut self, delta: isize, data: &Data) -> bool {
        let clamp = |i: usize, len: usize| -> usize {
            (i as isize + delta).clamp(0, len.saturating_sub(1) as isize) as usize
        };
        match self.view {
            View::Modules => {
                let rows = self.visible_modules(data);
                self.module_index = clamp(self.module_index, rows.len());
                // Back at the top: follow the top row again.
                self.module_chosen = self.module_index > 0;
                self.selected_module = rows
                    .get(self.module_index)
                    .map(|&i| module_key(&data.modules[i]));
            }
            View::Proxies => self.proxy_index = clamp(self.proxy_index, data.summary.proxies.len()),
            View::Problems => self.problem_index = clamp(self.problem_index, data.problems().len()),
            View::Detail | View::Budget => {
                self.detail_scroll = (self.detail_scroll as isize + delta).clamp(0, 10_000) as u16
            }
            View::Log => {
                // Moving up stops following; reaching the bottom follows again.
                let back = self.log_back.unwrap_or(0) as isize - delta;
                self.log_back = (back > 0).then_some(back.min(isize::MAX / 4) as usize);
            }
        }
        true
    }
}
