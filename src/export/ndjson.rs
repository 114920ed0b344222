//! NDJSON: one JSON object per line, flushed per line, so `| jq` and `| head` see events
//! as they happen.

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
