//! What every view is to the pipeline: something that hears each event after the session
//! has applied it, may take turns while packets flow (a front end), and finishes when the
//! input ends.

use super::model::Session;
use crate::present::{ModuleView, Summary};
use gomodwatch_wire::vocab::Event;
use std::cell::OnceCell;
use std::io;

/// What a front end wants after its turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    /// Keep going.
    Continue,
    /// The user asked to quit.
    Quit,
}

/// The end of a run as views see it: the session, and its module verdicts and summary,
/// derived once for every view that asks.
pub struct Ending<'a> {
    /// The session at its end.
    pub session: &'a Session,
    derived: OnceCell<(Vec<ModuleView>, Summary)>,
}

impl<'a> Ending<'a> {
    /// The end of `session` (verdicts derived when first asked for).
    pub fn new(session: &'a Session) -> Self {
        Ending {
            session,
            derived: OnceCell::new(),
        }
    }

    fn derived(&self) -> &(Vec<ModuleView>, Summary) {
        self.derived.get_or_init(|| {
            let modules = self.session.modules();
            let summary = self.session.summary(&modules);
            (modules, summary)
        })
    }

    /// Every module held in full, with its verdict, oldest first.
    pub fn modules(&self) -> &[ModuleView] {
        &self.derived().0
    }

    /// The run's summary.
    pub fn summary(&self) -> &Summary {
        &self.derived().1
    }
}

/// A view, to the pipeline: it hears every event, may take turns, and finishes.
pub trait Sink {
    /// An event, after the session applied it.
    fn event(&mut self, _ev: &Event, _session: &Session) -> io::Result<()> {
        Ok(())
    }

    /// A turn between slices of decoding and while the source is idle (front ends).
    fn turn(&mut self, _session: &Session) -> Control {
        Control::Continue
    }

    /// Whether decoding should pause (the user pressed `p`).
    fn paused(&self) -> bool {
        false
    }

    /// A front end keeps the run open after the source ended, until the user quits.
    fn interactive(&self) -> bool {
        false
    }

    /// The input is over.
    fn finish(&mut self, _end: &Ending<'_>) -> io::Result<()> {
        Ok(())
    }
}
