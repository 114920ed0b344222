//! HTTP/2 frame layout (RFC 9113 §4.1, §6): constants and pure parsers of
//! frame headers and of the fixed parts of payloads. No state lives here.

/// The client connection preface (RFC 9113 §3.4).
pub const PREFACE: &[u8; 24] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

pub(crate) const FRAME_HEADER_LEN: usize = 9;

pub(crate) const DATA: u8 = 0x0;
pub(crate) const HEADERS: u8 = 0x1;
pub(crate) const PRIORITY: u8 = 0x2;
pub(crate) const RST_STREAM: u8 = 0x3;
pub(crate) const SETTINGS: u8 = 0x4;
pub(crate) const PUSH_PROMISE: u8 = 0x5;
pub(crate) const PING: u8 = 0x6;
pub(crate) const GOAWAY: u8 = 0x7;
pub(crate) const WINDOW_UPDATE: u8 = 0x8;
pub(crate) const CONTINUATION: u8 = 0x9;

pub(crate) const FLAG_END_STREAM: u8 = 0x1;
/// SETTINGS and PING use bit 0 as ACK.
pub(crate) const FLAG_ACK: u8 = 0x1;
pub(crate) const FLAG_END_HEADERS: u8 = 0x4;
pub(crate) const FLAG_PADDED: u8 = 0x8;
pub(crate) const FLAG_PRIORITY: u8 = 0x20;

pub(crate) const SETTINGS_HEADER_TABLE_SIZE: u16 = 0x1;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct FrameHeader {
    pub(crate) len: usize,
    pub(crate) kind: u8,
    pub(crate) flags: u8,
    /// Reserved bit masked off.
    pub(crate) stream: u32,
}

impl FrameHeader {
    pub fn parse(b: &[u8; FRAME_HEADER_LEN]) -> FrameHeader {
        FrameHeader {
            len: (usize::from(b[0]) << 16) | (usize::from(b[1]) << 8) | usize::from(b[2]),
            kind: b[3],
            flags: b[4],
            stream: u32::from_be_bytes([b[5], b[6], b[7], b[8]]) & 0x7fff_ffff,
        }
    }

    pub(crate) fn has(&self, flag: u8) -> bool {
        self.flags & flag != 0
    }
}

/// Big-endian u32 at `at`, if the slice is long enough.
pub(crate) fn be32(p: &[u8], at: usize) -> Option<u32> {
    let b = p.get(at..at.checked_add(4)?)?;
    Some(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

/// The header block fragment inside a HEADERS or PUSH_PROMISE payload:
/// strips the pad length, priority fields (HEADERS) or promised stream id
/// (PUSH_PROMISE), and the padding. `None` when the lengths don't add up
/// (a connection error: the fragment, and so HPACK state, can't be trusted).
pub(crate) fn block_fragment<'p>(h: &FrameHeader, p: &'p [u8]) -> Option<&'p [u8]> {
    let mut start = 0usize;
    let mut pad = 0usize;
    if h.has(FLAG_PADDED) {
        pad = usize::from(*p.first()?);
        start = 1;
    }
    match h.kind {
        HEADERS if h.has(FLAG_PRIORITY) => start += 5,
        PUSH_PROMISE => start += 4,
        _ => {}
    }
    let end = p.len().checked_sub(pad)?;
    p.get(start..end)
}

/// SETTINGS entries (identifier, value); a trailing partial entry is ignored
/// (the caller counts the frame as malformed when `len % 6 != 0`).
pub(crate) fn settings(p: &[u8]) -> impl Iterator<Item = (u16, u32)> + '_ {
    p.chunks_exact(6).map(|c| {
        (
            u16::from_be_bytes([c[0], c[1]]),
            u32::from_be_bytes([c[2], c[3], c[4], c[5]]),
        )
    })
}

/// Name of an HTTP/2 error code (RFC 9113 §7).
pub fn error_code_name(code: u32) -> &'static str {
    match code {
        0x0 => "NO_ERROR",
        0x1 => "PROTOCOL_ERROR",
        0x2 => "INTERNAL_ERROR",
        0x3 => "FLOW_CONTROL_ERROR",
        0x4 => "SETTINGS_TIMEOUT",
        0x5 => "STREAM_CLOSED",
        0x6 => "FRAME_SIZE_ERROR",
        0x7 => "REFUSED_STREAM",
        0x8 => "CANCEL",
        0x9 => "COMPRESSION_ERROR",
        0xa => "CONNECT_ERROR",
        0xb => "ENHANCE_YOUR_CALM",
        0xc => "INADEQUATE_SECURITY",
        0xd => "HTTP_1_1_REQUIRED",
        _ => "UNKNOWN",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_parse_masks_reserved_bit() {
        let h = FrameHeader::parse(&[0, 1, 2, HEADERS, 0x25, 0x80, 0, 0, 3]);
        assert_eq!(h.len, 258);
        assert_eq!(h.kind, HEADERS);
        assert!(h.has(FLAG_END_HEADERS) && h.has(FLAG_PRIORITY) && h.has(FLAG_END_STREAM));
        assert_eq!(h.stream, 3);
    }

    #[test]
    fn fragment_padding_and_priority() {
        let h = FrameHeader {
            len: 0,
            kind: HEADERS,
            flags: FLAG_PADDED | FLAG_PRIORITY,
            stream: 1,
        };
        let p = [2, 0, 0, 0, 0, 16, 0x82, 0x84, 0, 0];
        assert_eq!(block_fragment(&h, &p), Some(&[0x82, 0x84][..]));
        // Pad length larger than the payload.
        assert_eq!(block_fragment(&h, &[9, 0, 0, 0, 0, 16]), None);
        // Empty payload with PADDED set.
        assert_eq!(block_fragment(&h, &[]), None);
        let pp = FrameHeader {
            len: 0,
            kind: PUSH_PROMISE,
            flags: 0,
            stream: 1,
        };
        assert_eq!(block_fragment(&pp, &[0, 0, 0, 2, 0x82]), Some(&[0x82][..]));
        assert_eq!(block_fragment(&pp, &[0, 0]), None);
    }

    #[test]
    fn error_names() {
        assert_eq!(error_code_name(2), "INTERNAL_ERROR");
        assert_eq!(error_code_name(0xd), "HTTP_1_1_REQUIRED");
        assert_eq!(error_code_name(0xdead), "UNKNOWN");
    }
}
