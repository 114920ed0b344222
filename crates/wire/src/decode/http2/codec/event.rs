//! What the codec reports about a connection, one [`Event`] at a time. Every event names
//! the stream it is about (`stream`, the HTTP/2 stream id), the direction whose bytes
//! told it (`dir`, where it is not implied) and the time of the frame that did (`ts`).

use crate::vocab::{Dir, Ts};

/// What the decoder saw. Borrowed data (`Data::data`) points into the chunk
/// passed to [`H2Conn::feed`](super::H2Conn::feed).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event<'a> {
    /// A request's header block (HEADERS + CONTINUATIONs, decoded).
    /// `ts` is the first byte of its HEADERS frame.
    Request {
        /// The stream the request opened.
        stream: u32,
        /// The first byte of its HEADERS frame.
        ts: Ts,
        /// `:method`.
        method: String,
        /// `:scheme`.
        scheme: String,
        /// `:authority`.
        authority: String,
        /// `:path`.
        path: String,
        /// Regular headers in order, lowercased names.
        headers: Vec<(String, String)>,
        /// The request has no body.
        end_stream: bool,
    },
    /// The final (non-1xx) response head. `status` is 0 when `:status` is
    /// missing or not a number.
    Response {
        /// The stream it answers.
        stream: u32,
        /// The first byte of its HEADERS frame.
        ts: Ts,
        /// `:status` (0 when missing or not a number).
        status: u16,
        /// Regular headers in order, lowercased names.
        headers: Vec<(String, String)>,
        /// The response has no body.
        end_stream: bool,
    },
    /// A 1xx informational response head.
    Informational {
        /// The stream it answers.
        stream: u32,
        /// The first byte of its HEADERS frame.
        ts: Ts,
        /// `:status`, 100 to 199.
        status: u16,
    },
    /// A trailer block (a header block after the head) of either side.
    Trailers {
        /// The stream it ends.
        stream: u32,
        /// Whose trailers.
        dir: Dir,
        /// The first byte of its HEADERS frame.
        ts: Ts,
        /// The block ended the stream (it should).
        end_stream: bool,
    },
    /// DATA payload without padding; a frame split over chunks gives one
    /// event per piece, `end_stream` only on the last.
    Data {
        /// The stream whose body this is.
        stream: u32,
        /// Whose body.
        dir: Dir,
        /// The chunk this piece arrived in.
        ts: Ts,
        /// The piece, borrowed from the chunk fed.
        data: &'a [u8],
        /// The last piece of the body.
        end_stream: bool,
    },
    /// `len` bytes of a DATA payload went missing, framing intact (a tap that dropped
    /// body bytes only, a lost segment inside a large body): the stream goes on with a
    /// hole in its body. `end_stream` as for [`Event::Data`].
    DataGap {
        /// The stream whose body lost bytes.
        stream: u32,
        /// Whose body.
        dir: Dir,
        /// When the loss was told.
        ts: Ts,
        /// Bytes missing.
        len: u64,
        /// The missing bytes ended the body.
        end_stream: bool,
    },
    /// RST_STREAM: one side cancelled the stream.
    Reset {
        /// The stream reset.
        stream: u32,
        /// Who reset it.
        dir: Dir,
        /// The frame's time.
        ts: Ts,
        /// The error code (`error_code_name` names it).
        code: u32,
    },
    /// GOAWAY: one side will start no stream above `last_stream`. `debug` is lossy UTF-8,
    /// at most 256 bytes of the frame's debug data.
    GoAway {
        /// Who sent it.
        dir: Dir,
        /// The frame's time.
        ts: Ts,
        /// The last stream the sender may still answer.
        last_stream: u32,
        /// The error code (`error_code_name` names it).
        code: u32,
        /// The frame's debug data (lossy UTF-8, at most 256 bytes).
        debug: String,
    },
    /// A stream refused by our limits; its later frames are ignored.
    Dropped {
        /// The stream refused.
        stream: u32,
        /// The direction whose frame opened it.
        dir: Dir,
        /// The frame's time.
        ts: Ts,
        /// Which limit refused it.
        reason: &'static str,
    },
    /// Nothing more is decoded from `dir` (protocol error, gap, HPACK).
    Broken {
        /// The direction given up.
        dir: Dir,
        /// When it broke.
        ts: Ts,
        /// Why, in words.
        reason: String,
    },
    /// A stream still open when `close` was called (`ts` is the close time).
    Unfinished {
        /// The stream left open.
        stream: u32,
        /// The close time.
        ts: Ts,
    },
}
