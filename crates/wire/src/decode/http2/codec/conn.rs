//! The connection's API ([`H2Conn`]): both directions fed in capture order, gaps,
//! close, and what the codec holds. Each direction's frame state machine is in `side`.

use super::event::Event;
use super::frames::PREFACE;
use super::limits::{Counters, Limits};
use super::side::{payload_room, Cx, Phase, Side};
use super::streams::Streams;
use crate::vocab::{Dir, Ts};

/// One HTTP/2 connection's codec, fed both directions' plaintext in capture order.
pub struct H2Conn {
    limits: Limits,
    up: Side,
    down: Side,
    streams: Streams,
    counters: Counters,
    closed: bool,
}

impl H2Conn {
    /// A codec within `limits`.
    pub fn new(limits: Limits) -> H2Conn {
        H2Conn {
            up: Side::new(Dir::Up, &limits),
            down: Side::new(Dir::Down, &limits),
            streams: Streams::new(limits.max_streams),
            counters: Counters::default(),
            closed: false,
            limits,
        }
    }

    /// After an HTTP/1.1 upgrade (RFC 7540 §3.2): stream 1 is open, its request sent (the
    /// HTTP/1.1 one) and ended by the client.
    pub(crate) fn upgraded(&mut self) {
        if self.streams.open(1) {
            self.counters.streams_opened += 1;
            if let Some(s) = self.streams.get_mut(1) {
                s.request = true;
                s.up_ended = true;
            }
        }
    }

    /// Does this look like the start of a client's HTTP/2 stream? True when
    /// `client_bytes` begins with the whole 24-byte connection preface.
    pub fn detect(client_bytes: &[u8]) -> bool {
        client_bytes.starts_with(PREFACE)
    }

    /// Decode the next `data` of `dir`, captured at `ts`.
    pub fn feed<'a>(&mut self, dir: Dir, ts: Ts, data: &'a [u8], out: &mut dyn FnMut(Event<'a>)) {
        if self.closed {
            self.counters.bytes_skipped += data.len() as u64;
            return;
        }
        let mut cx = self.cx(dir);
        let mut rest = data;
        while !rest.is_empty() {
            let n = cx.step(ts, rest, out).min(rest.len());
            if n == 0 && !matches!(cx.me.phase, Phase::Broken) {
                // Every phase but a failed preface consumes input; never spin.
                cx.counters.bytes_skipped += rest.len() as u64;
                break;
            }
            rest = rest.get(n..).unwrap_or_default();
        }
    }

    /// `n` bytes of `dir` are missing from the capture. When they all lie inside the
    /// DATA payload being read, framing and HPACK state hold: the stream is told its body
    /// has a hole ([`Event::DataGap`]) and decoding goes on. Otherwise frame sync and
    /// HPACK state are lost for that direction.
    pub fn gap(&mut self, dir: Dir, ts: Ts, n: u64, out: &mut dyn FnMut(Event<'_>)) {
        self.counters.bytes_skipped = self.counters.bytes_skipped.saturating_add(n);
        if self.closed || n == 0 {
            return;
        }
        let mut cx = self.cx(dir);
        if cx.data_gap(ts, n, out) {
            return;
        }
        if !matches!(cx.me.phase, Phase::Broken) {
            cx.broken(ts, format!("gap of {n} bytes"), out);
        }
    }

    /// Whether a gap of `n` bytes in `dir` now would leave decoding in step (see `gap`).
    pub(crate) fn gap_keeps_sync(&self, dir: Dir, n: u64) -> bool {
        let side = match dir {
            Dir::Up => &self.up,
            Dir::Down => &self.down,
        };
        !self.closed && n > 0 && payload_room(side.phase).is_some_and(|left| n <= left as u64)
    }

    /// The connection ended: report streams still open. Later input is
    /// counted as skipped.
    pub fn close(&mut self, ts: Ts, out: &mut dyn FnMut(Event<'_>)) {
        if self.closed {
            return;
        }
        self.closed = true;
        for (stream, _) in self.streams.drain_sorted() {
            out(Event::Unfinished { stream, ts });
        }
        for side in [&mut self.up, &mut self.down] {
            side.block = None;
            side.buf = Vec::new();
        }
    }

    /// What it decoded, dropped and skipped so far.
    pub fn counters(&self) -> &Counters {
        &self.counters
    }

    /// Streams currently tracked.
    pub fn open_streams(&self) -> usize {
        self.streams.len()
    }

    /// Payload bytes currently buffered (partial frames, pending header
    /// blocks), for checking that memory stays bounded.
    pub fn buffered_bytes(&self) -> usize {
        [&self.up, &self.down]
            .iter()
            .map(|s| s.buf.capacity() + s.block.as_ref().map_or(0, |b| b.bytes.capacity()))
            .sum()
    }

    /// Whether decoding of `dir` has stopped.
    pub fn is_broken(&self, dir: Dir) -> bool {
        let side = match dir {
            Dir::Up => &self.up,
            Dir::Down => &self.down,
        };
        matches!(side.phase, Phase::Broken)
    }

    fn cx(&mut self, dir: Dir) -> Cx<'_> {
        let (me, other) = match dir {
            Dir::Up => (&mut self.up, &mut self.down),
            Dir::Down => (&mut self.down, &mut self.up),
        };
        Cx {
            me,
            other,
            streams: &mut self.streams,
            counters: &mut self.counters,
            limits: &self.limits,
        }
    }
}
