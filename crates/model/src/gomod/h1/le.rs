//! Little-endian fields of zip headers.

pub(super) fn le16(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

pub(super) fn le32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// Does a local header's extra field carry Zip64 sizes (header id 0x0001)?
pub(super) fn has_zip64(mut extra: &[u8]) -> bool {
    while extra.len() >= 4 {
        let id = le16(extra, 0);
        let len = le16(extra, 2) as usize;
        if id == 1 {
            return true;
        }
        extra = &extra[(4 + len).min(extra.len())..];
    }
    false
}
