//! The terminal UI (ratatui + crossterm): modules, one module's detail, proxies, problems
//! and the raw log, with a status bar. It is a `Sink` of the pipeline that takes turns: it gets a turn
//! between slices of decoding, redraws only when something changed (at most ~10 times a
//! second while data pours in, once a second otherwise), and restores the terminal on
//! quit, on Ctrl-C and on panic.

pub mod app;
pub mod data;
pub mod style;
pub mod view;

use crate::session::{Control, Session, Sink};
use app::App;
use crossterm::event::{self, DisableMouseCapture, EnableMouseCapture};
use crossterm::terminal::{self, EnterAlternateScreen, LeaveAlternateScreen};
use crossterm::ExecutableCommand;
use data::Data;
use ratatui::backend::{Backend, CrosstermBackend};
use ratatui::Terminal;
use std::io::{self, Stdout};
use std::time::{Duration, Instant};

/// Exchanges kept for the log view.
pub const LOG_CAPACITY: usize = 100_000;

/// Redraw at most this often while data changes, and at least this often anyway (clock).
const MIN_FRAME: Duration = Duration::from_millis(100);
const HEARTBEAT: Duration = Duration::from_secs(1);
/// How often an idle UI looks for a resize.
const RESIZE_CHECK: Duration = Duration::from_millis(100);

pub struct Tui<B: Backend> {
    terminal: Terminal<B>,
    pub(crate) app: App,
    data: Option<Data>,
    last_draw: Option<Instant>,
    dirty: bool,
    /// Whether the terminal is ours to restore (false for test backends).
    owns_terminal: bool,
}

/// Waits up to `wait` for input on the terminal; false when the terminal has hung up.
///
/// When a terminal's window closes (a killed tmux session, a dropped ssh connection)
/// without a SIGHUP reaching us, stdin reports end-of-file, and crossterm's reader loops on
/// it forever (crossterm-rs/crossterm#793). So the waiting is done here, with the kernel's
/// poll, and crossterm is only asked to decode input that is there.
fn wait_for_terminal(wait: Duration) -> bool {
    let mut fds = libc::pollfd {
        fd: 0,
        events: libc::POLLIN,
        revents: 0,
    };
    let ms = wait.as_millis().min(i32::MAX as u128) as i32;
    // SAFETY: one valid pollfd.
    let n = unsafe { libc::poll(&mut fds, 1, ms) };
    !(n > 0 && fds.revents & (libc::POLLHUP | libc::POLLERR | libc::POLLNVAL) != 0)
}

/// Puts the terminal back: raw mode off, main screen, mouse released, cursor shown.
pub(crate) fn restore_terminal() {
    let _ = terminal::disable_raw_mode();
    let mut out = io::stdout();
    let _ = out.execute(DisableMouseCapture);
    let _ = out.execute(LeaveAlternateScreen);
    let _ = out.execute(crossterm::cursor::Show);
}

impl Tui<CrosstermBackend<Stdout>> {
    /// Takes over the terminal. A panic anywhere restores it before the message prints.
    pub fn start() -> io::Result<Self> {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            restore_terminal();
            previous(info);
        }));
        terminal::enable_raw_mode()?;
        let mut out = io::stdout();
        out.execute(EnterAlternateScreen)?;
        out.execute(EnableMouseCapture)?;
        let mut terminal = Terminal::new(CrosstermBackend::new(out))?;
        terminal.clear()?;
        let mut tui = Tui::with_terminal(terminal);
        tui.owns_terminal = true;
        Ok(tui)
    }
}

impl<B: Backend> Tui<B> {
    pub fn with_terminal(terminal: Terminal<B>) -> Self {
        Tui {
            terminal,
            app: App::default(),
            data: None,
            last_draw: None,
            dirty: true,
            owns_terminal: false,
        }
    }

    pub fn terminal(&self) -> &Terminal<B> {
        &self.terminal
    }

    /// Draws now, from the session as it is (tests use this).
    pub fn draw_now(&mut self, session: &Session) -> io::Result<()> {
        self.draw(session, true)
    }

    /// Draws; the derived data is recomputed only if `fresh` or it is old enough.
    fn draw(&mut self, session: &Session, fresh: bool) -> io::Result<()> {
        let data = match &mut self.data {
            Some(d) => {
                d.refresh(session, fresh);
                d
            }
            None => self.data.insert(Data::new(session)),
        };
        let app = &mut self.app;
        self.terminal.draw(|f| view::draw(f, app, data, session))?;
        self.last_draw = Some(Instant::now());
        self.dirty = false;
        Ok(())
    }

    /// Applies an input event (tests use this to drive the UI like a user).
    pub fn input(&mut self, ev: &event::Event, session: &Session) {
        let data = self.data.get_or_insert_with(|| Data::new(session));
        let page = self
            .terminal
            .size()
            .map_or(20, |s| s.height.saturating_sub(5) as usize);
        if self.app.handle(ev, data, page) {
            self.dirty = true;
        }
    }
}

impl<B: Backend> Sink for Tui<B> {
    fn interactive(&self) -> bool {
        true
    }

    fn turn(&mut self, session: &Session) -> Control {
        let status = &session.source;
        // Waiting for input is what keeps an idle UI at zero CPU; while packets flow the
        // pipeline calls back every few milliseconds, so do not wait then. The wait is cut
        // in slices so a resize (SIGWINCH, seen by crossterm) is drawn promptly.
        let wait = if status.done || self.app.paused {
            HEARTBEAT
        } else {
            Duration::ZERO
        };
        let deadline = Instant::now() + wait;
        loop {
            let slice = deadline
                .saturating_duration_since(Instant::now())
                .min(RESIZE_CHECK);
            if self.owns_terminal && !wait_for_terminal(slice) {
                return Control::Quit;
            }
            while let Ok(true) = event::poll(Duration::ZERO) {
                match event::read() {
                    Ok(ev) => self.input(&ev, session),
                    Err(_) => break,
                }
            }
            if self.dirty || self.app.quit || Instant::now() >= deadline {
                break;
            }
        }
        if self.app.quit {
            return Control::Quit;
        }

        let since = self.last_draw.map_or(Duration::MAX, |t| t.elapsed());
        let data_changed = self
            .data
            .as_ref()
            .is_none_or(|d| d.generation != session.generation);
        let due = self.dirty
            || (data_changed && since >= MIN_FRAME)
            || since >= HEARTBEAT
            || (status.done && data_changed);
        // A key press redraws from the data at hand at once; new traffic is folded in at
        // most every few hundred milliseconds (and fully when the source has ended).
        if due && self.draw(session, status.done).is_err() {
            return Control::Quit;
        }
        Control::Continue
    }

    fn paused(&self) -> bool {
        self.app.paused
    }
}

impl<B: Backend> Drop for Tui<B> {
    fn drop(&mut self) {
        if self.owns_terminal {
            restore_terminal();
        }
    }
}
