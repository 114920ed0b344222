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
//! glue), `streams` (open-stream table), `conn` (the API), `side` (the
//! per-direction frame state machine), `pairing` (what complete frames mean
//! for the streams), `event` (what is reported), `limits` (bounds and
//! counters).

mod conn;
mod event;
mod frames;
mod hpack;
mod limits;
mod pairing;
mod side;
mod streams;

pub use conn::H2Conn;
pub use event::Event;
pub use frames::{error_code_name, PREFACE};
pub use limits::{Counters, Limits};

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
