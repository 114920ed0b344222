//! What reading a capture file can fail with, as the user reads it.

use crate::vocab::UnsupportedLinkType;
use std::io;

/// Why a capture file cannot be read (from the start, or from some point on).
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("{0}")]
    Io(#[from] io::Error),
    #[error("the file is empty")]
    Empty,
    #[error("not a pcap or pcapng file (starts with {0})")]
    NotACapture(String),
    #[error("truncated capture: the record at byte {0} is cut off")]
    Truncated(u64),
    #[error("corrupt capture at byte {offset}: {what}")]
    Corrupt { offset: u64, what: String },
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
