//! Sniffing: the first bytes of the input say pcap (which byte order, micro- or
//! nanoseconds) or pcapng, or why it is not a capture at all ("empty", "starts with ...",
//! "cut off"). They are read and checked before a pcap-parser reader is built, and replayed
//! to it afterwards (`state::Source`).

use super::error::{corrupt, FileError};
use super::state::{bom_endian, Endian, MAX_RECORD};
use std::io::{self, Read};

/// What the file header says the file is.
pub(super) enum Kind {
    Pcap {
        endian: Endian,
        nanos: bool,
    },
    /// The first Section Header Block is `len` bytes, all read.
    Pcapng {
        len: usize,
    },
}

/// Reads the file header into `head` and tells what the file is.
pub(super) fn sniff<R: Read>(inner: &mut R, head: &mut Vec<u8>) -> Result<Kind, FileError> {
    read_at_least(inner, head, 8)?;
    if head.is_empty() {
        return Err(FileError::Empty);
    }
    if head.len() < 4 {
        return Err(FileError::NotACapture(hex_prefix(head)));
    }
    let (endian, nanos) = match head[..4] {
        [0xd4, 0xc3, 0xb2, 0xa1] => (Endian::Little, false),
        [0xa1, 0xb2, 0xc3, 0xd4] => (Endian::Big, false),
        [0x4d, 0x3c, 0xb2, 0xa1] => (Endian::Little, true),
        [0xa1, 0xb2, 0x3c, 0x4d] => (Endian::Big, true),
        [0x0a, 0x0d, 0x0d, 0x0a] => {
            let len = pcapng_first_section(inner, head)?;
            return Ok(Kind::Pcapng { len });
        }
        _ => return Err(FileError::NotACapture(hex_prefix(head))),
    };
    if !read_at_least(inner, head, 24)? {
        return Err(FileError::Truncated(0));
    }
    Ok(Kind::Pcap { endian, nanos })
}

fn hex_prefix(head: &[u8]) -> String {
    let bytes: Vec<String> = head[..head.len().min(8)]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("bytes {}", bytes.join(" "))
}

/// Reads until `buf` holds at least `n` bytes; `false` if the input ended first.
fn read_at_least<R: Read>(r: &mut R, buf: &mut Vec<u8>, n: usize) -> io::Result<bool> {
    while buf.len() < n {
        let start = buf.len();
        buf.resize(start + (n - start).max(64 << 10), 0);
        match r.read(&mut buf[start..]) {
            Ok(0) => {
                buf.truncate(start);
                return Ok(false);
            }
            Ok(k) => buf.truncate(start + k),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => buf.truncate(start),
            Err(e) => return Err(e),
        }
    }
    Ok(true)
}

/// Checks the first Section Header Block (read into `head`), as `new` must fail early on a
/// file that only starts like pcapng. Returns its length.
fn pcapng_first_section<R: Read>(r: &mut R, head: &mut Vec<u8>) -> Result<usize, FileError> {
    if !read_at_least(r, head, 12)? {
        return Err(FileError::Truncated(0));
    }
    let Some(endian) = bom_endian(&head[8..12]) else {
        return Err(corrupt(8, "bad pcapng byte-order magic".into()));
    };
    let len = endian.u32(&head[4..8]) as usize;
    if !(12..=MAX_RECORD).contains(&len) || len % 4 != 0 {
        return Err(corrupt(0, format!("block length {len}")));
    }
    if !read_at_least(r, head, len)? {
        return Err(FileError::Truncated(0));
    }
    let trailer = endian.u32(&head[len - 4..len]) as usize;
    if trailer != len {
        return Err(corrupt(
            0,
            format!("block length {len} does not match its trailer {trailer}"),
        ));
    }
    Ok(len)
}
