//! NDJSON (`--json`): one JSON object per line, flushed per line, so `| jq` and `| head`
//! see events as they happen. The module events and the summary close the stream.

use crate::present::Event;
use crate::session::sink::Ending;
use crate::session::{Session, Sink};
use serde::Serialize;
use std::io::{self, Write};

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

    pub fn write<T: Serialize>(&mut self, value: &T) -> io::Result<()> {
        self.line.clear();
        serde_json::to_writer(&mut self.line, value).map_err(io::Error::other)?;
        self.line.push(b'\n');
        self.out.write_all(&self.line)?;
        self.out.flush()
    }

    pub fn into_inner(self) -> W {
        self.out
    }
}

impl<W: Write> Sink for NdjsonWriter<W> {
    fn event(&mut self, ev: &Event, _: &Session) -> io::Result<()> {
        self.write(ev)
    }

    fn finish(&mut self, end: &Ending<'_>) -> io::Result<()> {
        for m in end.modules() {
            self.write(m)?;
        }
        self.write(end.summary())
    }
}
