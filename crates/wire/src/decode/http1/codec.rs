//! The HTTP/1.x wire format on one direction of a stream: message heads, body framing,
//! and resynchronisation at the next message start after lost bytes. Pure and small
//! enough to fuzz on its own: bytes in, [`Item`]s out. Which response answers which
//! request is the exchange tracker's business (`super::Http1`).

use super::framing::{BodyReader, Framing, GapEffect};
use crate::vocab::Ts;

/// A message head larger than this is not HTTP we can use.
pub const MAX_HEAD: usize = 64 << 10;
/// After a gap, give up looking for the next message after scanning this much.
const MAX_RESYNC_SCAN: usize = 8 << 20;
/// Headers parsed without a heap allocation; a head with more is parsed again with room
/// for all of them (net/http has no small limit on their number, only on the head's size).
const INLINE_HEADERS: usize = 96;
/// How much of a bad header value an error message quotes.
const QUOTE: usize = 32;

/// What a direction carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Request,
    Response,
}

#[derive(Debug)]
enum Phase {
    Head,
    Body(BodyReader),
    /// Lost sync after a gap: scanning for the start of the next message.
    Resync {
        scanned: usize,
    },
    /// Not HTTP any more (a tunnel, a 101 upgrade, garbage): the rest is ignored.
    Opaque,
}

/// What the bytes said.
#[derive(Debug)]
pub enum Item<'a> {
    /// The first byte of a message head arrived (time to first byte starts here).
    Start(Ts),
    /// A complete head. The caller says next whether a body follows ([`Reader::expect`]).
    Head(Box<Head>),
    Body(&'a [u8]),
    /// The body is complete.
    End,
    /// The body's framing is broken: the reader now looks for the next message.
    Malformed,
    /// A message start was found again after lost bytes.
    Resynced,
    /// The head cannot be read. If it is not HTTP at all the rest of this direction is
    /// ignored; otherwise the reader looks for the next message.
    Unparsable(Unreadable),
}

/// Why a message head could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unreadable {
    /// Not an HTTP/1.x start line and headers (net/http: "malformed HTTP response").
    NotHttp,
    /// Larger than [`MAX_HEAD`]: gomodwatch's limit, not the protocol's.
    TooLarge,
    /// The first header line starts with whitespace (net/http: "malformed MIME header
    /// initial line").
    LeadingWhitespace,
}

impl std::fmt::Display for Unreadable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Unreadable::NotHttp => "not an HTTP/1.x message",
            Unreadable::TooLarge => "head larger than 64 KiB",
            Unreadable::LeadingWhitespace => "first header line starts with whitespace",
        })
    }
}

/// Why a head's body framing cannot be trusted: net/http rejects such a message (the go
/// command's request fails), so no body length can be taken from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Malformed {
    /// Content-Length headers with different values.
    ConflictingLength,
    /// A Content-Length that is not a plain decimal number (`+51`, `-1`, `0x10`, empty).
    BadLength(String),
    /// A Transfer-Encoding other than `chunked` (HTTP/1.1; HTTP/1.0 ignores the header).
    UnsupportedEncoding(String),
    /// More than one Transfer-Encoding header.
    TooManyEncodings,
}

impl std::fmt::Display for Malformed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Malformed::ConflictingLength => f.write_str("conflicting Content-Length"),
            Malformed::BadLength(v) => write!(f, "invalid Content-Length {v:?}"),
            Malformed::UnsupportedEncoding(v) => write!(f, "unsupported Transfer-Encoding {v:?}"),
            Malformed::TooManyEncodings => f.write_str("more than one Transfer-Encoding"),
        }
    }
}

/// A parsed message head: the start line and the headers gomodwatch reads.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Head {
    /// When its first byte arrived.
    pub started: Ts,
    /// Request: method and request-target as sent.
    pub method: String,
    pub target: String,
    /// Response: status code.
    pub status: u16,
    /// The minor version of HTTP/1.x.
    pub minor: u8,
    pub host: Option<String>,
    pub content_length: Option<u64>,
    pub chunked: bool,
    /// The framing headers are invalid (then `content_length` and `chunked` mean nothing).
    pub malformed: Option<Malformed>,
    pub user_agent: Option<String>,
    pub location: Option<String>,
    pub content_type: Option<String>,
    pub proxy_authenticate: Option<String>,
}

impl Head {
    /// How a request's body is framed (`None`: it has none).
    pub fn request_body(&self) -> Option<Framing> {
        if self.chunked {
            Some(Framing::Chunked(super::framing::ChunkState::Size))
        } else {
            self.content_length.filter(|&n| n > 0).map(Framing::Length)
        }
    }

    /// How a response's body is framed, given what it answers (RFC 9112 §6.3).
    pub fn response_body(&self, to_head: bool, tunnel: bool) -> Option<Framing> {
        if to_head || tunnel || self.status == 204 || self.status == 304 {
            None
        } else if self.chunked {
            Some(Framing::Chunked(super::framing::ChunkState::Size))
        } else {
            match self.content_length {
                Some(0) => None,
                Some(n) => Some(Framing::Length(n)),
                None => Some(Framing::UntilClose),
            }
        }
    }

    /// An interim response (100 Continue, ...): the final one follows.
    pub fn is_interim(&self) -> bool {
        (100..200).contains(&self.status) && self.status != 101
    }
}

/// One direction's reader.
#[derive(Debug)]
pub struct Reader {
    role: Role,
    phase: Phase,
    head: Vec<u8>,
    /// Time of the first byte of the head being read.
    started: Option<Ts>,
    /// A body's last piece was handed out; its `End` comes next.
    end_pending: bool,
}

/// What a gap did.
#[derive(Debug, PartialEq, Eq)]
pub enum GapOutcome {
    /// The bytes were body payload: framing is intact.
    Absorbed,
    /// The gap broke a body.
    LostBody,
    /// The gap cut into a head that had begun.
    LostHead,
    /// Between messages, or already lost.
    Elsewhere,
}

impl Reader {
    pub fn new(role: Role) -> Self {
        Reader {
            role,
            phase: Phase::Head,
            head: Vec::new(),
            started: None,
            end_pending: false,
        }
    }

    /// A reader that starts by looking for a message start (joined mid-stream).
    pub fn resyncing(role: Role) -> Self {
        let mut r = Self::new(role);
        r.resync();
        r
    }

    pub fn resync(&mut self) {
        self.head = Vec::new();
        self.started = None;
        self.phase = Phase::Resync { scanned: 0 };
    }

    /// Bytes this reader holds in buffers (a head being collected, a chunk-size line).
    pub fn state_bytes(&self) -> usize {
        let body = match &self.phase {
            Phase::Body(b) => b.buffered(),
            _ => 0,
        };
        self.head.capacity() + body
    }

    /// Ignore the rest of this direction (a tunnel, an upgrade).
    pub fn stop(&mut self) {
        self.phase = Phase::Opaque;
    }

    pub fn is_stopped(&self) -> bool {
        matches!(self.phase, Phase::Opaque)
    }

    pub fn in_body(&self) -> bool {
        matches!(self.phase, Phase::Body(_))
    }

    /// After a `Head`: what follows it. `None` means no body (the next message is next).
    pub fn expect(&mut self, body: Option<Framing>) {
        if let Some(f) = body {
            self.phase = Phase::Body(BodyReader::new(f));
        }
    }

    /// Reads from the front of `data`: how many bytes were used, and what they meant.
    /// Every call either consumes bytes or changes state, so looping until `data` is
    /// used up terminates.
    pub fn next<'a>(&mut self, ts: Ts, data: &'a [u8]) -> (usize, Option<Item<'a>>) {
        if std::mem::take(&mut self.end_pending) {
            return (0, Some(Item::End));
        }
        match &mut self.phase {
            Phase::Opaque => (data.len(), None),
            Phase::Resync { scanned } => match find_message_start(data, self.role) {
                Some(i) => {
                    self.phase = Phase::Head;
                    (i, Some(Item::Resynced))
                }
                None => {
                    *scanned += data.len();
                    if *scanned > MAX_RESYNC_SCAN {
                        self.phase = Phase::Opaque;
                    }
                    (data.len(), None)
                }
            },
            Phase::Head => self.head(ts, data),
            Phase::Body(reader) => match reader.feed(data) {
                Ok(fed) => {
                    let piece = &data[fed.payload];
                    if fed.done {
                        self.phase = Phase::Head;
                        if !piece.is_empty() {
                            self.end_pending = true;
                            return (fed.used, Some(Item::Body(piece)));
                        }
                        return (fed.used, Some(Item::End));
                    }
                    (fed.used, (!piece.is_empty()).then_some(Item::Body(piece)))
                }
                Err(_) => {
                    self.resync();
                    (0, Some(Item::Malformed))
                }
            },
        }
    }

    fn head<'a>(&mut self, ts: Ts, data: &'a [u8]) -> (usize, Option<Item<'a>>) {
        if self.started.is_none() {
            // Stray CRLFs between messages are allowed (RFC 9112 §2.2).
            let skip = data
                .iter()
                .take_while(|&&b| b == b'\r' || b == b'\n')
                .count();
            if skip == data.len() {
                return (skip, None);
            }
            self.started = Some(ts);
            return (skip, Some(Item::Start(ts)));
        }
        let (used, head) = match take_head(self, data) {
            HeadStep::NeedMore(used) => return (used, None),
            HeadStep::Bad(used, why) => return (used, Some(self.unreadable(why))),
            HeadStep::Complete(used, head) => (used, head),
        };
        let started = self.started.take().unwrap_or(ts);
        match parse_head(&head, self.role, started) {
            Ok(h) => (used, Some(Item::Head(Box::new(h)))),
            Err(why) => (used, Some(self.unreadable(why))),
        }
    }

    /// A head that cannot be read: past something that is not HTTP nothing more is read;
    /// past an HTTP head we cannot use, the next message is looked for.
    fn unreadable<'a>(&mut self, why: Unreadable) -> Item<'a> {
        if why == Unreadable::NotHttp {
            self.head = Vec::new();
            self.phase = Phase::Opaque;
        } else {
            self.resync();
        }
        Item::Unparsable(why)
    }

    /// `len` bytes of this direction are missing.
    pub fn gap(&mut self, len: u64) -> GapOutcome {
        let outcome = match &mut self.phase {
            Phase::Body(reader) => {
                if reader.gap(len) == GapEffect::Absorbed {
                    return GapOutcome::Absorbed;
                }
                GapOutcome::LostBody
            }
            Phase::Head if self.started.is_some() => GapOutcome::LostHead,
            Phase::Opaque => return GapOutcome::Elsewhere,
            _ => GapOutcome::Elsewhere,
        };
        self.resync();
        outcome
    }

    /// The sender closed its side. Returns `Some(clean)` if a body was being read (a
    /// close-delimited body ends cleanly here).
    pub fn fin(&mut self) -> Option<bool> {
        let clean = match &self.phase {
            Phase::Body(reader) => Some(reader.ends_at_close()),
            _ => None,
        };
        self.phase = Phase::Opaque;
        clean
    }
}

enum HeadStep<'a> {
    NeedMore(usize),
    /// The head's bytes (without the bytes after it): borrowed when it arrived whole.
    Complete(usize, std::borrow::Cow<'a, [u8]>),
    Bad(usize, Unreadable),
}

/// Collects a message head (up to the blank line). A head that arrived whole in one
/// segment (the usual case) is parsed where it lies, without a copy.
fn take_head<'a>(r: &mut Reader, data: &'a [u8]) -> HeadStep<'a> {
    if r.head.is_empty() {
        if let Some(end) = head_end(data) {
            return HeadStep::Complete(end, std::borrow::Cow::Borrowed(&data[..end]));
        }
        if !plausible_start(data, r.role) {
            return HeadStep::Bad(0, Unreadable::NotHttp);
        }
    }
    let before = r.head.len();
    let room = MAX_HEAD.saturating_sub(before);
    let taken = data.len().min(room);
    r.head.extend_from_slice(&data[..taken]);
    // Search only where the blank line can newly appear.
    let from = before.saturating_sub(3);
    match head_end(&r.head[from..]) {
        Some(end) => {
            let end = from + end;
            let mut head = std::mem::take(&mut r.head);
            head.truncate(end);
            HeadStep::Complete(end - before, std::borrow::Cow::Owned(head))
        }
        // Only what went into the head is used: the rest may hold the next message.
        None if r.head.len() >= MAX_HEAD => HeadStep::Bad(taken, Unreadable::TooLarge),
        None => HeadStep::NeedMore(data.len()),
    }
}

/// Index just past the blank line that ends a head (CRLFCRLF, or bare LFLF), whichever
/// comes first. One pass over the line ends: no searcher to set up for each head (see
/// `vocab::text`), and it stops at the first blank line, so reading many small heads from
/// one buffer stays linear.
fn head_end(buf: &[u8]) -> Option<usize> {
    memchr::memchr_iter(b'\n', buf).find_map(|i| match &buf[i + 1..] {
        [b'\n', ..] => Some(i + 2),
        [b'\r', b'\n', ..] if i > 0 && buf[i - 1] == b'\r' => Some(i + 3),
        _ => None,
    })
}

/// Could `data` begin a message of this role? Used to give up early on non-HTTP.
fn plausible_start(data: &[u8], role: Role) -> bool {
    match role {
        Role::Response => {
            let n = data.len().min(5);
            data[..n] == b"HTTP/"[..n]
        }
        Role::Request => data
            .iter()
            .take(24)
            .take_while(|&&b| b != b' ')
            .all(|b| b.is_ascii_uppercase() || *b == b'-' || *b == b'_'),
    }
}

/// Parses a complete head, as leniently and as strictly as net/http where it matters to a
/// verdict: any number of headers (the head's size is the bound), obs-fold continuation
/// lines joined to the line before with one space (net/textproto), but a first header line
/// that starts with whitespace rejected; framing headers checked (see [`Malformed`]).
pub fn parse_head(bytes: &[u8], role: Role, started: Ts) -> Result<Head, Unreadable> {
    let unfolded = unfold(bytes)?;
    let bytes = unfolded.as_deref().unwrap_or(bytes);
    let mut inline = [httparse::EMPTY_HEADER; INLINE_HEADERS];
    match parse_with(bytes, role, started, &mut inline) {
        Err(httparse::Error::TooManyHeaders) => {
            let lines = memchr::memchr_iter(b'\n', bytes).count();
            let mut many = vec![httparse::EMPTY_HEADER; lines];
            parse_with(bytes, role, started, &mut many).map_err(|_| Unreadable::NotHttp)
        }
        r => r.map_err(|_| Unreadable::NotHttp),
    }
}

fn parse_with<'b>(
    bytes: &'b [u8],
    role: Role,
    started: Ts,
    raw: &mut [httparse::Header<'b>],
) -> Result<Head, httparse::Error> {
    let mut head = Head {
        started,
        ..Default::default()
    };
    let complete = |s: httparse::Status<usize>| match s {
        httparse::Status::Complete(_) => Ok(()),
        // The caller hands over a whole head: a partial one is not HTTP.
        httparse::Status::Partial => Err(httparse::Error::Token),
    };
    match role {
        Role::Request => {
            let mut req = httparse::Request::new(raw);
            complete(req.parse(bytes)?)?;
            head.method = req.method.unwrap_or("").to_string();
            head.target = req.path.unwrap_or("").to_string();
            head.minor = req.version.unwrap_or(1);
            read_headers(req.headers, &mut head);
        }
        Role::Response => {
            let mut resp = httparse::Response::new(raw);
            complete(resp.parse(bytes)?)?;
            head.status = resp.code.unwrap_or(0);
            head.minor = resp.version.unwrap_or(1);
            read_headers(resp.headers, &mut head);
        }
    }
    Ok(head)
}

/// Joins obs-fold continuation lines (a line starting with SP or HTAB continues the header
/// before it) the way net/textproto does: the line break and the whitespace around it
/// become one space. `None` when there is nothing to join (the usual case: no copy).
fn unfold(head: &[u8]) -> Result<Option<Vec<u8>>, Unreadable> {
    let Some(first) = memchr::memchr(b'\n', head) else {
        return Ok(None);
    };
    let rest = &head[first + 1..];
    if rest.first().is_some_and(|&b| is_ws(b)) {
        return Err(Unreadable::LeadingWhitespace);
    }
    let folded =
        memchr::memchr_iter(b'\n', rest).any(|i| rest.get(i + 1).is_some_and(|&b| is_ws(b)));
    if !folded {
        return Ok(None);
    }
    let mut out = Vec::with_capacity(head.len());
    out.extend_from_slice(&head[..=first]);
    let mut i = 0;
    while i < rest.len() {
        let end = memchr::memchr(b'\n', &rest[i..]).map_or(rest.len(), |e| i + e + 1);
        let line = &rest[i..end];
        i = end;
        let blank = matches!(line, b"\n" | b"\r\n");
        if !blank && rest.get(i).is_some_and(|&b| is_ws(b)) {
            let text = line.strip_suffix(b"\n").unwrap_or(line);
            let text = text.strip_suffix(b"\r").unwrap_or(text);
            out.extend_from_slice(trim_end(text));
            out.push(b' ');
            while rest.get(i).is_some_and(|&b| is_ws(b)) {
                i += 1;
            }
        } else {
            out.extend_from_slice(line);
        }
    }
    Ok(Some(out))
}

fn is_ws(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

fn trim_end(mut s: &[u8]) -> &[u8] {
    while let [rest @ .., last] = s {
        if !last.is_ascii_whitespace() {
            break;
        }
        s = rest;
    }
    s
}

fn trim(s: &[u8]) -> &[u8] {
    let s = trim_end(s);
    let start = s
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(s.len());
    &s[start..]
}

/// A header value for an error message: lossy text, cut short.
fn quote(v: &[u8]) -> String {
    let mut s = String::from_utf8_lossy(&v[..v.len().min(QUOTE)]).into_owned();
    if v.len() > QUOTE {
        s.push('…');
    }
    s
}

/// A Content-Length value as net/http reads it: decimal digits only (no sign, no
/// whitespace inside, not empty), at most 2^63 - 1.
fn parse_length(v: &[u8]) -> Option<u64> {
    if v.is_empty() || v.len() > 19 || !v.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(v)
        .ok()?
        .parse::<u64>()
        .ok()
        .filter(|&n| n <= i64::MAX as u64)
}

fn read_headers(hs: &[httparse::Header<'_>], h: &mut Head) {
    let mut length: Option<&[u8]> = None;
    let mut conflicting = false;
    let mut encodings = 0;
    let mut encoding: &[u8] = b"";
    for hd in hs {
        let v = || String::from_utf8_lossy(trim(hd.value)).into_owned();
        let name = hd.name;
        if name.eq_ignore_ascii_case("host") {
            h.host = Some(v());
        } else if name.eq_ignore_ascii_case("content-length") {
            let value = trim(hd.value);
            match length {
                None => length = Some(value),
                Some(l) if l != value => conflicting = true,
                Some(_) => {}
            }
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            encodings += 1;
            encoding = trim(hd.value);
        } else if name.eq_ignore_ascii_case("user-agent") {
            h.user_agent = Some(v());
        } else if name.eq_ignore_ascii_case("location") {
            h.location = Some(v());
        } else if name.eq_ignore_ascii_case("content-type") {
            h.content_type = Some(v());
        } else if name.eq_ignore_ascii_case("proxy-authenticate") {
            h.proxy_authenticate = Some(v());
        }
    }
    // Transfer-Encoding first, as net/http does; an HTTP/1.0 message's is ignored.
    if encodings > 0 && h.minor >= 1 {
        if encodings > 1 {
            h.malformed = Some(Malformed::TooManyEncodings);
        } else if encoding.eq_ignore_ascii_case(b"chunked") {
            h.chunked = true;
        } else {
            h.malformed = Some(Malformed::UnsupportedEncoding(quote(encoding)));
        }
    }
    if h.malformed.is_some() {
        return;
    }
    if conflicting {
        h.malformed = Some(Malformed::ConflictingLength);
    } else if let Some(l) = length {
        match parse_length(l) {
            Some(n) => h.content_length = Some(n),
            None => h.malformed = Some(Malformed::BadLength(quote(l))),
        }
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
fn find_message_start(data: &[u8], role: Role) -> Option<usize> {
    match role {
        Role::Response => memchr::memmem::find_iter(data, b"HTTP/1.")
            .find(|&at| (at == 0 || data[at - 1] == b'\n') && data.get(at + 8) == Some(&b' ')),
        // A request line ends in " HTTP/1.x": find that, then the start of its line. The
        // line start is searched for only back to the previous hit, so that a buffer full
        // of hits on one line is still scanned once.
        Role::Request => {
            let mut line_start = 0;
            let mut searched = 0;
            memchr::memmem::find_iter(data, b" HTTP/1.").find_map(|hit| {
                if let Some(nl) = memchr::memrchr(b'\n', &data[searched..hit]) {
                    line_start = searched + nl + 1;
                }
                searched = hit;
                looks_like_request(&data[line_start..]).then_some(line_start)
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::framing::Framing;
    use super::*;

    /// Feeds `input` in pieces of `step` bytes; returns what the reader said, with body
    /// bytes joined.
    fn read(role: Role, input: &[u8], step: usize) -> Vec<String> {
        let mut r = Reader::new(role);
        let mut out: Vec<String> = Vec::new();
        for piece in input.chunks(step) {
            let mut data = piece;
            loop {
                let (used, item) = r.next(Ts(0), data);
                data = &data[used..];
                match item {
                    Some(Item::Head(h)) => {
                        out.push(format!("head {} {}{}", h.method, h.target, h.status));
                        r.expect(h.content_length.filter(|&n| n > 0).map(Framing::Length));
                        if h.content_length.unwrap_or(0) == 0 {
                            out.push("end".into());
                        }
                    }
                    Some(Item::Body(b)) => match out.last_mut() {
                        Some(l) if l.starts_with("body ") => {
                            l.push_str(&String::from_utf8_lossy(b))
                        }
                        _ => out.push(format!("body {}", String::from_utf8_lossy(b))),
                    },
                    Some(Item::End) => out.push("end".into()),
                    Some(Item::Start(_)) => {}
                    Some(other) => out.push(format!("{other:?}")),
                    None if data.is_empty() => break,
                    None => {}
                }
                if data.is_empty() && !matches!(r.phase, Phase::Head) {
                    // Let a pending End out (a body that ended with this piece).
                    if let (0, Some(Item::End)) = r.next(Ts(0), &[]) {
                        out.push("end".into());
                    }
                    break;
                }
            }
        }
        out
    }

    #[test]
    fn requests_split_anywhere() {
        let wire = b"GET /a HTTP/1.1\r\nHost: h\r\n\r\nPOST /b HTTP/1.1\r\nContent-Length: 3\r\n\r\nxyzGET /c HTTP/1.1\r\n\r\n";
        for step in 1..wire.len() {
            assert_eq!(
                read(Role::Request, wire, step),
                [
                    "head GET /a0",
                    "end",
                    "head POST /b0",
                    "body xyz",
                    "end",
                    "head GET /c0",
                    "end"
                ],
                "step {step}"
            );
        }
    }

    #[test]
    fn garbage_is_unparsable_and_stops() {
        let mut r = Reader::new(Role::Response);
        let data = b"\x16\x03\x01 not http";
        assert!(matches!(r.next(Ts(0), data), (0, Some(Item::Start(_)))));
        assert!(matches!(
            r.next(Ts(0), data),
            (_, Some(Item::Unparsable(Unreadable::NotHttp)))
        ));
        assert!(r.is_stopped());
    }

    #[test]
    fn resync_finds_the_next_response() {
        let mut r = Reader::resyncing(Role::Response);
        let data = b"tail of a body\r\nHTTP/1.1 404 Not Found\r\n\r\n";
        let (used, item) = r.next(Ts(0), data);
        assert!(matches!(item, Some(Item::Resynced)));
        assert_eq!(&data[used..used + 8], b"HTTP/1.1");
    }
    fn response(head: &str) -> Result<Head, Unreadable> {
        parse_head(head.as_bytes(), Role::Response, Ts(0))
    }

    fn framing_of(headers: &str) -> (Option<u64>, bool, Option<Malformed>) {
        let h = response(&format!("HTTP/1.1 200 OK\r\n{headers}\r\n")).unwrap();
        (h.content_length, h.chunked, h.malformed)
    }

    #[test]
    fn any_number_of_headers() {
        let mut head = String::from("HTTP/1.1 200 OK\r\n");
        for i in 0..200 {
            head.push_str(&format!("X-Header-{i}: value {i}\r\n"));
        }
        head.push_str("Content-Type: text/plain\r\nContent-Length: 3\r\n\r\n");
        let h = response(&head).unwrap();
        assert_eq!((h.status, h.content_length), (200, Some(3)));
        assert_eq!(h.content_type.as_deref(), Some("text/plain"));
        // Requests too.
        let req = head.replace("HTTP/1.1 200 OK", "GET /x HTTP/1.1");
        let h = parse_head(req.as_bytes(), Role::Request, Ts(0)).unwrap();
        assert_eq!((h.method.as_str(), h.content_length), ("GET", Some(3)));
    }

    #[test]
    fn obs_fold_is_joined_like_net_textproto() {
        let h = response(
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain;  \r\n   charset=utf-8\r\n\tq=1\r\nContent-Length: 2\r\n\r\n",
        )
        .unwrap();
        assert_eq!(
            h.content_type.as_deref(),
            Some("text/plain; charset=utf-8 q=1")
        );
        assert_eq!(h.content_length, Some(2));
        // A folded framing header still counts.
        let h = response("HTTP/1.1 200 OK\nContent-Length:\n 7\n\n").unwrap();
        assert_eq!(h.content_length, Some(7));
        let req = "GET /x HTTP/1.1\r\nUser-Agent: a\r\n b\r\n\r\n";
        let h = parse_head(req.as_bytes(), Role::Request, Ts(0)).unwrap();
        assert_eq!(h.user_agent.as_deref(), Some("a b"));
    }

    #[test]
    fn a_first_header_line_starting_with_whitespace_is_rejected() {
        assert_eq!(
            response("HTTP/1.1 200 OK\r\n Content-Length: 2\r\n\r\n"),
            Err(Unreadable::LeadingWhitespace)
        );
    }

    #[test]
    fn content_length_as_net_http_reads_it() {
        assert_eq!(
            framing_of("Content-Length: 51\r\n"),
            (Some(51), false, None)
        );
        assert_eq!(framing_of("Content-Length:  51 \r\n").0, Some(51));
        // The same value twice is fine; two values are not.
        let twice = "Content-Length: 5\r\nContent-Length: 5\r\n";
        assert_eq!(framing_of(twice), (Some(5), false, None));
        let two = "Content-Length: 5\r\nContent-Length: 6\r\n";
        assert_eq!(framing_of(two).2, Some(Malformed::ConflictingLength));
        let bad = |v: &str| framing_of(&format!("Content-Length: {v}\r\n")).2;
        for v in ["+51", "-1", "0x10", "5 1", "5,5", "", "9223372036854775808"] {
            assert_eq!(bad(v), Some(Malformed::BadLength(v.into())), "{v:?}");
        }
        assert_eq!(bad("9223372036854775807"), None);
        assert_eq!(
            Malformed::BadLength("+51".into()).to_string(),
            "invalid Content-Length \"+51\""
        );
    }

    #[test]
    fn transfer_encoding_as_net_http_reads_it() {
        assert_eq!(
            framing_of("Transfer-Encoding: chunked\r\n"),
            (None, true, None)
        );
        assert!(framing_of("Transfer-Encoding: Chunked\r\n").1);
        for v in ["xchunked", "gzip, chunked", "chunked, gzip", "identity"] {
            let (_, chunked, m) = framing_of(&format!("Transfer-Encoding: {v}\r\n"));
            assert!(!chunked, "{v}");
            assert_eq!(m, Some(Malformed::UnsupportedEncoding(v.into())));
        }
        let two = "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n";
        assert_eq!(framing_of(two).2, Some(Malformed::TooManyEncodings));
        // Chunked wins over a (valid) length; an invalid length is still an error.
        let both = "Content-Length: 9\r\nTransfer-Encoding: chunked\r\n";
        assert!(framing_of(both).1);
        assert!(framing_of(both).2.is_none());
        let bad = "Content-Length: +9\r\nTransfer-Encoding: chunked\r\n";
        assert!(framing_of(bad).2.is_some());
        // HTTP/1.0 messages' Transfer-Encoding is ignored.
        let h = response("HTTP/1.0 200 OK\r\nTransfer-Encoding: xchunked\r\n\r\n").unwrap();
        assert_eq!((h.chunked, h.malformed), (false, None));
    }

    #[test]
    fn a_head_too_large_is_skipped_and_the_next_message_found() {
        let mut r = Reader::new(Role::Response);
        let mut wire = b"HTTP/1.1 200 OK\r\nX-Big: ".to_vec();
        wire.resize(MAX_HEAD + 100, b'a');
        wire.extend_from_slice(b"\r\n\r\nHTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
        let mut items = Vec::new();
        for piece in wire.chunks(1448) {
            let mut data = piece;
            while !data.is_empty() {
                let (used, item) = r.next(Ts(0), data);
                data = &data[used..];
                match item {
                    Some(Item::Unparsable(why)) => items.push(format!("unparsable {why}")),
                    Some(Item::Head(h)) => items.push(format!("head {}", h.status)),
                    _ => {}
                }
            }
        }
        assert_eq!(items, ["unparsable head larger than 64 KiB", "head 404"]);
        assert!(
            r.state_bytes() < 1024,
            "the big head's buffer is given back"
        );
    }

    #[test]
    fn resync_scans_a_line_full_of_near_misses_once() {
        // Many " HTTP/1." on one line, then a real request line: found, in one pass.
        let mut data = b"x".repeat(10);
        for _ in 0..50_000 {
            data.extend_from_slice(b"a HTTP/1.1 ");
        }
        data.extend_from_slice(b"\nGET /next HTTP/1.1\r\n\r\n");
        let at = find_message_start(&data, Role::Request).unwrap();
        assert!(data[at..].starts_with(b"GET /next"));
        let lf_only = b"GET /a HTTP/1.1\nHost: h\n\nGET /b HTTP/1.1\r\n\r\n";
        assert_eq!(head_end(lf_only), Some(25));
        assert_eq!(head_end(&lf_only[25..]), Some(19));
    }
}
