//! How much one connection's codec may hold ([`Limits`]), and what it decoded, dropped or
//! skipped ([`Counters`]).

/// Resource limits; whatever exceeds them is counted in [`Counters`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Streams tracked at once; further streams are reported as
    /// [`Event::Dropped`](super::Event::Dropped) and their frames ignored.
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
    /// DATA payload bytes reported in [`Event::Data`](super::Event::Data).
    pub data_bytes: u64,
    /// DATA payload bytes missing, framing intact ([`Event::DataGap`](super::Event::DataGap)).
    pub(crate) data_bytes_missed: u64,
    /// Header blocks HPACK-decoded (including PUSH_PROMISE and ignored ones).
    pub header_blocks: u64,
    /// Streams opened in the table.
    pub(crate) streams_opened: u64,
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
    /// Directions that broke ([`Event::Broken`](super::Event::Broken)).
    pub broken: u64,
    /// Bytes not decoded: fed after a direction broke or after `close`, and
    /// bytes reported missing by `gap`.
    pub bytes_skipped: u64,
}
