//! What reading a capture file can fail with, as the user reads it.

use crate::vocab::UnsupportedLinkType;
use std::io;

/// Why a capture file cannot be read (from the start, or from some point on).
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    /// Reading failed (the system's own message).
    #[error("{0}")]
    Io(#[from] io::Error),
    /// Nothing to read.
    #[error("the file is empty")]
    Empty,
    /// The first bytes are not a pcap or pcapng header.
    #[error("not a pcap or pcapng file (starts with {0})")]
    NotACapture(String),
    /// A record runs past the end of the file.
    #[error("truncated capture: the record at byte {0} is cut off")]
    Truncated(u64),
    /// A record or block cannot be right (a length, a trailer, a header).
    #[error("corrupt capture at byte {offset}: {what}")]
    Corrupt {
        /// Where (the record or block start).
        offset: u64,
        /// What is wrong.
        what: String,
    },
    /// A link type gomodwatch cannot decode.
    #[error("{0}")]
    LinkType(#[from] UnsupportedLinkType),
}

pub(super) fn corrupt(offset: u64, what: String) -> FileError {
    FileError::Corrupt { offset, what }
}

/// The packet data pcap-parser pointed at is not where the framing checks said: cannot
/// happen, but an error is better than a panic.
pub(super) fn lost(at: u64) -> FileError {
    corrupt(at, "packet data outside its record".into())
}
