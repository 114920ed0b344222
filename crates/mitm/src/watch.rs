//! The clock on an intercepted tunnel. The relay copies both ways unchanged; this watches
//! what it copies to know when a response is owed (HTTP/1.1: the client spoke last;
//! HTTP/2: a stream the client opened that the server has not answered with a frame),
//! and gives up when the server owes one past `first-byte`, or when nobody has said
//! anything for `idle`. A first-byte timeout is answered, not a silent close: a 504 in
//! HTTP/1.1, or a 504 on every owed HTTP/2 stream followed by a GOAWAY whose debug text
//! says why, written only at a frame boundary of what the server sent (never inside a
//! frame or a header block, which would corrupt the client's connection).

use super::h2frames::{
    frame, Frames, DATA, END_HEADERS, END_STREAM, GOAWAY, HEADERS, PREFACE, RST_STREAM,
    STATUS_504_TEXT,
};
use super::limits::{Shown, Timeouts};
use super::tap::DirTap;
use gomodwatch_wire::vocab::Ts;
use std::collections::BTreeMap;
use std::pin::Pin;
use std::sync::Mutex;
use std::task::Poll;
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::sync::{watch, Notify};

/// What ended a tunnel early.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fire {
    Idle,
    FirstByte,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Side {
    /// Client → server.
    Up,
    /// Server → client.
    Down,
}

pub(crate) struct Watch {
    timeouts: Timeouts,
    /// `host:port`, for the answer.
    target: String,
    state: Mutex<State>,
    /// A response became owed: the deadline may have moved earlier.
    sooner: Notify,
    fired: watch::Sender<Option<Fire>>,
}

struct State {
    last: Instant,
    track: Track,
    /// Bytes of the server's were cut off mid-write: nothing more may be written.
    dirty: bool,
}

enum Track {
    /// Since when the client has been waiting (it spoke and the server has not since).
    H1 {
        owed: Option<Instant>,
    },
    H2(Box<H2>),
}

struct H2 {
    up: Frames,
    down: Frames,
    /// Streams the client opened that the server has not sent a frame on, with when.
    owed: BTreeMap<u32, Instant>,
    max_opened: u32,
}

impl Watch {
    pub(crate) fn new(timeouts: Timeouts, h2: bool, target: String) -> Watch {
        let track = if h2 {
            Track::H2(Box::new(H2 {
                up: Frames::new(PREFACE.len()),
                down: Frames::new(0),
                owed: BTreeMap::new(),
                max_opened: 0,
            }))
        } else {
            Track::H1 { owed: None }
        };
        Watch {
            timeouts,
            target,
            state: Mutex::new(State {
                last: Instant::now(),
                track,
                dirty: false,
            }),
            sooner: Notify::new(),
            fired: watch::channel(None).0,
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic elsewhere cannot leave this state half-updated in a harmful way.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn fired(&self) -> Option<Fire> {
        *self.fired.borrow()
    }

    /// A chunk was read from `side`.
    fn saw(&self, side: Side, bytes: &[u8]) {
        let now = Instant::now();
        let mut st = self.state();
        st.last = now;
        let newly_owed = match (&mut st.track, side) {
            (Track::H1 { owed }, Side::Up) => owed.is_none() && owed.replace(now).is_none(),
            (Track::H1 { owed }, Side::Down) => {
                *owed = None;
                false
            }
            (Track::H2(h), Side::Up) => {
                let was = h.owed.len();
                let H2 {
                    up,
                    owed,
                    max_opened,
                    ..
                } = &mut **h;
                up.feed(bytes, |kind, _, id| match kind {
                    HEADERS if id % 2 == 1 && id > *max_opened => {
                        *max_opened = id;
                        owed.insert(id, now);
                    }
                    RST_STREAM => {
                        owed.remove(&id);
                    }
                    _ => {}
                });
                was == 0 && !h.owed.is_empty()
            }
            (Track::H2(h), Side::Down) => {
                let H2 { down, owed, .. } = &mut **h;
                down.feed(bytes, |kind, _, id| match kind {
                    DATA | HEADERS | RST_STREAM => {
                        owed.remove(&id);
                    }
                    // The server is going away: the decoder tells what became of the rest.
                    GOAWAY => owed.clear(),
                    _ => {}
                });
                false
            }
        };
        drop(st);
        if newly_owed {
            self.sooner.notify_one();
        }
    }

    /// When to give up next, and why.
    fn due(&self) -> (Instant, Fire) {
        let st = self.state();
        let oldest = match &st.track {
            Track::H1 { owed } => *owed,
            Track::H2(h) => h.owed.values().min().copied(),
        };
        match oldest {
            Some(t) => (t + self.timeouts.first_byte, Fire::FirstByte),
            None => (st.last + self.timeouts.idle, Fire::Idle),
        }
    }

    /// Waits until the tunnel must be given up, says so to both relays, and returns why.
    pub(crate) async fn dog(&self) -> Fire {
        loop {
            let (at, fire) = self.due();
            if Instant::now() >= at {
                self.fired.send_replace(Some(fire));
                return fire;
            }
            tokio::select! {
                _ = tokio::time::sleep_until(at.into()) => {}
                _ = self.sooner.notified() => {}
            }
        }
    }

    /// The bytes that tell the client its server sent nothing in time, if they can be
    /// written now (at a boundary of what the server sent).
    fn answer(&self) -> Option<Vec<u8>> {
        let st = self.state();
        if st.dirty {
            return None;
        }
        let body = format!(
            "gomodwatch: {} sent no response within {} (--mitm-timeouts first-byte={})\n",
            self.target,
            Shown(self.timeouts.first_byte),
            Shown(self.timeouts.first_byte)
        );
        match &st.track {
            Track::H1 { owed: Some(_) } => {
                Some(super::guard::answer("504 Gateway Timeout", body.trim_end(), "").into_bytes())
            }
            Track::H1 { owed: None } => None,
            Track::H2(h) if h.down.at_boundary() => {
                let mut out = Vec::new();
                for id in h.owed.keys() {
                    frame(&mut out, HEADERS, END_HEADERS, *id, &STATUS_504_TEXT);
                    frame(&mut out, DATA, END_STREAM, *id, body.as_bytes());
                }
                let mut goaway = h.max_opened.to_be_bytes().to_vec();
                goaway.extend_from_slice(&0u32.to_be_bytes()); // NO_ERROR: all were answered
                goaway.extend_from_slice(body.trim_end().as_bytes());
                frame(&mut out, GOAWAY, 0, 0, &goaway);
                Some(out)
            }
            Track::H2(_) => None,
        }
    }
}

/// How long the answer to a timeout may take to write before the client is just closed.
const ANSWER_WRITE: Duration = Duration::from_secs(5);
/// What one read may gather (four TLS records).
const BUF: usize = 64 << 10;

/// Reads what is ready: waits for the first bytes, then keeps reading while more can be
/// had without waiting (a TLS stream gives one record, at most 16 KiB, per read). One
/// write and one tapped chunk then carry several records: fewer system calls and fewer
/// wake-ups of the client and of the decoder on a fast transfer. An error met after some
/// bytes were read is kept for the next call, so it is neither lost nor ahead of them.
async fn fill<R: AsyncRead + Unpin>(
    from: &mut R,
    buf: &mut [u8],
    held: &mut Option<std::io::Error>,
) -> std::io::Result<usize> {
    if let Some(e) = held.take() {
        return Err(e);
    }
    let n = from.read(buf).await?;
    if n == 0 {
        return Ok(0);
    }
    let mut rb = ReadBuf::new(buf);
    rb.advance(n);
    std::future::poll_fn(|cx| {
        while rb.remaining() > 0 {
            let before = rb.filled().len();
            match Pin::new(&mut *from).poll_read(cx, &mut rb) {
                Poll::Ready(Ok(())) if rb.filled().len() > before => {}
                // The end of the stream: the next read sees it again.
                Poll::Ready(Ok(())) | Poll::Pending => break,
                Poll::Ready(Err(e)) => {
                    *held = Some(e);
                    break;
                }
            }
        }
        Poll::Ready(Ok(rb.filled().len()))
    })
    .await
}

/// Copies `from` to `to` like `relay::relay`, telling `w` what it sees, until the end of
/// stream or until `w` fires. On a first-byte timeout the server → client side writes the
/// answer before closing. Nothing is tapped after a timeout (the decoder then ends the
/// connection with the timeout as its error).
pub(crate) async fn relay<R, W>(
    mut from: R,
    mut to: W,
    mut tap: DirTap,
    side: Side,
    w: &Watch,
) -> std::io::Result<()>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let mut fired = w.fired.subscribe();
    let mut buf = vec![0u8; BUF];
    let mut held = None;
    loop {
        let read = tokio::select! {
            r = fill(&mut from, &mut buf, &mut held) => r,
            _ = fired.wait_for(Option::is_some) => break,
        };
        let n = match read {
            Ok(n) => n,
            // Most TLS peers (the go command included) close without close_notify: that
            // is an end of stream, not a reset.
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => 0,
            Err(e) => {
                let _ = to.shutdown().await;
                return Err(e);
            }
        };
        let ts = Ts::now();
        let Some(chunk) = buf.get(..n).filter(|c| !c.is_empty()) else {
            let _ = to.shutdown().await;
            tap.fin(ts);
            return Ok(());
        };
        w.saw(side, chunk);
        // Flushed, not only written: a TLS stream's write returns once rustls holds the
        // records, and when the socket is full some stay in rustls until the next write or
        // flush. The last chunk of a body, followed by an idle keep-alive connection, then
        // never left (a 12 MB zip stuck 20 KB short, found by tests/mitm_stall.rs once the
        // relay also waited on the tap after each write).
        tokio::select! {
            r = async {
                to.write_all(chunk).await?;
                to.flush().await
            } => r?,
            _ = fired.wait_for(Option::is_some) => {
                if side == Side::Down {
                    w.state().dirty = true;
                }
                break;
            }
        }
        tap.data(ts, chunk).await;
    }
    // Given up on.
    if side == Side::Down && w.fired() == Some(Fire::FirstByte) {
        if let Some(answer) = w.answer() {
            let _ = tokio::time::timeout(ANSWER_WRITE, to.write_all(&answer)).await;
        }
    }
    let _ = tokio::time::timeout(ANSWER_WRITE, to.shutdown()).await;
    if w.fired() == Some(Fire::Idle) {
        // An idle connection closed is a normal end.
        tap.fin(Ts::now());
    }
    Ok(())
}

#[cfg(test)]
mod tests;
