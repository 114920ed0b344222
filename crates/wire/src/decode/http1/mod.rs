//! HTTP/1.x over a reassembled TCP connection. [`codec`] reads each direction's messages;
//! the tracker here pairs requests with responses on keep-alive and pipelined connections,
//! re-pairs them by the server's acknowledgments after lost packets, times them, asks the
//! [`ExchangeHook`](super::hook::ExchangeHook) to tag them, and emits exchange events.

pub mod codec;
pub(crate) mod framing;
mod gaps;
pub mod head;

use super::context::{Close, ConnCtx};
use super::hook::BodySink;
use crate::vocab::{Event, Exchange, Timing, Ts};
use codec::{Item, Reader};
use head::{Head, Role, Unreadable};
use std::collections::VecDeque;

pub use codec::{looks_like_request, looks_like_response};

/// Client bytes held after a CONNECT until the proxy answers it; past this the client is
/// not waiting for a tunnel, and the bytes are read as HTTP again.
const MAX_CONNECT_HOLD: usize = 64 << 10;

/// A CONNECT answered 2xx: from here on the stream is a tunnel to `target`.
pub(crate) struct TunnelStart {
    /// `host:port` asked of the proxy.
    pub(crate) target: String,
    /// When the proxy's answer ended, and how long the CONNECT took.
    pub(crate) ts: Ts,
    pub(crate) connect_ms: f64,
    /// Where in the server chunk being read the tunnel's first byte is.
    pub(crate) offset: usize,
    /// Client bytes sent after the CONNECT, before the answer: the tunnel's first ones.
    pub(crate) up: Vec<u8>,
}

/// A request with `Upgrade: h2c` answered 101: from here on the connection speaks HTTP/2,
/// and stream 1 carries the answer to `ex` (RFC 7540 §3.2).
pub(crate) struct H2cStart {
    /// The upgraded request, not yet answered.
    pub(crate) ex: Box<Exchange>,
    /// Where in the server chunk being read the server's HTTP/2 begins.
    pub(crate) offset: usize,
    /// Client bytes sent after the request, before the 101: its connection preface.
    pub(crate) up: Vec<u8>,
}

/// The connection stops being HTTP/1 (`server_data`'s answer).
pub(crate) enum Switch {
    Tunnel(TunnelStart),
    H2c(H2cStart),
}

/// Requests waiting for a response on one connection. The go command never pipelines (one
/// request at a time per connection), so only hostile or unusual traffic comes near this.
pub(crate) const MAX_PENDING: usize = 1024;

/// The error of a request past [`MAX_PENDING`] (see `Stats::requests_dropped`).
pub(crate) const DROPPED: &str = "dropped: too many pending requests";
/// The error of a request whose server's packets are not in the capture.
pub(crate) const ONE_WAY: &str = "one-way";
/// The error of a request whose connection was evicted before its response ended.
pub(crate) const EVICTED: &str = "evicted";

/// A request waiting for (the end of) its response.
struct Pending {
    ex: Exchange,
    head_request: bool,
    connect: bool,
    /// It asked to upgrade to h2c.
    h2c: bool,
    sink: Option<Box<dyn BodySink>>,
    /// Response bytes went missing: the exchange is reported with error "gap".
    gap: bool,
    /// The request body is still being read.
    req_open: bool,
    /// Where the request began in the client's stream.
    req_off: u64,
    /// The request's own framing was invalid: its error, unless the response has a worse one.
    req_error: Option<String>,
    /// Stands for a dropped request's response: read past, never reported.
    placeholder: bool,
    /// What it counts for in `Http1::pending_bytes`.
    cost: usize,
}

impl Pending {
    /// An exchange waiting for its response, with nothing yet known about either body.
    fn new(ex: Exchange) -> Pending {
        Pending {
            ex,
            head_request: false,
            connect: false,
            h2c: false,
            sink: None,
            gap: false,
            req_open: false,
            req_off: 0,
            req_error: None,
            placeholder: false,
            cost: 0,
        }
    }

    /// Heap bytes it holds, roughly (its own size is counted with the queue's capacity).
    fn estimate(&self) -> usize {
        let ex = &self.ex;
        let text = |s: &Option<String>| s.as_ref().map_or(0, String::len);
        text(&ex.url)
            + text(&ex.method)
            + text(&ex.http_version)
            + text(&ex.user_agent)
            + text(&self.req_error)
            + 256 // the `go` tags and small allocations
    }
}

pub(crate) struct Http1 {
    up: Reader,
    down: Reader,
    pending: VecDeque<Pending>,
    /// What `pending` holds, as estimated when each entry was queued.
    pending_bytes: usize,
    /// Requests past [`MAX_PENDING`] (already reported as dropped) whose responses are
    /// still to come, after those of `pending`.
    dropped: u64,
    /// Requests seen on this connection (the first one pays for the connection setup).
    requests: u64,
    /// Bytes of the client's stream handed to the parser so far (gaps included).
    up_off: u64,
    /// Where the request whose head is being read began in the client's stream.
    req_start: u64,
    /// The server side just found a message start again after lost bytes.
    resynced: bool,
    /// A CONNECT (or an `Upgrade: h2c` request) is waiting for its answer: the client's
    /// bytes since.
    connect_hold: Option<Vec<u8>>,
    /// The CONNECT was answered 2xx, or the upgrade 101: the stream is HTTP/1 no more
    /// (taken by `server_data`).
    switch: Option<Switch>,
}

impl Default for Http1 {
    fn default() -> Self {
        Self::new()
    }
}

impl Http1 {
    pub(crate) fn new() -> Self {
        Http1 {
            up: Reader::new(Role::Request),
            down: Reader::new(Role::Response),
            pending: VecDeque::new(),
            pending_bytes: 0,
            dropped: 0,
            requests: 0,
            up_off: 0,
            req_start: 0,
            resynced: false,
            connect_hold: None,
            switch: None,
        }
    }

    /// A connection joined mid-stream: both sides start by looking for a message start.
    pub(crate) fn resyncing() -> Self {
        Http1 {
            up: Reader::resyncing(Role::Request),
            down: Reader::resyncing(Role::Response),
            ..Self::new()
        }
    }

    /// Bytes of state held: buffers of both readers and the requests waiting.
    pub(crate) fn state_bytes(&self) -> usize {
        self.up.state_bytes()
            + self.down.state_bytes()
            + self.pending.capacity() * std::mem::size_of::<Pending>()
            + self.pending_bytes
    }

    fn push(&mut self, mut p: Pending) {
        p.cost = p.estimate();
        self.pending_bytes += p.cost;
        self.pending.push_back(p);
    }

    fn pop(&mut self) -> Option<Pending> {
        let p = self.pending.pop_front()?;
        self.pending_bytes -= p.cost;
        if self.pending.is_empty() && self.pending.capacity() > 8 {
            // A burst of requests is over: give its queue back.
            self.pending = VecDeque::new();
        }
        Some(p)
    }

    /// The request whose body is being read: only the newest request can have one (the
    /// next request starts after its body), so this is O(1).
    fn open_request(&mut self) -> Option<&mut Pending> {
        self.pending.back_mut().filter(|p| p.req_open)
    }

    pub(crate) fn client_data(&mut self, ts: Ts, data: &[u8], ctx: &mut ConnCtx<'_>) {
        if self.hold_for_tunnel(data) {
            return;
        }
        let mut off = 0;
        while off < data.len() {
            let (used, item) = self.up.next(ts, &data[off..]);
            let here = self.up_off + off as u64;
            off += used;
            match item {
                Some(Item::Start(_)) => self.req_start = here + used as u64,
                Some(Item::Head(h)) => {
                    // What follows a CONNECT is the tunnel's, if the proxy agrees; what
                    // follows an upgrade request is HTTP/2, if the server agrees.
                    let switching = h.method == "CONNECT" || upgrades_h2c(&h);
                    self.request(*h, ctx);
                    if switching {
                        self.up_off += off as u64;
                        self.connect_hold = Some(Vec::new());
                        self.hold_for_tunnel(&data[off..]);
                        return;
                    }
                }
                Some(Item::Body(b)) => {
                    if let Some(p) = self.open_request() {
                        p.ex.req_bytes += b.len() as u64;
                    }
                }
                Some(Item::End | Item::Malformed) => self.end_request_body(),
                Some(Item::Resynced | Item::Unparsable(_)) | None => {}
            }
        }
        // A body that ended with the last byte still has its `End` to hand out.
        if let (0, Some(Item::End)) = self.up.next(ts, &[]) {
            self.end_request_body();
        }
        self.up_off += data.len() as u64;
    }

    /// While a CONNECT waits for its answer, client bytes are held (bounded): they are
    /// the tunnel's if the proxy says yes. Returns whether `data` was held.
    fn hold_for_tunnel(&mut self, data: &[u8]) -> bool {
        let Some(held) = &mut self.connect_hold else {
            return false;
        };
        if held.len() + data.len() > MAX_CONNECT_HOLD {
            self.connect_hold = None;
            return false;
        }
        held.extend_from_slice(data);
        true
    }

    fn end_request_body(&mut self) {
        if let Some(p) = self.open_request() {
            p.req_open = false;
        }
    }

    fn request(&mut self, h: Head, ctx: &mut ConnCtx<'_>) {
        let h2c = upgrades_h2c(&h);
        // A request whose framing is invalid: where its body ends is unknown, so the next
        // request is looked for (a server answers 400 and closes).
        let req_error = h
            .malformed
            .as_ref()
            .map(|m| format!("malformed request: {m}"));
        let body = if req_error.is_some() {
            ctx.stats.malformed += 1;
            self.up.resync();
            None
        } else {
            let body = h.request_body();
            self.up.expect(body.clone());
            body
        };
        self.requests += 1;
        let mut ex = Exchange {
            url: Some(ctx.url(h.host.as_deref(), &h.target)),
            method: Some(h.method),
            http_version: Some(format!("HTTP/1.{}", h.minor)),
            user_agent: h.user_agent,
            authorization: h.authorization,
            via: ctx
                .via
                .or_else(|| h.target.contains("://").then_some(ctx.server)),
            // The first request on a connection paid for reaching the server.
            setup: if self.requests == 1 {
                ctx.setup
            } else {
                Default::default()
            },
            ..ctx.exchange(h.started)
        };
        ex.timing.reused = self.requests > 1;
        let tag = ctx.hook.request(&ex);
        ex.go = tag.go;
        ex.redirect_of = tag.redirect_of;
        let method = ex.method.as_deref().unwrap_or("");
        let p = Pending {
            head_request: method == "HEAD",
            connect: method == "CONNECT",
            h2c,
            req_open: body.is_some(),
            req_off: self.req_start,
            req_error,
            ..Pending::new(ex)
        };
        // Past the bound (or while earlier requests past it still wait, to keep the
        // pairing in order) a request is reported at once and not kept.
        if self.pending.len() >= MAX_PENDING || self.dropped > 0 {
            self.dropped += 1;
            ctx.stats.requests_dropped += 1;
            emit(p, None, Some(DROPPED), ctx);
            return;
        }
        self.push(p);
    }

    /// Reads the server's bytes; `Some` when a CONNECT was answered 2xx in them, or an
    /// upgrade to h2c 101: the rest of the stream (from the returned offset) is the
    /// tunnel's, or HTTP/2.
    pub(crate) fn server_data(
        &mut self,
        ts: Ts,
        data: &[u8],
        ctx: &mut ConnCtx<'_>,
    ) -> Option<Switch> {
        let whole = data;
        let mut data = data;
        while !data.is_empty() {
            let (used, item) = self.down.next(ts, data);
            data = &data[used..];
            match item {
                Some(Item::Start(at)) => self.response_start(at, ctx),
                Some(Item::Head(h)) => self.response(ts, *h, ctx),
                Some(Item::Body(b)) => {
                    if let Some(p) = self.pending.front_mut() {
                        p.ex.resp_bytes += b.len() as u64;
                        p.ex.last_byte_at = Some(ts);
                        if let Some(sink) = &mut p.sink {
                            sink.feed(b);
                        }
                    }
                }
                Some(Item::End) => self.complete_response(ts, None, ctx),
                Some(Item::Malformed) => {
                    ctx.stats.malformed += 1;
                    self.complete_response(ts, Some("malformed: invalid chunked encoding"), ctx)
                }
                Some(Item::Resynced) => self.resynced = true,
                // The front request got an answer that cannot be read: say so, rather than
                // let it look unanswered.
                Some(Item::Unparsable(why)) => {
                    let error = match why {
                        Unreadable::TooLarge => format!("unreadable: response {why}"),
                        Unreadable::NotHttp => "malformed: not an HTTP/1.x response".into(),
                        Unreadable::LeadingWhitespace => format!("malformed: {why}"),
                    };
                    if why != Unreadable::TooLarge {
                        ctx.stats.malformed += 1;
                    }
                    self.complete_response(ts, Some(&error), ctx)
                }
                None => {}
            }
            if let Some(mut switch) = self.switch.take() {
                let offset = whole.len() - data.len();
                match &mut switch {
                    Switch::Tunnel(t) => t.offset = offset,
                    Switch::H2c(h) => h.offset = offset,
                }
                return Some(switch);
            }
        }
        // A body that ended with the last byte still has its `End` to hand out.
        if let (0, Some(Item::End)) = self.down.next(ts, &[]) {
            self.complete_response(ts, None, ctx);
        }
        None
    }

    /// The first byte of a response: time to first byte for the oldest request.
    fn response_start(&mut self, ts: Ts, ctx: &mut ConnCtx<'_>) {
        if std::mem::take(&mut self.resynced) {
            self.drop_lost_responses(ctx);
        }
        if self.pending.is_empty() {
            if self.dropped > 0 {
                // It answers a request that was dropped (and reported): read past it.
                self.dropped -= 1;
                self.push(placeholder(ts, ctx));
            } else {
                self.push(orphan_response(ts, ctx));
            }
        }
        if let Some(p) = self.pending.front_mut() {
            p.ex.first_byte_at.get_or_insert(ts);
        }
    }

    fn response(&mut self, ts: Ts, h: Head, ctx: &mut ConnCtx<'_>) {
        let Some(p) = self.pending.front_mut() else {
            return;
        };
        p.ex.last_byte_at = Some(ts);
        if let Some(m) = &h.malformed {
            // net/http rejects the whole response: the go command never sees its status,
            // and where its body ends is unknown, so the next response is looked for.
            let error = format!("malformed: {m}");
            ctx.stats.malformed += 1;
            self.down.resync();
            self.complete_response(ts, Some(&error), ctx);
            return;
        }
        if h.is_interim() {
            return;
        }
        if p.placeholder {
            // The answer to a dropped request: keep the framing, tell nobody.
            let tunnel = h.status == 101;
            match h.response_body(false, tunnel) {
                Some(f) => self.down.expect(Some(f)),
                None => self.complete_response(ts, None, ctx),
            }
            return;
        }
        p.ex.status = Some(h.status);
        p.ex.location = h.location.as_deref().map(|l| ctx.redact(l));
        p.ex.content_type = h.content_type.clone();
        if p.ex.http_version.is_none() {
            p.ex.http_version = Some(format!("HTTP/1.{}", h.minor));
        }
        p.ex.proxy_authenticate = h.proxy_authenticate.clone();
        if p.h2c && h.status == 101 && h.upgrade_h2c {
            // Its answer comes on HTTP/2 stream 1: the exchange goes on there.
            p.ex.status = None;
            let up = self.connect_hold.take().unwrap_or_default();
            if let Some(p) = self.pop() {
                self.switch = Some(Switch::H2c(H2cStart {
                    ex: Box::new(p.ex),
                    offset: 0,
                    up,
                }));
            }
            self.up.stop();
            self.down.stop();
            return;
        }
        p.sink = ctx.hook.response(&p.ex);
        let switching = p.connect || p.h2c;
        let opened = p.connect && (200..300).contains(&h.status);
        if opened {
            self.switch = Some(Switch::Tunnel(TunnelStart {
                target: p.ex.url.clone().unwrap_or_default(),
                ts,
                connect_ms: ts.ms_since(p.ex.ts),
                offset: 0,
                up: self.connect_hold.take().unwrap_or_default(),
            }));
        }
        let upgraded = h.status == 101 || opened;
        match h.response_body(p.head_request, upgraded) {
            Some(f) => self.down.expect(Some(f)),
            None => {
                self.complete_response(ts, None, ctx);
                if upgraded {
                    self.up.stop();
                    self.down.stop();
                }
            }
        }
        if switching && !opened {
            // Refused: what the client sent meanwhile is HTTP again.
            if let Some(held) = self.connect_hold.take() {
                self.client_data(ts, &held, ctx);
            }
        }
    }

    /// The front request's response is complete (or abandoned with `error`).
    fn complete_response(&mut self, ts: Ts, error: Option<&str>, ctx: &mut ConnCtx<'_>) {
        if let Some(p) = self.pop() {
            let error = error.or(p.gap.then_some("gap"));
            emit(p, Some(ts), error, ctx);
        }
    }

    /// The server closed its side (FIN).
    pub(crate) fn server_fin(&mut self, ts: Ts, ctx: &mut ConnCtx<'_>) {
        if let Some(clean) = self.down.fin() {
            self.complete_response(ts, (!clean).then_some("incomplete"), ctx);
        }
        while let Some(p) = self.pop() {
            emit(p, None, Some("no-response"), ctx);
        }
        self.dropped = 0;
    }

    /// The connection is over: reset (RST), not seen to its end (capture ended, idle), or
    /// evicted by the decoder (then nothing can be said about the answers).
    pub(crate) fn close(&mut self, how: Close, ts: Ts, ctx: &mut ConnCtx<'_>) {
        while let Some(p) = self.pop() {
            let answered = p.ex.first_byte_at.is_some();
            let error = match (how, answered) {
                (Close::Reset, _) => "reset",
                (Close::Evicted, _) => EVICTED,
                (Close::OneWay, _) => ONE_WAY,
                (Close::Cut, true) => "truncated",
                (Close::Cut, false) => "no-response",
            };
            let end = answered.then_some(ts);
            emit(p, end, Some(error), ctx);
        }
        self.dropped = 0;
    }
}

/// Does this request ask to switch to cleartext HTTP/2 (`Upgrade: h2c`, no body: a body
/// would have to be read before the switch, which no client here does)?
fn upgrades_h2c(h: &Head) -> bool {
    h.upgrade_h2c && h.request_body().is_none()
}

/// Stands for the response to a dropped request (see `Http1::dropped`).
fn placeholder(ts: Ts, ctx: &ConnCtx<'_>) -> Pending {
    Pending {
        placeholder: true,
        ..Pending::new(Exchange {
            connection: ctx.conn_id,
            ts,
            ..Default::default()
        })
    }
}

/// A response with no request before it (the capture began after the request).
fn orphan_response(ts: Ts, ctx: &mut ConnCtx<'_>) -> Pending {
    Pending::new(ctx.exchange(ts))
}

fn emit(p: Pending, end: Option<Ts>, error: Option<&str>, ctx: &mut ConnCtx<'_>) {
    if p.placeholder {
        return;
    }
    let mut ex = p.ex;
    if let Some(sink) = p.sink {
        ex.body = sink.finish(error.is_none());
    }
    ex.error = error.map(str::to_string).or(p.req_error);
    if let Some(end) = end {
        ex.last_byte_at = Some(ex.last_byte_at.map_or(end, |l| l.max(end)));
    }
    // `reused` was noted when the request was read (see `request`).
    ex.timing = Timing::measure(&ex, ex.timing.reused, ctx.setup.path);
    ctx.out.push(Event::Exchange(Box::new(ex)));
}

#[cfg(test)]
mod tests;
