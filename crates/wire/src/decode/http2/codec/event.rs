//! What the codec reports about a connection, one [`Event`] at a time.

use crate::vocab::{Dir, Ts};

/// What the decoder saw. Borrowed data (`Data::data`) points into the chunk
/// passed to [`H2Conn::feed`](super::H2Conn::feed).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event<'a> {
    /// A request's header block (HEADERS + CONTINUATIONs, decoded).
    /// `ts` is the first byte of its HEADERS frame.
    Request {
        stream: u32,
        ts: Ts,
        method: String,
        scheme: String,
        authority: String,
        path: String,
        /// Regular headers in order, lowercased names.
        headers: Vec<(String, String)>,
        end_stream: bool,
    },
    /// The final (non-1xx) response head. `status` is 0 when `:status` is
    /// missing or not a number.
    Response {
        stream: u32,
        ts: Ts,
        status: u16,
        headers: Vec<(String, String)>,
        end_stream: bool,
    },
    /// A 1xx informational response head.
    Informational { stream: u32, ts: Ts, status: u16 },
    /// A trailer block (a header block after the head) of either side.
    Trailers {
        stream: u32,
        dir: Dir,
        ts: Ts,
        end_stream: bool,
    },
    /// DATA payload without padding; a frame split over chunks gives one
    /// event per piece, `end_stream` only on the last.
    Data {
        stream: u32,
        dir: Dir,
        ts: Ts,
        data: &'a [u8],
        end_stream: bool,
    },
    /// `len` bytes of a DATA payload went missing, framing intact (a tap that dropped
    /// body bytes only, a lost segment inside a large body): the stream goes on with a
    /// hole in its body. `end_stream` as for [`Event::Data`].
    DataGap {
        stream: u32,
        dir: Dir,
        ts: Ts,
        len: u64,
        end_stream: bool,
    },
    Reset {
        stream: u32,
        dir: Dir,
        ts: Ts,
        code: u32,
    },
    /// `debug` is lossy UTF-8, at most 256 bytes of the frame's debug data.
    GoAway {
        dir: Dir,
        ts: Ts,
        last_stream: u32,
        code: u32,
        debug: String,
    },
    /// A stream refused by our limits; its later frames are ignored.
    Dropped {
        stream: u32,
        dir: Dir,
        ts: Ts,
        reason: &'static str,
    },
    /// Nothing more is decoded from `dir` (protocol error, gap, HPACK).
    Broken { dir: Dir, ts: Ts, reason: String },
    /// A stream still open when `close` was called (`ts` is the close time).
    Unfinished { stream: u32, ts: Ts },
}
