//! HTTP/2 as the tunnel's clock needs it: frame boundaries in a relayed byte stream (only
//! the 9-byte frame headers are read; payloads pass untouched), and the few frames
//! gomodwatch writes itself when it answers a timeout on the server's behalf.

pub(crate) const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
pub(crate) const DATA: u8 = 0;
pub(crate) const HEADERS: u8 = 1;
pub(crate) const RST_STREAM: u8 = 3;
pub(crate) const PUSH_PROMISE: u8 = 5;
pub(crate) const GOAWAY: u8 = 7;
pub(crate) const CONTINUATION: u8 = 9;
pub(crate) const END_STREAM: u8 = 0x1;
pub(crate) const END_HEADERS: u8 = 0x4;
pub(crate) const PADDED: u8 = 0x8;

/// HPACK for `:status: 504` and `content-type: text/plain`, as literals without indexing
/// (static-table names 8 and 31), so the client's dynamic table is left as it was.
pub(crate) const STATUS_504_TEXT: [u8; 18] = [
    0x08, 3, b'5', b'0', b'4', 0x0f, 0x10, 10, b't', b'e', b'x', b't', b'/', b'p', b'l', b'a',
    b'i', b'n',
];

pub(crate) fn frame(out: &mut Vec<u8>, kind: u8, flags: u8, id: u32, payload: &[u8]) {
    let len = payload.len() as u32;
    out.extend_from_slice(&len.to_be_bytes()[1..]);
    out.push(kind);
    out.push(flags);
    out.extend_from_slice(&(id & 0x7fff_ffff).to_be_bytes());
    out.extend_from_slice(payload);
}

/// HTTP/2 frame boundaries in one direction: only the 9-byte headers are looked at.
pub(crate) struct Frames {
    /// Bytes of the client preface still to pass.
    preface: usize,
    head: [u8; 9],
    have: usize,
    /// Payload bytes of the current frame still to pass.
    skip: u64,
    /// The payload passing is a DATA frame's.
    data: bool,
    /// A PADDED DATA frame's pad length octet is still to pass.
    pad_octet: bool,
    /// Inside a header block (HEADERS or PUSH_PROMISE without END_HEADERS).
    in_block: bool,
}

/// What a piece of a relayed byte stream is, for a tap that must drop bytes and keep the
/// decoder in step: the body bytes a DATA frame carries (data and padding) can go
/// missing without losing frame sync or HPACK state; everything else cannot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Piece {
    /// Frame headers, the preface, and the payloads of every frame but DATA (and a
    /// padded DATA frame's pad length octet).
    Framing,
    DataPayload,
}

impl Frames {
    pub(crate) fn new(preface: usize) -> Frames {
        Frames {
            preface,
            head: [0; 9],
            have: 0,
            skip: 0,
            data: false,
            pad_octet: false,
            in_block: false,
        }
    }

    pub(crate) fn at_boundary(&self) -> bool {
        self.preface == 0 && self.have == 0 && self.skip == 0 && !self.in_block
    }

    /// Passes `bytes`, calling `on(type, flags, stream)` at each frame header.
    pub(crate) fn feed(&mut self, bytes: &[u8], on: impl FnMut(u8, u8, u32)) {
        self.walk(bytes, on, |_, _| {});
    }

    /// Passes `bytes`, cutting them into runs of one kind: `on(kind, run)` gets them in
    /// order, adjacent runs never of the same kind.
    pub(crate) fn split<'b>(&mut self, bytes: &'b [u8], mut on: impl FnMut(Piece, &'b [u8])) {
        let mut run: Option<(Piece, usize)> = None;
        let mut at = 0;
        self.walk(
            bytes,
            |_, _, _| {},
            |kind, n| {
                match run {
                    Some((k, _)) if k == kind => {}
                    Some((k, start)) => {
                        on(k, &bytes[start..at]);
                        run = Some((kind, at));
                    }
                    None => run = Some((kind, at)),
                }
                at += n;
            },
        );
        if let Some((k, start)) = run {
            on(k, &bytes[start..]);
        }
    }

    /// The walk itself: `on_frame` at each frame header, `on_piece(kind, n)` for each
    /// consecutive `n` bytes of one kind.
    fn walk(
        &mut self,
        mut bytes: &[u8],
        mut on_frame: impl FnMut(u8, u8, u32),
        mut on_piece: impl FnMut(Piece, usize),
    ) {
        while !bytes.is_empty() {
            let (kind, n) = if self.preface > 0 {
                let n = self.preface.min(bytes.len());
                self.preface -= n;
                (Piece::Framing, n)
            } else if self.skip > 0 && self.pad_octet {
                self.pad_octet = false;
                self.skip -= 1;
                (Piece::Framing, 1)
            } else if self.skip > 0 {
                let n = (self.skip.min(bytes.len() as u64)) as usize;
                self.skip -= n as u64;
                let kind = if self.data {
                    Piece::DataPayload
                } else {
                    Piece::Framing
                };
                (kind, n)
            } else {
                let n = (9 - self.have).min(bytes.len());
                self.head[self.have..self.have + n].copy_from_slice(&bytes[..n]);
                self.have += n;
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
                    self.data = kind == DATA;
                    self.pad_octet = kind == DATA && flags & PADDED != 0 && len > 0;
                    on_frame(kind, flags, id);
                }
                (Piece::Framing, n)
            };
            on_piece(kind, n);
            bytes = &bytes[n..];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_keeps_framing_apart_from_data_payload_wherever_the_chunks_end() {
        let mut wire = Vec::new();
        frame(&mut wire, HEADERS, END_HEADERS, 1, b"hpack");
        // PADDED: pad length 2, then "body", then the padding.
        frame(&mut wire, DATA, PADDED | END_STREAM, 1, b"\x02body\0\0");
        frame(&mut wire, DATA, 0, 3, b"more");
        let expect = [
            (Piece::Framing, 9 + 5 + 9 + 1),
            (Piece::DataPayload, 6),
            (Piece::Framing, 9),
            (Piece::DataPayload, 4),
        ];
        for size in 1..wire.len() {
            let mut f = Frames::new(0);
            let mut got: Vec<(Piece, usize)> = Vec::new();
            for c in wire.chunks(size) {
                f.split(c, |k, run| match got.last_mut() {
                    Some((last, n)) if *last == k => *n += run.len(),
                    _ => got.push((k, run.len())),
                });
            }
            assert_eq!(got, expect, "chunks of {size}");
            assert!(f.at_boundary());
        }
    }
}
