//! NDJSON (`--json`): one JSON object per line, flushed per line, so `| jq` and `| head`
//! see events as they happen. The module events, the time budget and the summary close
//! the stream (a module folded out of memory on a long run gets its event when it is
//! folded).

use super::rotate::RotatingFile;
use crate::present::Event;
use crate::session::sink::Ending;
use crate::session::{Control, Session, Sink};
use serde::Serialize;
use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

pub struct NdjsonWriter<W: Write> {
    out: W,
    line: Vec<u8>,
}

impl<W: Write> NdjsonWriter<W> {
    pub fn new(out: W) -> Self {
        NdjsonWriter {
            out,
            line: Vec::with_capacity(1024),
        }
    }

    pub(crate) fn write<T: Serialize>(&mut self, value: &T) -> io::Result<()> {
        self.line.clear();
        serde_json::to_writer(&mut self.line, value).map_err(io::Error::other)?;
        self.line.push(b'\n');
        self.out.write_all(&self.line)?;
        self.out.flush()
    }
}

impl<W: Write> Sink for NdjsonWriter<W> {
    fn event(&mut self, ev: &Event, session: &Session) -> io::Result<()> {
        self.write(ev)?;
        // Modules folded out of memory are told now: every module gets its event.
        for m in &session.folded_now {
            self.write(m)?;
        }
        Ok(())
    }

    fn finish(&mut self, end: &Ending<'_>) -> io::Result<()> {
        for m in end.modules() {
            self.write(m)?;
        }
        // Before the summary, which stays the last line.
        if let Some(b) = end.session.budget() {
            self.write(&b)?;
        }
        self.write(end.summary())
    }
}

/// `--output FILE`: NDJSON into a file that rotates by size and is opened again by name
/// when `reopen` is raised (SIGHUP, after an external logrotate moved it).
pub struct NdjsonFile {
    w: NdjsonWriter<RotatingFile>,
    reopen: Arc<AtomicBool>,
}

impl NdjsonFile {
    pub fn new(file: RotatingFile, reopen: Arc<AtomicBool>) -> Self {
        NdjsonFile {
            w: NdjsonWriter::new(file),
            reopen,
        }
    }

    fn reopen_if_asked(&mut self) -> io::Result<()> {
        if self.reopen.swap(false, Ordering::Relaxed) {
            let f = &mut self.w.out;
            f.reopen().map_err(|e| {
                io::Error::new(e.kind(), format!("reopening {}: {e}", f.path().display()))
            })?;
        }
        Ok(())
    }
}

impl Sink for NdjsonFile {
    fn event(&mut self, ev: &Event, session: &Session) -> io::Result<()> {
        self.reopen_if_asked()?;
        self.w.event(ev, session)
    }

    fn turn(&mut self, _: &Session) -> Control {
        if let Err(e) = self.reopen_if_asked() {
            eprintln!("gomodwatch: {e}");
        }
        Control::Continue
    }

    fn finish(&mut self, end: &Ending<'_>) -> io::Result<()> {
        self.reopen_if_asked()?;
        self.w.finish(end)
    }
}
