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
const MAX_HEADERS: usize = 96;

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
    Head(Head),
    Body(&'a [u8]),
    /// The body is complete.
    End,
    /// The body's framing is broken: the reader now looks for the next message.
    Malformed,
    /// A message start was found again after lost bytes.
    Resynced,
    /// The head is not HTTP (or too large): the rest of this direction is ignored.
    Unparsable,
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
        self.head.clear();
        self.started = None;
        self.phase = Phase::Resync { scanned: 0 };
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
            HeadStep::Bad(used) => {
                self.phase = Phase::Opaque;
                return (used, Some(Item::Unparsable));
            }
            HeadStep::Complete(used, head) => (used, head),
        };
        let started = self.started.take().unwrap_or(ts);
        match parse_head(&head, self.role, started) {
            Some(h) => (used, Some(Item::Head(h))),
            None => {
                self.phase = Phase::Opaque;
                (used, Some(Item::Unparsable))
            }
        }
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

enum HeadStep {
    NeedMore(usize),
    /// The head's bytes (without the bytes after it).
    Complete(usize, Vec<u8>),
    Bad(usize),
}

/// Collects a message head (up to the blank line). A head that arrived whole in one
/// segment (the usual case) is copied once.
fn take_head(r: &mut Reader, data: &[u8]) -> HeadStep {
    if r.head.is_empty() {
        if let Some(end) = head_end(data) {
            return HeadStep::Complete(end, data[..end].to_vec());
        }
        if !plausible_start(data, r.role) {
            return HeadStep::Bad(0);
        }
    }
    let before = r.head.len();
    let room = MAX_HEAD.saturating_sub(before);
    r.head.extend_from_slice(&data[..data.len().min(room)]);
    // Search only where the blank line can newly appear.
    let from = before.saturating_sub(3);
    match head_end(&r.head[from..]) {
        Some(end) => {
            let end = from + end;
            let mut head = std::mem::take(&mut r.head);
            head.truncate(end);
            HeadStep::Complete(end - before, head)
        }
        None if r.head.len() >= MAX_HEAD => HeadStep::Bad(data.len()),
        None => HeadStep::NeedMore(data.len()),
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

/// Parses a complete head; `None` if it is not HTTP/1.x.
pub fn parse_head(bytes: &[u8], role: Role, started: Ts) -> Option<Head> {
    let mut raw = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut head = Head {
        started,
        ..Default::default()
    };
    let headers: &[httparse::Header<'_>] = match role {
        Role::Request => {
            let mut req = httparse::Request::new(&mut raw);
            if !matches!(req.parse(bytes), Ok(httparse::Status::Complete(_))) {
                return None;
            }
            head.method = req.method.unwrap_or("").to_string();
            head.target = req.path.unwrap_or("").to_string();
            head.minor = req.version.unwrap_or(1);
            read_headers(req.headers, &mut head);
            return Some(head);
        }
        Role::Response => {
            let mut resp = httparse::Response::new(&mut raw);
            if !matches!(resp.parse(bytes), Ok(httparse::Status::Complete(_))) {
                return None;
            }
            head.status = resp.code.unwrap_or(0);
            head.minor = resp.version.unwrap_or(1);
            resp.headers
        }
    };
    read_headers(headers, &mut head);
    Some(head)
}

fn read_headers(hs: &[httparse::Header<'_>], h: &mut Head) {
    for hd in hs {
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
        } else if name.eq_ignore_ascii_case("proxy-authenticate") {
            h.proxy_authenticate = Some(v());
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
        // A request line ends in " HTTP/1.x": find that, then the start of its line.
        Role::Request => memchr::memmem::find_iter(data, b" HTTP/1.")
            .map(|hit| memchr::memrchr(b'\n', &data[..hit]).map_or(0, |i| i + 1))
            .find(|&at| looks_like_request(&data[at..])),
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
        assert!(matches!(r.next(Ts(0), data), (_, Some(Item::Unparsable))));
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
}
