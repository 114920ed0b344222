//! An HTTP/1.x message head: the start line and the headers gomodwatch reads, parsed as
//! net/http would (obs-fold, duplicate or invalid framing headers), and the body framing it
//! implies.

use super::framing::{ChunkState, Framing};
use crate::vocab::Ts;

/// A message head larger than this is not HTTP we can use.
pub(crate) const MAX_HEAD: usize = 64 << 10;
/// Headers parsed without a heap allocation; a head with more is parsed again with room
/// for all of them (net/http has no small limit on their number, only on the head's size).
const INLINE_HEADERS: usize = 96;
/// How much of a bad header value an error message quotes.
const QUOTE: usize = 32;

/// What a direction carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Client to server: requests.
    Request,
    /// Server to client: responses.
    Response,
}

/// Why a message head could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unreadable {
    /// Not an HTTP/1.x start line and headers (net/http: "malformed HTTP response").
    NotHttp,
    /// Larger than `MAX_HEAD`: gomodwatch's limit, not the protocol's.
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
pub(crate) enum Malformed {
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
    pub(crate) started: Ts,
    /// Request: method and request-target as sent.
    pub(crate) method: String,
    pub(crate) target: String,
    /// Response: status code.
    pub status: u16,
    /// The minor version of HTTP/1.x.
    pub(crate) minor: u8,
    pub(crate) host: Option<String>,
    pub(crate) content_length: Option<u64>,
    pub(crate) chunked: bool,
    /// The framing headers are invalid (then `content_length` and `chunked` mean nothing).
    pub(crate) malformed: Option<Malformed>,
    pub(crate) user_agent: Option<String>,
    pub(crate) location: Option<String>,
    pub(crate) content_type: Option<String>,
    pub(crate) proxy_authenticate: Option<String>,
    /// `Authorization`, summarised (vocab::authorization_summary): never the password.
    pub(crate) authorization: Option<String>,
    /// `Upgrade` names `h2c`: a request asking to switch to cleartext HTTP/2 (RFC 7540
    /// §3.2), or the 101 agreeing to it.
    pub(crate) upgrade_h2c: bool,
    /// Only its first lines were captured (`codec::cut_head`): its framing is unknown.
    pub(crate) cut: bool,
}

impl Head {
    /// How a request's body is framed (`None`: it has none).
    pub fn request_body(&self) -> Option<Framing> {
        if self.chunked {
            Some(Framing::Chunked(ChunkState::Size))
        } else {
            self.content_length.filter(|&n| n > 0).map(Framing::Length)
        }
    }

    /// How a response's body is framed, given what it answers (RFC 9112 §6.3).
    pub fn response_body(&self, to_head: bool, tunnel: bool) -> Option<Framing> {
        if to_head || tunnel || self.status == 204 || self.status == 304 {
            None
        } else if self.chunked {
            Some(Framing::Chunked(ChunkState::Size))
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

/// Parses a complete head, as leniently and as strictly as net/http where it matters to a
/// verdict: any number of headers (the head's size is the bound), obs-fold continuation
/// lines joined to the line before with one space (net/textproto), but a first header line
/// that starts with whitespace rejected; framing headers checked (see [`Malformed`]).
pub(crate) fn parse_head(bytes: &[u8], role: Role, started: Ts) -> Result<Head, Unreadable> {
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
        } else if name.eq_ignore_ascii_case("authorization") {
            h.authorization = Some(crate::vocab::event::authorization_summary(&v()));
        } else if name.eq_ignore_ascii_case("upgrade") {
            h.upgrade_h2c |= hd
                .value
                .split(|b| *b == b',')
                .any(|p| trim(p).eq_ignore_ascii_case(b"h2c"));
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
