//! The HTTP/1.x wire format on one direction of a stream: message heads (parsed in
//! `head.rs`), body framing (`framing.rs`), and resynchronisation at the next message
//! start after lost bytes. Pure and small enough to fuzz on its own: bytes in, [`Item`]s
//! out. Which response answers which request is the exchange tracker's business
//! (`super::Http1`).

use super::framing::{BodyReader, Framing, GapEffect};
use super::head::{parse_head, Head, Role, Unreadable, MAX_HEAD};
use crate::vocab::Ts;

/// After a gap, give up looking for the next message after scanning this much.
const MAX_RESYNC_SCAN: usize = 8 << 20;

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
    /// Body bytes, as they arrived.
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
    /// The gap cut into a head that had begun: what its complete lines say (a snap length
    /// that cut the packet: the start line and the first headers are there), when they
    /// hold a readable start line.
    LostHead(Option<Box<Head>>),
    /// Between messages, or already lost.
    Elsewhere,
}

impl Reader {
    /// A reader at the start of a stream.
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
    pub(crate) fn resyncing(role: Role) -> Self {
        let mut r = Self::new(role);
        r.resync();
        r
    }

    pub(crate) fn resync(&mut self) {
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
    pub(crate) fn stop(&mut self) {
        self.phase = Phase::Opaque;
    }

    /// It gave up on this stream (it is not HTTP, or was given up on).
    pub fn is_stopped(&self) -> bool {
        matches!(self.phase, Phase::Opaque)
    }

    /// It is inside a message body.
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
            Phase::Head if self.started.is_some() => {
                let started = self.started.unwrap_or_default();
                GapOutcome::LostHead(cut_head(&self.head, self.role, started).map(Box::new))
            }
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

/// The lines of a head cut short (by a snap length, a lost segment) read as a head of
/// their own: the start line and every header line that arrived whole. Its framing is
/// unknown (the lines that said it may be among the lost), so the reader looks for the
/// next message after it.
fn cut_head(bytes: &[u8], role: Role, started: Ts) -> Option<Head> {
    let end = memchr::memrchr(b'\n', bytes)? + 1;
    let mut whole = bytes[..end].to_vec();
    whole.extend_from_slice(b"\r\n");
    let mut h = parse_head(&whole, role, started).ok()?;
    h.malformed = None;
    h.content_length = None;
    h.chunked = false;
    h.cut = true;
    Some(h)
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

/// Does this look like the start of an HTTP response?
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
mod tests;
