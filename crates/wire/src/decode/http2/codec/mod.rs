//! Passive HTTP/2 codec (moved here from the standalone `h2codec` crate).
//!
//! [`H2Conn`] is fed the two plaintext byte streams of one connection
//! (client→server [`Dir::Up`], server→client [`Dir::Down`]) in capture order
//! and reports what happened on it through a callback: request and response
//! heads (HPACK-decoded), DATA payload slices (zero-copy), resets, GOAWAY,
//! and where it had to give up. It never sends anything, never panics on
//! any input, and its memory is bounded by [`Limits`].
//!
//! Layout: `frames` (wire layout, pure parsers), `hpack` (HPACK decoder
//! glue), `streams` (open-stream table), `conn` (the API and the
//! per-direction frame state machine), `pairing` (what complete frames mean
//! for the streams).

mod conn;
mod frames;
mod hpack;
mod pairing;
mod streams;

pub use conn::H2Conn;
pub use frames::{error_code_name, PREFACE};

pub use crate::vocab::{Dir, Ts};

/// For the fuzz targets (`gomodwatch::fuzzing`): one direction's HPACK decoder driven by
/// `(op, bytes)` steps: op 0 decodes a header block, 1 is a peer SETTINGS with a
/// HEADER_TABLE_SIZE (the first 4 bytes, big-endian; none if fewer), 2 its ACK.
#[doc(hidden)]
pub fn fuzz_hpack<'a>(cap: usize, steps: impl Iterator<Item = (u8, &'a [u8])>) {
    let mut dir = hpack::HpackDir::new(cap);
    for (op, bytes) in steps {
        match op % 3 {
            0 => {
                let _ = dir.decode(bytes, Limits::default().max_header_list);
            }
            1 => dir.peer_settings(
                bytes
                    .get(..4)
                    .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]])),
            ),
            _ => dir.peer_settings_ack(),
        }
    }
}

/// Resource limits; whatever exceeds them is counted in [`Counters`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Streams tracked at once; further streams are reported as
    /// [`Event::Dropped`] and their frames ignored.
    pub max_streams: usize,
    /// Decoded header bytes per block (name + value + 32 per field, as
    /// SETTINGS_MAX_HEADER_LIST_SIZE counts); a larger block drops its stream.
    pub max_header_list: usize,
    /// HPACK dynamic table cap per direction (never below the protocol's
    /// initial 4096): a table size update above it breaks the direction.
    pub max_dynamic_table: usize,
    /// Frame payload length above which a frame is a protocol error.
    pub max_frame: usize,
    /// Bytes of one header block (HEADERS/PUSH_PROMISE + CONTINUATIONs)
    /// buffered; a larger block breaks the direction (HPACK state is lost).
    pub max_header_block: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_streams: 1024,
            max_header_list: 64 << 10,
            max_dynamic_table: 64 << 10,
            max_frame: 16 << 20,
            max_header_block: 256 << 10,
        }
    }
}

/// What was decoded, dropped or skipped, for the observer's own statistics.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    /// Frame headers read (both directions).
    pub frames: u64,
    /// DATA payload bytes reported in [`Event::Data`].
    pub data_bytes: u64,
    /// DATA payload bytes missing, framing intact ([`Event::DataGap`]).
    pub data_bytes_missed: u64,
    /// Header blocks HPACK-decoded (including PUSH_PROMISE and ignored ones).
    pub header_blocks: u64,
    /// Streams opened in the table.
    pub streams_opened: u64,
    /// Streams refused because `max_streams` were open.
    pub streams_dropped: u64,
    /// Header blocks whose decoded list exceeded `max_header_list`.
    pub header_lists_too_large: u64,
    /// Header blocks above `max_header_block` (the direction broke).
    pub header_blocks_too_large: u64,
    /// Frames above `max_frame` (the direction broke).
    pub frames_too_large: u64,
    /// Frames skipped because their fixed layout was wrong but framing held
    /// (bad DATA padding, RST_STREAM of the wrong size, ...).
    pub malformed_frames: u64,
    /// Frames on streams that are closed, reset, refused or pushed.
    pub ignored_frames: u64,
    /// PUSH_PROMISE frames (decoded for HPACK's sake, not reported).
    pub push_promises: u64,
    /// Frames of unknown type (ignored, as RFC 9113 §4.1 requires).
    pub unknown_frames: u64,
    /// HPACK table size updates above the peer's advertised
    /// SETTINGS_HEADER_TABLE_SIZE, accepted leniently.
    pub hpack_size_over_setting: u64,
    /// Directions that broke ([`Event::Broken`]).
    pub broken: u64,
    /// Bytes not decoded: fed after a direction broke or after `close`, and
    /// bytes reported missing by `gap`.
    pub bytes_skipped: u64,
}

/// What the decoder saw. Borrowed data (`Data::data`) points into the chunk
/// passed to [`H2Conn::feed`].
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
