//! HTTP/2 over one connection. [`codec`] reads the frames and HPACK of both directions;
//! the tracker here turns its streams into exchanges, as `http1` does for HTTP/1: a
//! request head is handed to the [`ExchangeHook`](super::hook::ExchangeHook) for a tag,
//! the final response head for a body sink (so every zip on a multiplexed connection is
//! hashed on its own), and each exchange is emitted when its response ends, when its
//! stream is reset (`error: "stream reset: INTERNAL_ERROR"`), or when the server's GOAWAY
//! or the end of the connection leaves it unfinished (`error: "goaway: ..."`).
//!
//! Memory is bounded by the codec's [`Limits`]: streams beyond `max_streams` and header
//! lists beyond `max_header_list` are dropped and counted, never buffered.

pub mod codec;

use super::context::ConnCtx;
use super::hook::BodySink;
use crate::vocab::{Dir, Event, Exchange, Timing, Ts};
use codec::{error_code_name, Counters, Event as H2, H2Conn, Limits};

pub use codec::PREFACE;

/// Does a client's stream start like HTTP/2 (the connection preface, or as much of it
/// as this first chunk holds)?
pub(crate) fn looks_like_preface(data: &[u8]) -> bool {
    let n = data.len().min(PREFACE.len());
    n >= 4 && data[..n] == PREFACE[..n]
}

/// A request waiting for (the end of) its response.
struct Pending {
    ex: Exchange,
    sink: Option<Box<dyn BodySink>>,
    /// Bytes of its body went missing (framing held): it ends with `error: "gap"`.
    gap: bool,
}

/// The exchanges of one HTTP/2 connection: the codec's events paired into requests and
/// responses, timed, with body sinks per stream.
pub struct Http2 {
    conn: H2Conn,
    st: State,
}

/// The tracker's own state, apart from the codec so both can be borrowed at once.
#[derive(Default)]
struct State {
    /// Open exchanges by stream id; never more than the codec's `max_streams`, since a
    /// stream the codec refused gives no request event.
    pending: ahash::AHashMap<u32, Pending>,
    /// Requests seen (the first one paid for reaching the server).
    requests: u64,
    /// What the server's GOAWAY said, for the streams it leaves unfinished.
    goaway: Option<String>,
    /// The server's direction can no longer be decoded (a gap, a protocol error).
    down_broken: Option<&'static str>,
}

impl Default for Http2 {
    fn default() -> Self {
        Self::new(Limits::default())
    }
}

/// Where the codec's events go: the tracker's state and the connection's context.
struct Track<'t, 'c> {
    st: &'t mut State,
    ctx: &'t mut ConnCtx<'c>,
}

impl Http2 {
    pub(crate) fn new(limits: Limits) -> Self {
        Http2 {
            conn: H2Conn::new(limits),
            st: State::default(),
        }
    }

    /// The connection an HTTP/1.1 request upgraded (`Upgrade: h2c`, 101): `ex` is that
    /// request, answered on stream 1, which the client has already half-closed.
    pub(crate) fn upgraded(mut ex: Exchange) -> Self {
        let mut conn = H2Conn::new(Limits::default());
        conn.upgraded();
        ex.http_version = Some("HTTP/2".into());
        let mut st = State {
            requests: 1,
            ..State::default()
        };
        st.pending.insert(
            1,
            Pending {
                ex,
                sink: None,
                gap: false,
            },
        );
        Http2 { conn, st }
    }

    /// What the codec decoded, dropped and skipped on this connection.
    pub(crate) fn counters(&self) -> &Counters {
        self.conn.counters()
    }

    /// Bytes of state held: partial frames and header blocks, and the exchanges waiting for
    /// their response (what the flow table's state bound counts). The HPACK tables are
    /// bounded by `Limits::max_dynamic_table` and not counted here.
    pub(crate) fn state_bytes(&self) -> usize {
        self.conn.buffered_bytes() + self.st.pending.len() * std::mem::size_of::<Pending>()
    }

    #[cfg(test)]
    /// Exchanges waiting for their response.
    pub(crate) fn open_streams(&self) -> usize {
        self.st.pending.len()
    }

    /// Plaintext the client sent.
    pub fn client_data(&mut self, ts: Ts, data: &[u8], ctx: &mut ConnCtx<'_>) {
        self.feed(Dir::Up, ts, data, ctx)
    }

    /// Plaintext the server sent.
    pub fn server_data(&mut self, ts: Ts, data: &[u8], ctx: &mut ConnCtx<'_>) {
        self.feed(Dir::Down, ts, data, ctx)
    }

    fn feed(&mut self, dir: Dir, ts: Ts, data: &[u8], ctx: &mut ConnCtx<'_>) {
        let mut t = Track {
            st: &mut self.st,
            ctx,
        };
        self.conn.feed(dir, ts, data, &mut |ev| t.event(ev));
    }

    /// `n` bytes of `dir` are missing (capture loss, or taps the proxy dropped). Inside a
    /// DATA payload, only that stream's body has a hole (it ends with `error: "gap"`);
    /// anywhere else, that direction cannot be decoded any more (frame sync and HPACK
    /// state are lost).
    pub(crate) fn gap(&mut self, dir: Dir, ts: Ts, n: u64, ctx: &mut ConnCtx<'_>) {
        if dir == Dir::Down && !self.conn.gap_keeps_sync(dir, n) {
            self.st.down_broken = Some("gap");
        }
        let mut t = Track {
            st: &mut self.st,
            ctx,
        };
        self.conn.gap(dir, ts, n, &mut |ev| t.event(ev));
    }

    /// The connection is over (`reset`: by RST); streams still open end with an error.
    pub fn close(&mut self, reset: bool, ts: Ts, ctx: &mut ConnCtx<'_>) {
        let mut t = Track {
            st: &mut self.st,
            ctx,
        };
        self.conn.close(ts, &mut |ev| t.event(ev));
        // Streams the codec no longer knew (dropped mid-way) but we still hold.
        let mut left: Vec<u32> = t.st.pending.keys().copied().collect();
        left.sort_unstable();
        for id in left {
            t.unfinished(id, ts, reset);
        }
    }
}

impl Track<'_, '_> {
    fn event(&mut self, ev: H2<'_>) {
        match ev {
            H2::Request {
                stream,
                ts,
                method,
                scheme,
                authority,
                path,
                headers,
                ..
            } => self.request(stream, ts, method, scheme, authority, path, headers),
            H2::Response {
                stream,
                ts,
                status,
                headers,
                end_stream,
            } => {
                self.response(stream, ts, status, &headers);
                if end_stream {
                    self.complete(stream, ts, None);
                }
            }
            H2::Informational { stream, ts, .. } => {
                if let Some(p) = self.st.pending.get_mut(&stream) {
                    p.ex.first_byte_at.get_or_insert(ts);
                }
            }
            H2::Trailers {
                stream,
                dir: Dir::Down,
                ts,
                end_stream: true,
            } => self.complete(stream, ts, None),
            H2::Trailers { .. } => {}
            H2::Data {
                stream,
                dir,
                ts,
                data,
                end_stream,
            } => {
                let Some(p) = self.st.pending.get_mut(&stream) else {
                    return;
                };
                match dir {
                    Dir::Up => p.ex.req_bytes += data.len() as u64,
                    Dir::Down => {
                        p.ex.resp_bytes += data.len() as u64;
                        p.ex.last_byte_at = Some(ts);
                        // After a hole the body cannot be hashed: its sink is fed no more.
                        if let Some(sink) = p.sink.as_mut().filter(|_| !p.gap) {
                            sink.feed(data);
                        }
                        if end_stream {
                            self.complete(stream, ts, None);
                        }
                    }
                }
            }
            H2::DataGap {
                stream,
                dir,
                ts,
                len,
                end_stream,
            } => {
                let Some(p) = self.st.pending.get_mut(&stream) else {
                    return;
                };
                if !std::mem::replace(&mut p.gap, true) && dir == Dir::Down {
                    if let Some(sink) = &mut p.sink {
                        sink.gap();
                    }
                }
                match dir {
                    Dir::Up => p.ex.req_bytes += len,
                    Dir::Down => {
                        p.ex.resp_bytes += len;
                        p.ex.last_byte_at = Some(ts);
                        if end_stream {
                            self.complete(stream, ts, None);
                        }
                    }
                }
            }
            H2::Reset {
                stream,
                dir,
                ts,
                code,
            } => {
                // A client that stops reading a response it has the head of (the go
                // command does, for the body of a 404) cancels the stream: the exchange
                // is over, not failed, though its body was not seen in full.
                let answered = self
                    .st
                    .pending
                    .get(&stream)
                    .is_some_and(|p| p.ex.status.is_some());
                let error = match dir {
                    Dir::Up if answered && (code == CANCEL || code == NO_ERROR) => None,
                    Dir::Up => Some(format!("stream reset by client: {}", error_code_name(code))),
                    Dir::Down => Some(format!("stream reset: {}", error_code_name(code))),
                };
                if let Some(p) = self.st.pending.remove(&stream) {
                    emit(p, Some(ts), error, false, self.ctx);
                }
            }
            H2::GoAway {
                dir: Dir::Down,
                ts,
                last_stream,
                code,
                debug,
            } => self.goaway(ts, last_stream, code, &debug),
            // A client's GOAWAY (it is closing) ends nothing by itself.
            H2::GoAway { .. } => {}
            H2::Dropped {
                stream, ts, reason, ..
            } => {
                // The codec refused the stream (limits): an exchange already open for it
                // ends here, saying why.
                if self.st.pending.contains_key(&stream) {
                    self.complete(stream, ts, Some(format!("dropped: {reason}")));
                }
            }
            H2::Broken {
                dir: Dir::Down, ts, ..
            } => {
                // Nothing more of any response can be read: every open exchange ends.
                let error = self.st.down_broken.unwrap_or("malformed");
                self.st.down_broken = Some(error);
                let mut open: Vec<u32> = self.st.pending.keys().copied().collect();
                open.sort_unstable();
                for id in open {
                    self.complete(id, ts, Some(error.to_string()));
                }
            }
            // The client's side broke: responses still pair with the requests already
            // seen; later ones arrive as responses without a request.
            H2::Broken { dir: Dir::Up, .. } => {}
            H2::Unfinished { stream, ts } => self.unfinished(stream, ts, false),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn request(
        &mut self,
        stream: u32,
        ts: Ts,
        method: String,
        scheme: String,
        authority: String,
        path: String,
        headers: Vec<(String, String)>,
    ) {
        let ctx = &mut *self.ctx;
        self.st.requests += 1;
        let host = (!authority.is_empty())
            .then_some(authority.as_str())
            .or_else(|| header(&headers, "host"));
        let mut url = ctx.url(host, &path);
        // The request says its scheme; the connection's is only a default.
        if !scheme.is_empty() && !url.starts_with(&format!("{scheme}:")) {
            if let Some((_, rest)) = url.split_once("://") {
                url = format!("{scheme}://{rest}");
            }
        }
        let mut ex = Exchange {
            url: Some(url),
            method: Some(method),
            http_version: Some("HTTP/2".into()),
            user_agent: header(&headers, "user-agent").map(str::to_string),
            authorization: header(&headers, "authorization")
                .map(crate::vocab::event::authorization_summary),
            // On HTTP/2 every stream shares one connection: the first request paid for
            // reaching the server, later ones show the connection as reused.
            setup: if self.st.requests == 1 {
                ctx.setup
            } else {
                Default::default()
            },
            ..ctx.exchange(ts)
        };
        ex.timing.reused = self.st.requests > 1;
        let tag = ctx.hook.request(&ex);
        ex.go = tag.go;
        ex.redirect_of = tag.redirect_of;
        if let Some(old) = self.st.pending.insert(
            stream,
            Pending {
                ex,
                sink: None,
                gap: false,
            },
        ) {
            // A stream id used twice (only after lost bytes): the old one is over.
            emit(old, Some(ts), Some("gap".into()), false, ctx);
        }
    }

    fn response(&mut self, stream: u32, ts: Ts, status: u16, headers: &[(String, String)]) {
        let ctx = &mut *self.ctx;
        if !self.st.pending.contains_key(&stream) {
            // A response whose request was not seen (the client's side broke).
            let ex = Exchange {
                http_version: Some("HTTP/2".into()),
                ..ctx.exchange(ts)
            };
            self.st.pending.insert(
                stream,
                Pending {
                    ex,
                    sink: None,
                    gap: false,
                },
            );
        }
        let Some(p) = self.st.pending.get_mut(&stream) else {
            return;
        };
        p.ex.first_byte_at.get_or_insert(ts);
        p.ex.last_byte_at = Some(ts);
        p.ex.status = (status != 0).then_some(status);
        p.ex.location = header(headers, "location").map(|l| ctx.redact(l));
        p.ex.content_type = header(headers, "content-type").map(str::to_string);
        p.sink = ctx.hook.response(&p.ex);
    }

    /// The stream is over: its exchange is emitted (with `error`, if any; its body was
    /// complete when there is none).
    fn complete(&mut self, stream: u32, ts: Ts, error: Option<String>) {
        if let Some(p) = self.st.pending.remove(&stream) {
            let error = error.or_else(|| p.gap.then(|| "gap".to_string()));
            let complete = error.is_none();
            emit(p, Some(ts), error, complete, self.ctx);
        }
    }

    fn goaway(&mut self, ts: Ts, last_stream: u32, code: u32, debug: &str) {
        let mut msg = format!("goaway: {}", error_code_name(code));
        let debug: String = debug.chars().filter(|c| !c.is_control()).take(80).collect();
        if !debug.is_empty() {
            msg.push_str(&format!(" ({debug})"));
        }
        // Streams above the last one the server says it processed were never handled.
        let mut unprocessed: Vec<u32> = self
            .st
            .pending
            .keys()
            .copied()
            .filter(|&id| id > last_stream)
            .collect();
        unprocessed.sort_unstable();
        for id in unprocessed {
            self.complete(id, ts, Some(msg.clone()));
        }
        self.st.goaway = Some(msg);
    }

    /// The connection ended with this stream open.
    fn unfinished(&mut self, stream: u32, ts: Ts, reset: bool) {
        let Some(p) = self.st.pending.remove(&stream) else {
            return;
        };
        let answered = p.ex.first_byte_at.is_some();
        let error = match (&self.st.goaway, self.st.down_broken, reset, answered) {
            (Some(g), ..) => g.clone(),
            (None, Some(b), ..) => b.to_string(),
            (None, None, true, _) => "reset".into(),
            (None, None, false, true) => "incomplete".into(),
            (None, None, false, false) => "no-response".into(),
        };
        let end = answered.then_some(ts);
        emit(p, end, Some(error), false, self.ctx);
    }
}

fn header<'h>(headers: &'h [(String, String)], name: &str) -> Option<&'h str> {
    headers
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

/// HTTP/2 error codes a client uses to stop a stream it no longer wants (RFC 9113 §7).
const NO_ERROR: u32 = 0x0;
const CANCEL: u32 = 0x8;

fn emit(p: Pending, end: Option<Ts>, error: Option<String>, complete: bool, ctx: &mut ConnCtx<'_>) {
    let mut ex = p.ex;
    if let Some(sink) = p.sink {
        ex.body = sink.finish(complete);
    }
    ex.error = error;
    if let Some(end) = end {
        if ex.first_byte_at.is_some() {
            ex.last_byte_at = Some(ex.last_byte_at.map_or(end, |l| l.max(end)));
        }
    }
    ex.timing = Timing::measure(&ex, ex.timing.reused, ctx.setup.path);
    ctx.out.push(Event::Exchange(Box::new(ex)));
}

#[cfg(test)]
mod tests;
