//! HTTP/2 as the tunnel's clock needs it: frame boundaries in a relayed byte stream (only
//! the 9-byte frame headers are read; payloads pass untouched), and the few frames
//! gomodwatch writes itself when it answers a timeout on the server's behalf.

pub const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
pub const DATA: u8 = 0;
pub const HEADERS: u8 = 1;
pub const RST_STREAM: u8 = 3;
pub const PUSH_PROMISE: u8 = 5;
pub const GOAWAY: u8 = 7;
pub const CONTINUATION: u8 = 9;
pub const END_STREAM: u8 = 0x1;
pub const END_HEADERS: u8 = 0x4;

/// HPACK for `:status: 504` and `content-type: text/plain`, as literals without indexing
/// (static-table names 8 and 31), so the client's dynamic table is left as it was.
pub const STATUS_504_TEXT: [u8; 18] = [
    0x08, 3, b'5', b'0', b'4', 0x0f, 0x10, 10, b't', b'e', b'x', b't', b'/', b'p', b'l', b'a',
    b'i', b'n',
];

pub fn frame(out: &mut Vec<u8>, kind: u8, flags: u8, id: u32, payload: &[u8]) {
    let len = payload.len() as u32;
    out.extend_from_slice(&len.to_be_bytes()[1..]);
    out.push(kind);
    out.push(flags);
    out.extend_from_slice(&(id & 0x7fff_ffff).to_be_bytes());
    out.extend_from_slice(payload);
}

/// HTTP/2 frame boundaries in one direction: only the 9-byte headers are looked at.
pub struct Frames {
    /// Bytes of the client preface still to pass.
    preface: usize,
    head: [u8; 9],
    have: usize,
    /// Payload bytes of the current frame still to pass.
    skip: u64,
    /// Inside a header block (HEADERS or PUSH_PROMISE without END_HEADERS).
    in_block: bool,
}

impl Frames {
    pub fn new(preface: usize) -> Frames {
        Frames {
            preface,
            head: [0; 9],
            have: 0,
            skip: 0,
            in_block: false,
        }
    }

    pub fn at_boundary(&self) -> bool {
        self.preface == 0 && self.have == 0 && self.skip == 0 && !self.in_block
    }

    /// Passes `bytes`, calling `on(type, flags, stream)` at each frame header.
    pub fn feed(&mut self, mut bytes: &[u8], mut on: impl FnMut(u8, u8, u32)) {
        while !bytes.is_empty() {
            if self.preface > 0 {
                let n = self.preface.min(bytes.len());
                self.preface -= n;
                bytes = &bytes[n..];
            } else if self.skip > 0 {
                let n = (self.skip.min(bytes.len() as u64)) as usize;
                self.skip -= n as u64;
                bytes = &bytes[n..];
            } else {
                let n = (9 - self.have).min(bytes.len());
                self.head[self.have..self.have + n].copy_from_slice(&bytes[..n]);
                self.have += n;
                bytes = &bytes[n..];
                if self.have == 9 {
                    self.have = 0;
                    let h = self.head;
                    let len = u64::from(u32::from_be_bytes([0, h[0], h[1], h[2]]));
                    let (kind, flags) = (h[3], h[4]);
                    let id = u32::from_be_bytes([h[5], h[6], h[7], h[8]]) & 0x7fff_ffff;
                    match kind {
                        HEADERS | PUSH_PROMISE => self.in_block = flags & END_HEADERS == 0,
                        CONTINUATION if flags & END_HEADERS != 0 => self.in_block = false,
                        _ => {}
                    }
                    self.skip = len;
                    on(kind, flags, id);
                }
            }
        }
    }
}
