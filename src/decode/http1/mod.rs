//! HTTP/1.x over a reassembled TCP connection: requests paired with responses on
//! keep-alive and pipelined connections, bodies framed and counted (never kept whole),
//! resynchronisation at the next message after a gap.

pub mod framing;

use super::app::ConnCtx;
use crate::gomod::classify::classify;
use crate::gomod::sinks::BodySink;
use crate::vocab::event::{Event, Exchange, Timing};
use crate::vocab::time::Ts;
use framing::{BodyReader, ChunkState, Framing, GapEffect, Step};
use std::collections::VecDeque;

/// A message head larger than this is not HTTP we can use.
const MAX_HEAD: usize = 64 << 10;
/// After a gap, give up looking for the next message after scanning this much.
const MAX_RESYNC_SCAN: usize = 8 << 20;
const MAX_HEADERS: usize = 96;

#[derive(Debug)]
enum Phase {
    Head,
    Body(BodyReader),
    /// Lost sync after a gap: scanning for the start of the next message.
    Resync {
        scanned: usize,
    },
    /// Not HTTP any more (CONNECT tunnel, 101 upgrade, garbage): ignore the rest.
    Opaque,
}

#[derive(Debug)]
struct Side {
    phase: Phase,
    head: Vec<u8>,
    /// Time of the first byte of the message being read.
    started: Option<Ts>,
}

impl Side {
    fn new() -> Self {
        Side {
            phase: Phase::Head,
            head: Vec::new(),
            started: None,
        }
    }
    fn resync(&mut self) {
        self.head.clear();
        self.started = None;
        self.phase = Phase::Resync { scanned: 0 };
    }
}

/// A request waiting for (the end of) its response.
struct Pending {
    ex: Exchange,
    head_request: bool,
    connect: bool,
    sink: BodySink,
    /// Response bytes went missing: the exchange is reported with error "gap".
    gap: bool,
    /// The request body is still being read.
    req_open: bool,
    /// Where the request began in the client's stream.
    req_off: u64,
}

pub struct Http1 {
    up: Side,
    down: Side,
    pending: VecDeque<Pending>,
    /// Requests seen on this connection (the first one pays for the connection setup).
    requests: u64,
    /// Bytes of the client's stream handed to the parser so far (gaps included).
    up_off: u64,
    /// The server side just found a message start again after lost bytes.
    resynced: bool,
}

/// What kind of message a side carries.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Dir {
    Request,
    Response,
}

impl Default for Http1 {
    fn default() -> Self {
        Self::new()
    }
}

impl Http1 {
    pub fn new() -> Self {
        Http1 {
            up: Side::new(),
            down: Side::new(),
            pending: VecDeque::new(),
            requests: 0,
            up_off: 0,
            resynced: false,
        }
    }

    /// A connection joined mid-stream: both sides start by looking for a message start.
    pub fn resyncing() -> Self {
        let mut h = Self::new();
        h.up.resync();
        h.down.resync();
        h
    }

    pub fn client_data(&mut self, ts: Ts, data: &[u8], ctx: &mut ConnCtx<'_>) {
        let chunk_off = self.up_off;
        self.up_off += data.len() as u64;
        let total = data.len();
        let mut data = data;
        while !data.is_empty() {
            let here = chunk_off + (total - data.len()) as u64;
            let used = match &mut self.up.phase {
                Phase::Opaque => return,
                Phase::Resync { scanned } => match find_message_start(data, Dir::Request) {
                    Some(i) => {
                        self.up.phase = Phase::Head;
                        i
                    }
                    None => {
                        *scanned += data.len();
                        if *scanned > MAX_RESYNC_SCAN {
                            self.up.phase = Phase::Opaque;
                        }
                        data.len()
                    }
                },
                Phase::Head => self.request_head(ts, data, here, ctx),
                Phase::Body(reader) => {
                    let req = self.pending.iter_mut().rev().find(|p| p.req_open);
                    let mut n = 0u64;
                    let step = reader.feed(data, &mut |b| n += b.len() as u64);
                    if let Some(p) = req {
                        p.ex.req_bytes += n;
                    }
                    match step {
                        Ok(Step::More(k)) => k,
                        Ok(Step::Done(k)) => {
                            self.end_request_body();
                            k
                        }
                        Err(_) => {
                            self.end_request_body();
                            self.up.resync();
                            0
                        }
                    }
                }
            };
            data = &data[used..];
        }
    }

    fn end_request_body(&mut self) {
        if let Some(p) = self.pending.iter_mut().rev().find(|p| p.req_open) {
            p.req_open = false;
        }
        self.up.phase = Phase::Head;
    }

    /// Accumulates and parses a request head; returns how many bytes of `data` it used.
    fn request_head(&mut self, ts: Ts, data: &[u8], here: u64, ctx: &mut ConnCtx<'_>) -> usize {
        let side = &mut self.up;
        let (used, head) = match take_head(side, ts, data, Dir::Request) {
            HeadStep::NeedMore(used) => return used,
            HeadStep::Bad(used) => {
                side.phase = Phase::Opaque;
                return used;
            }
            HeadStep::Complete(used, head) => (used, head),
        };
        let started = side.started.take().unwrap_or(ts);
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut req = httparse::Request::new(&mut headers);
        if !matches!(req.parse(&head), Ok(httparse::Status::Complete(_))) {
            side.phase = Phase::Opaque;
            return used;
        }
        let method = req.method.unwrap_or("").to_string();
        let target = req.path.unwrap_or("");
        let h = Headers::from(req.headers);
        let url = absolute_url(ctx, h.host.as_deref(), target);
        let (go, redirect_of) = match ctx.redirects.take(&url) {
            Some((go, of)) => (go, Some(of)),
            None => (classify(&url, &ctx.env.proxy_bases), None),
        };
        self.requests += 1;
        let setup = if self.requests == 1 {
            ctx.setup
        } else {
            Default::default()
        };
        let framing = if h.chunked {
            Some(Framing::Chunked(ChunkState::Size))
        } else {
            h.content_length.filter(|&n| n > 0).map(Framing::Length)
        };
        *ctx.next_exchange += 1;
        let sink = if ctx.env.no_hash {
            BodySink::for_kind(go.kind)
        } else {
            BodySink::for_request(&go, *ctx.next_exchange)
        };
        let ex = Exchange {
            id: *ctx.next_exchange,
            connection: ctx.conn_id,
            ts: started,
            source: ctx.source,
            client: Some(ctx.client),
            server: Some(ctx.server),
            method: Some(method.clone()),
            url: Some(url),
            http_version: Some(format!("HTTP/1.{}", req.version.unwrap_or(1))),
            go,
            user_agent: h.user_agent,
            redirect_of,
            setup,
            ..Default::default()
        };
        self.pending.push_back(Pending {
            ex,
            head_request: method == "HEAD",
            connect: method == "CONNECT",
            sink,
            gap: false,
            req_open: framing.is_some(),
            req_off: here,
        });
        self.up.phase = match framing {
            Some(f) => Phase::Body(BodyReader::new(f)),
            None => Phase::Head,
        };
        used
    }

    pub fn server_data(&mut self, ts: Ts, data: &[u8], ctx: &mut ConnCtx<'_>) {
        let mut data = data;
        while !data.is_empty() {
            let used = match &mut self.down.phase {
                Phase::Opaque => return,
                Phase::Resync { scanned } => match find_message_start(data, Dir::Response) {
                    Some(i) => {
                        self.down.phase = Phase::Head;
                        self.resynced = true;
                        i
                    }
                    None => {
                        *scanned += data.len();
                        if *scanned > MAX_RESYNC_SCAN {
                            self.down.phase = Phase::Opaque;
                        }
                        data.len()
                    }
                },
                Phase::Head => self.response_head(ts, data, ctx),
                Phase::Body(reader) => {
                    let Some(p) = self.pending.front_mut() else {
                        self.down.resync();
                        continue;
                    };
                    let mut n = 0u64;
                    let sink = &mut p.sink;
                    let pool = &mut *ctx.hashes;
                    let step = reader.feed(data, &mut |b| {
                        n += b.len() as u64;
                        sink.feed(b, pool);
                    });
                    p.ex.resp_bytes += n;
                    p.ex.last_byte_at = Some(ts);
                    match step {
                        Ok(Step::More(k)) => k,
                        Ok(Step::Done(k)) => {
                            self.complete_response(ts, None, ctx);
                            k
                        }
                        Err(_) => {
                            self.complete_response(ts, Some("malformed"), ctx);
                            self.down.resync();
                            0
                        }
                    }
                }
            };
            data = &data[used..];
        }
    }

    fn response_head(&mut self, ts: Ts, data: &[u8], ctx: &mut ConnCtx<'_>) -> usize {
        if self.down.head.is_empty() && self.down.started.is_none() {
            if std::mem::take(&mut self.resynced) {
                self.drop_lost_responses(ctx);
            }
            // The first byte of a response: time to first byte for the oldest request.
            if self.pending.is_empty() {
                self.pending.push_back(orphan_response(ts, ctx));
            }
            if let Some(p) = self.pending.front_mut() {
                p.ex.first_byte_at.get_or_insert(ts);
            }
        }
        let side = &mut self.down;
        let (used, head) = match take_head(side, ts, data, Dir::Response) {
            HeadStep::NeedMore(used) => return used,
            HeadStep::Bad(used) => {
                side.phase = Phase::Opaque;
                return used;
            }
            HeadStep::Complete(used, head) => (used, head),
        };
        side.started = None;
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut resp = httparse::Response::new(&mut headers);
        if !matches!(resp.parse(&head), Ok(httparse::Status::Complete(_))) {
            side.phase = Phase::Opaque;
            return used;
        }
        let status = resp.code.unwrap_or(0);
        let h = Headers::from(resp.headers);
        let Some(p) = self.pending.front_mut() else {
            return used;
        };
        p.ex.last_byte_at = Some(ts);
        if (100..200).contains(&status) && status != 101 {
            // Interim response (100 Continue): the final one follows.
            return used;
        }
        p.ex.status = Some(status);
        if status != 200 {
            // Only a 200 carries the artifact; an error page is not hashed.
            p.sink = BodySink::Discard;
        }
        if let (300..=399, Some(loc), Some(url)) = (status, &h.location, &p.ex.url) {
            if p.ex.go.kind != crate::gomod::classify::Kind::Other {
                ctx.redirects.remember(url, loc, &p.ex.go, p.ex.id);
            }
        }
        p.ex.location = if ctx.env.show_credentials {
            h.location
        } else {
            h.location.map(|l| crate::vocab::redact::url_userinfo(&l))
        };
        p.ex.content_type = h.content_type;
        if p.ex.http_version.is_none() {
            p.ex.http_version = Some(format!("HTTP/1.{}", resp.version.unwrap_or(1)));
        }
        let tunnel = status == 101 || (p.connect && (200..300).contains(&status));
        let no_body = p.head_request || status == 204 || status == 304 || tunnel;
        let framing = if no_body {
            None
        } else if h.chunked {
            Some(Framing::Chunked(ChunkState::Size))
        } else {
            match h.content_length {
                Some(0) => None,
                Some(n) => Some(Framing::Length(n)),
                None => Some(Framing::UntilClose),
            }
        };
        match framing {
            Some(f) => self.down.phase = Phase::Body(BodyReader::new(f)),
            None => {
                self.complete_response(ts, None, ctx);
                if tunnel {
                    self.up.phase = Phase::Opaque;
                    self.down.phase = Phase::Opaque;
                }
            }
        }
        used
    }

    /// After lost bytes, the next response may not answer the oldest request: the server's
    /// acknowledgment says which requests it had read. A response answers the newest of
    /// those (the go command does not pipeline); older ones lost their answers in the gap.
    fn drop_lost_responses(&mut self, ctx: &mut ConnCtx<'_>) {
        let Some(acked) = ctx.acked else { return };
        while self.pending.len() > 1 && self.pending[1].req_off < acked {
            if let Some(p) = self.pending.pop_front() {
                emit(p, None, Some("gap"), ctx);
            }
        }
    }

    /// The front request's response is complete (or abandoned with `error`).
    fn complete_response(&mut self, ts: Ts, error: Option<&str>, ctx: &mut ConnCtx<'_>) {
        if !matches!(self.down.phase, Phase::Opaque) {
            self.down.phase = Phase::Head;
        }
        if let Some(p) = self.pending.pop_front() {
            let error = error.or(p.gap.then_some("gap"));
            emit(p, Some(ts), error, ctx);
        }
    }

    pub fn client_gap(&mut self, len: u64) {
        self.up_off += len;
        if let Phase::Body(reader) = &mut self.up.phase {
            if reader.gap(len) == GapEffect::Absorbed {
                return;
            }
            self.end_request_body();
        }
        if !matches!(self.up.phase, Phase::Opaque) {
            self.up.resync();
        }
    }

    pub fn server_gap(&mut self, ts: Ts, len: u64, ctx: &mut ConnCtx<'_>) {
        match &mut self.down.phase {
            Phase::Body(reader) => {
                if let Some(p) = self.pending.front_mut() {
                    p.gap = true;
                    p.ex.resp_bytes += len;
                }
                if reader.gap(len) == GapEffect::Absorbed {
                    return;
                }
                self.complete_response(ts, Some("gap"), ctx);
            }
            Phase::Head if self.down.started.is_some() => {
                // The head of this response is partly lost: it belongs to the front request.
                self.complete_response(ts, Some("gap"), ctx);
            }
            _ => {}
        }
        if !matches!(self.down.phase, Phase::Opaque) {
            self.down.resync();
        }
    }

    /// The server closed its side (FIN).
    pub fn server_fin(&mut self, ts: Ts, ctx: &mut ConnCtx<'_>) {
        if let Phase::Body(reader) = &self.down.phase {
            let clean = reader.ends_at_close();
            self.complete_response(ts, (!clean).then_some("incomplete"), ctx);
        }
        self.down.phase = Phase::Opaque;
        while let Some(p) = self.pending.pop_front() {
            emit(p, None, Some("no-response"), ctx);
        }
    }

    /// The connection is over: reset (RST) or not seen to its end (capture ended, evicted).
    pub fn close(&mut self, reset: bool, ts: Ts, ctx: &mut ConnCtx<'_>) {
        while let Some(p) = self.pending.pop_front() {
            let answered = p.ex.first_byte_at.is_some();
            let error = match (reset, answered) {
                (true, _) => "reset",
                (false, true) => "truncated",
                (false, false) => "no-response",
            };
            let end = answered.then_some(ts);
            emit(p, end, Some(error), ctx);
        }
    }
}

/// A response with no request before it (the capture began after the request).
fn orphan_response(ts: Ts, ctx: &mut ConnCtx<'_>) -> Pending {
    *ctx.next_exchange += 1;
    Pending {
        ex: Exchange {
            id: *ctx.next_exchange,
            connection: ctx.conn_id,
            ts,
            source: ctx.source,
            client: Some(ctx.client),
            server: Some(ctx.server),
            ..Default::default()
        },
        head_request: false,
        connect: false,
        sink: BodySink::Discard,
        gap: false,
        req_open: false,
        req_off: 0,
    }
}

fn emit(p: Pending, end: Option<Ts>, error: Option<&str>, ctx: &mut ConnCtx<'_>) {
    let mut ex = p.ex;
    let complete = error.is_none();
    ex.body = p.sink.finish(complete, ctx.hashes);
    ex.error = error.map(str::to_string);
    if let Some(end) = end {
        ex.last_byte_at = Some(ex.last_byte_at.map_or(end, |l| l.max(end)));
    }
    ex.timing = Timing {
        ttfb_ms: ex.first_byte_at.map(|t| t.ms_since(ex.ts)),
        total_ms: ex.last_byte_at.map(|t| t.ms_since(ex.ts)),
    };
    ctx.out.push(Event::Exchange(Box::new(ex)));
}

enum HeadStep {
    NeedMore(usize),
    Complete(usize, Vec<u8>),
    Bad(usize),
}

/// Collects a message head (up to the blank line). Parses straight from `data` when the
/// whole head is in one segment, which is the usual case.
fn take_head(side: &mut Side, ts: Ts, data: &[u8], dir: Dir) -> HeadStep {
    let mut data = data;
    let mut skipped = 0;
    if side.head.is_empty() {
        // Stray CRLFs between messages are allowed (RFC 9112 §2.2).
        while let [b'\r' | b'\n', rest @ ..] = data {
            data = rest;
            skipped += 1;
        }
        if data.is_empty() {
            return HeadStep::NeedMore(skipped);
        }
        side.started.get_or_insert(ts);
        if let Some(end) = head_end(data) {
            return HeadStep::Complete(skipped + end, data[..end].to_vec());
        }
        if !plausible_start(data, dir) {
            return HeadStep::Bad(skipped);
        }
    }
    let before = side.head.len();
    let room = MAX_HEAD.saturating_sub(before);
    side.head.extend_from_slice(&data[..data.len().min(room)]);
    // Search only where the blank line can newly appear.
    let from = before.saturating_sub(3);
    match head_end(&side.head[from..]) {
        Some(end) => {
            let end = from + end;
            let head = std::mem::take(&mut side.head);
            HeadStep::Complete(skipped + end - before, head[..end].to_vec())
        }
        None if side.head.len() >= MAX_HEAD => HeadStep::Bad(skipped + data.len()),
        None => HeadStep::NeedMore(skipped + data.len()),
    }
}

/// Index just past the blank line that ends a head (CRLFCRLF, or bare LFLF).
fn head_end(buf: &[u8]) -> Option<usize> {
    let crlf = memchr::memmem::find(buf, b"\r\n\r\n").map(|i| i + 4);
    let lf = memchr::memmem::find(buf, b"\n\n").map(|i| i + 2);
    match (crlf, lf) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// Could `data` begin a message of this direction? Used to give up early on non-HTTP.
fn plausible_start(data: &[u8], dir: Dir) -> bool {
    match dir {
        Dir::Response => {
            let n = data.len().min(5);
            data[..n] == b"HTTP/"[..n]
        }
        Dir::Request => data
            .iter()
            .take(24)
            .take_while(|&&b| b != b' ')
            .all(|b| b.is_ascii_uppercase() || *b == b'-' || *b == b'_'),
    }
}

/// Is this the beginning of an HTTP request (for protocol detection)?
pub fn looks_like_request(data: &[u8]) -> bool {
    const METHODS: [&[u8]; 9] = [
        b"GET ",
        b"HEAD ",
        b"POST ",
        b"PUT ",
        b"DELETE ",
        b"OPTIONS ",
        b"CONNECT ",
        b"PATCH ",
        b"TRACE ",
    ];
    METHODS.iter().any(|m| data.starts_with(m))
}

pub fn looks_like_response(data: &[u8]) -> bool {
    data.starts_with(b"HTTP/1.")
}

/// Start of the next message at a line start, for resynchronisation after a gap.
fn find_message_start(data: &[u8], dir: Dir) -> Option<usize> {
    match dir {
        Dir::Response => memchr::memmem::find_iter(data, b"HTTP/1.")
            .find(|&at| (at == 0 || data[at - 1] == b'\n') && data.get(at + 8) == Some(&b' ')),
        // A request line ends in " HTTP/1.x": find that, then the start of its line.
        Dir::Request => memchr::memmem::find_iter(data, b" HTTP/1.")
            .map(|hit| memchr::memrchr(b'\n', &data[..hit]).map_or(0, |i| i + 1))
            .find(|&at| looks_like_request(&data[at..])),
    }
}

/// The headers gomodwatch reads.
#[derive(Default)]
struct Headers {
    host: Option<String>,
    content_length: Option<u64>,
    chunked: bool,
    user_agent: Option<String>,
    location: Option<String>,
    content_type: Option<String>,
}

impl From<&mut [httparse::Header<'_>]> for Headers {
    fn from(hs: &mut [httparse::Header<'_>]) -> Self {
        let mut h = Headers::default();
        for hd in hs.iter() {
            let v = || String::from_utf8_lossy(hd.value).trim().to_string();
            let name = hd.name;
            if name.eq_ignore_ascii_case("host") {
                h.host = Some(v());
            } else if name.eq_ignore_ascii_case("content-length") {
                h.content_length = v().parse().ok();
            } else if name.eq_ignore_ascii_case("transfer-encoding") {
                h.chunked = v().to_ascii_lowercase().ends_with("chunked");
            } else if name.eq_ignore_ascii_case("user-agent") {
                h.user_agent = Some(v());
            } else if name.eq_ignore_ascii_case("location") {
                h.location = Some(v());
            } else if name.eq_ignore_ascii_case("content-type") {
                h.content_type = Some(v());
            }
        }
        h
    }
}

/// The URL as the client asked for it: origin-form targets get the scheme and Host;
/// absolute-form targets (sent to an explicit proxy) are kept as sent.
fn absolute_url(ctx: &ConnCtx<'_>, host: Option<&str>, target: &str) -> String {
    let url = if target.contains("://") {
        target.to_string()
    } else if target.starts_with('/') {
        let host = host.map_or_else(|| ctx.server.to_string(), str::to_string);
        format!("{}://{}{}", ctx.scheme, host, target)
    } else {
        // authority-form (CONNECT host:port) or asterisk-form
        target.to_string()
    };
    if ctx.env.show_credentials {
        url
    } else {
        crate::vocab::redact::url_userinfo(&url)
    }
}

#[cfg(test)]
mod tests {
    //! Parser cases the go command never produces (so no recording can show them):
    //! pipelining, HEAD, interim responses, close-delimited bodies, a capture that begins
    //! with a response, and a gap inside a body.
    use super::*;
    use crate::decode::app::DecodeEnv;
    use crate::gomod::hashpool::HashPool;
    use crate::gomod::redirect::Redirects;

    /// (url, status, response bytes, error) of an exchange.
    type Seen = (Option<String>, Option<u16>, u64, Option<String>);

    struct Harness {
        acked: Option<u64>,
        env: DecodeEnv,
        next: u64,
        out: Vec<Event>,
        redirects: Redirects,
        hashes: HashPool,
    }

    impl Harness {
        fn new() -> Self {
            Harness {
                acked: None,
                env: DecodeEnv::default(),
                next: 0,
                out: Vec::new(),
                redirects: Redirects::default(),
                hashes: HashPool::new(true),
            }
        }
        fn ctx(&mut self) -> ConnCtx<'_> {
            ConnCtx {
                conn_id: 1,
                client: "10.0.0.1:40000".parse().unwrap(),
                server: "10.0.0.2:3000".parse().unwrap(),
                scheme: "http",
                source: crate::vocab::event::Source::Capture,
                env: &self.env,
                next_exchange: &mut self.next,
                out: &mut self.out,
                redirects: &mut self.redirects,
                hashes: &mut self.hashes,
                setup: Default::default(),
                acked: self.acked,
            }
        }
        fn exchanges(&self) -> Vec<Seen> {
            self.out
                .iter()
                .filter_map(|e| match e {
                    Event::Exchange(x) => {
                        Some((x.url.clone(), x.status, x.resp_bytes, x.error.clone()))
                    }
                    _ => None,
                })
                .collect()
        }
    }

    fn url(p: &str) -> Option<String> {
        Some(format!("http://h{p}"))
    }

    #[test]
    fn pipelined_requests_pair_in_order() {
        let mut h = Harness::new();
        let mut p = Http1::new();
        let reqs =
            b"GET /a/@v/list HTTP/1.1\r\nHost: h\r\n\r\nGET /b/@v/list HTTP/1.1\r\nHost: h\r\n\r\n";
        p.client_data(Ts(1), reqs, &mut h.ctx());
        let resps = b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabcHTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";
        // Split anywhere: the pairing must not depend on segment boundaries.
        p.server_data(Ts(2), &resps[..41], &mut h.ctx());
        p.server_data(Ts(3), &resps[41..], &mut h.ctx());
        assert_eq!(
            h.exchanges(),
            [
                (url("/a/@v/list"), Some(200), 3, None),
                (url("/b/@v/list"), Some(404), 0, None)
            ]
        );
    }

    #[test]
    fn head_interim_and_close_delimited() {
        let mut h = Harness::new();
        let mut p = Http1::new();
        p.client_data(
            Ts(1),
            b"HEAD /m/@v/v1.zip HTTP/1.1\r\nHost: h\r\n\r\n",
            &mut h.ctx(),
        );
        // A HEAD response announces a length but has no body.
        p.server_data(
            Ts(2),
            b"HTTP/1.1 200 OK\r\nContent-Length: 999\r\n\r\n",
            &mut h.ctx(),
        );
        p.client_data(
            Ts(3),
            b"GET /m/@v/v1.info HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\n\r\n",
            &mut h.ctx(),
        );
        p.server_data(
            Ts(4),
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.0 200 OK\r\n\r\n{\"Version\":",
            &mut h.ctx(),
        );
        p.server_data(Ts(5), b"\"v1\"}", &mut h.ctx());
        p.server_fin(Ts(6), &mut h.ctx());
        let ex = h.exchanges();
        assert_eq!(ex[0], (url("/m/@v/v1.zip"), Some(200), 0, None));
        assert_eq!(ex[1], (url("/m/@v/v1.info"), Some(200), 16, None));
        match &h.out[1] {
            Event::Exchange(x) => {
                // Time to first byte counts from the interim response's first byte.
                assert_eq!(x.first_byte_at, Some(Ts(4)));
                assert_eq!(x.body.text.as_deref(), Some("{\"Version\":\"v1\"}"));
            }
            e => panic!("{e:?}"),
        }
    }

    #[test]
    fn a_capture_that_starts_with_a_response_resyncs() {
        let mut h = Harness::new();
        let mut p = Http1::resyncing();
        // The tail of some earlier body, then a whole exchange.
        p.server_data(Ts(1), b"zip bytes of an earlier response", &mut h.ctx());
        p.client_data(
            Ts(2),
            b"est tail\r\n\r\nGET /x.com/m/@v/list HTTP/1.1\r\nHost: h\r\n\r\n",
            &mut h.ctx(),
        );
        p.server_data(
            Ts(3),
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nv1",
            &mut h.ctx(),
        );
        assert_eq!(
            h.exchanges(),
            [(url("/x.com/m/@v/list"), Some(200), 2, None)]
        );
    }

    #[test]
    fn a_gap_inside_a_body_keeps_framing() {
        let mut h = Harness::new();
        let mut p = Http1::new();
        p.client_data(Ts(1), b"GET /a/@v/v1.zip HTTP/1.1\r\nHost: h\r\n\r\nGET /b/@v/list HTTP/1.1\r\nHost: h\r\n\r\n", &mut h.ctx());
        p.server_data(
            Ts(2),
            b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nab",
            &mut h.ctx(),
        );
        p.server_gap(Ts(3), 5, &mut h.ctx());
        p.server_data(Ts(4), b"cde", &mut h.ctx());
        p.server_data(
            Ts(5),
            b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx",
            &mut h.ctx(),
        );
        let ex = h.exchanges();
        assert_eq!(
            ex[0],
            (url("/a/@v/v1.zip"), Some(200), 10, Some("gap".into()))
        );
        assert_eq!(ex[1], (url("/b/@v/list"), Some(200), 1, None));
    }

    #[test]
    fn unanswered_and_reset() {
        let mut h = Harness::new();
        let mut p = Http1::new();
        p.client_data(
            Ts(1),
            b"GET /a/@v/list HTTP/1.1\r\nHost: h\r\n\r\n",
            &mut h.ctx(),
        );
        p.close(false, Ts(9), &mut h.ctx());
        let mut q = Http1::new();
        q.client_data(
            Ts(1),
            b"GET /b/@v/v1.zip HTTP/1.1\r\nHost: h\r\n\r\n",
            &mut h.ctx(),
        );
        q.server_data(
            Ts(2),
            b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nxx",
            &mut h.ctx(),
        );
        q.close(true, Ts(3), &mut h.ctx());
        let ex = h.exchanges();
        assert_eq!(
            ex[0],
            (url("/a/@v/list"), None, 0, Some("no-response".into()))
        );
        assert_eq!(
            ex[1],
            (url("/b/@v/v1.zip"), Some(200), 2, Some("reset".into()))
        );
    }

    /// A gap swallowed a whole response: the next response must go to the request the
    /// server had read when it answered, not to the oldest one waiting.
    #[test]
    fn after_a_lost_response_the_ack_pairs_the_next_one() {
        let mut h = Harness::new();
        let mut p = Http1::new();
        let r1 = b"GET /a/@v/v1.zip HTTP/1.1\r\nHost: h\r\n\r\n";
        let r2 = b"GET /b/@v/list HTTP/1.1\r\nHost: h\r\n\r\n";
        p.client_data(Ts(1), r1, &mut h.ctx());
        // The zip's whole response is lost (its head went missing in the gap).
        p.server_gap(Ts(2), 500, &mut h.ctx());
        p.client_data(Ts(3), r2, &mut h.ctx());
        // The next response acknowledges both requests: it answers the second.
        h.acked = Some((r1.len() + r2.len()) as u64);
        p.server_data(
            Ts(4),
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nv1",
            &mut h.ctx(),
        );
        let ex = h.exchanges();
        assert_eq!(ex[0], (url("/a/@v/v1.zip"), None, 0, Some("gap".into())));
        assert_eq!(ex[1], (url("/b/@v/list"), Some(200), 2, None));
    }
}
