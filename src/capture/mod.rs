//! Packet sources: capture files (pure Rust), live interfaces (libpcap), and in-memory
//! packet lists for tests. Every source yields the same `Packet`.

pub mod file;
pub mod link;
pub mod live;
pub mod writer;

use crate::time::Ts;
pub use link::LinkType;

/// One captured frame, borrowed from the source's buffer.
#[derive(Debug, Clone, Copy)]
pub struct Packet<'a> {
    pub ts: Ts,
    pub link: LinkType,
    /// Index of the capture interface (pcapng IDB, or the `-i` position when live).
    pub iface: u32,
    /// Length on the wire; larger than `data.len()` when the snap length cut the frame.
    pub wire_len: u32,
    pub data: &'a [u8],
}
