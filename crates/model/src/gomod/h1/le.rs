//! Little-endian fields of zip headers, and a signature looked for across pieces.

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

/// Whether `sig` is in `data`, or split between the last bytes seen before it (`tail`,
/// kept up to date here: at most 3 bytes) and its start.
pub(super) fn end_signature_in(tail: &mut Vec<u8>, data: &[u8], sig: u32) -> bool {
    let sig = sig.to_le_bytes();
    tail.extend_from_slice(&data[..data.len().min(3)]);
    if memchr::memmem::find(tail, &sig).is_some() || memchr::memmem::find(data, &sig).is_some() {
        return true;
    }
    let keep = if data.len() >= 3 {
        data[data.len() - 3..].to_vec()
    } else {
        tail[tail.len().saturating_sub(3)..].to_vec()
    };
    *tail = keep;
    false
}
