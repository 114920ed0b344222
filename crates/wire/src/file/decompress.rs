//! Compressed captures (`capture.pcap.gz`, `.pcapng.zst`, `.pcap.xz`), read as they are, as
//! tshark does: the first bytes of the input say which compression, never its name (standard
//! input has none). Each decoder is a streaming one from a kept crate (flate2, zstd, xz2):
//! memory is its window (gzip 32 KiB, xz its dictionary, at most 64 MiB for `xz -9`, zstd
//! the frame's window, capped below) plus the reader's buffer, whatever the file's size.
//! Several concatenated members or frames (`cat a.gz b.gz`, pigz, pzstd) are read on.

use std::io::{self, BufReader, Read};

/// The largest zstd window accepted: 2^27 = 128 MiB, what `zstd --long` writes at most by
/// default. A frame asking for more is refused rather than allowed to take more memory.
const ZSTD_MAX_WINDOW_LOG: u32 = 27;

/// Which compression the first bytes name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Compression {
    Gzip,
    Zstd,
    Xz,
}

impl Compression {
    /// The compression a file starting with `head` uses, if any.
    pub(super) fn sniff(head: &[u8]) -> Option<Compression> {
        if head.starts_with(&[0x1f, 0x8b]) {
            Some(Compression::Gzip)
        } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            Some(Compression::Zstd)
        } else if head.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0]) {
            Some(Compression::Xz)
        } else {
            None
        }
    }

    pub(super) fn name(self) -> &'static str {
        match self {
            Compression::Gzip => "gzip",
            Compression::Zstd => "zstd",
            Compression::Xz => "xz",
        }
    }
}

/// The bytes already read from the input, then the rest of it.
pub(super) struct Replay<R> {
    head: io::Cursor<Vec<u8>>,
    inner: R,
}

impl<R: Read> Read for Replay<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if (self.head.position() as usize) < self.head.get_ref().len() {
            return self.head.read(buf);
        }
        self.inner.read(buf)
    }
}

/// The input as the capture reader sees it: as it is, or decompressed.
pub(super) enum Input<R: Read> {
    Plain(R),
    Gzip(flate2::read::MultiGzDecoder<BufReader<Replay<R>>>),
    Zstd(zstd::stream::read::Decoder<'static, BufReader<Replay<R>>>),
    Xz(xz2::read::XzDecoder<BufReader<Replay<R>>>),
}

impl<R: Read> Input<R> {
    /// Wraps `inner`, whose first bytes (`head`) were already read, in the decoder they name.
    pub(super) fn new(head: Vec<u8>, inner: R, kind: Compression) -> io::Result<Input<R>> {
        let src = BufReader::with_capacity(
            256 << 10,
            Replay {
                head: io::Cursor::new(head),
                inner,
            },
        );
        Ok(match kind {
            Compression::Gzip => Input::Gzip(flate2::read::MultiGzDecoder::new(src)),
            Compression::Zstd => {
                let mut d = zstd::stream::read::Decoder::with_buffer(src)?;
                d.window_log_max(ZSTD_MAX_WINDOW_LOG)?;
                Input::Zstd(d)
            }
            // Multi-stream: `xz` itself reads concatenated streams on.
            Compression::Xz => Input::Xz(xz2::read::XzDecoder::new_multi_decoder(src)),
        })
    }

    pub(super) fn compressed(&self) -> Option<Compression> {
        match self {
            Input::Plain(_) => None,
            Input::Gzip(_) => Some(Compression::Gzip),
            Input::Zstd(_) => Some(Compression::Zstd),
            Input::Xz(_) => Some(Compression::Xz),
        }
    }
}

impl<R: Read> Read for Input<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let r = match self {
            Input::Plain(r) => return r.read(buf),
            Input::Gzip(d) => d.read(buf),
            Input::Zstd(d) => d.read(buf),
            Input::Xz(d) => d.read(buf),
        };
        // A decoder's own message ("corrupt deflate stream") says little without its name;
        // an input that ends inside a compressed stream is a cut-off file, said so.
        r.map_err(|e| {
            let name = self.compressed().map_or("", Compression::name);
            match e.kind() {
                io::ErrorKind::Interrupted => e,
                io::ErrorKind::UnexpectedEof => io::Error::new(
                    e.kind(),
                    format!("{name}-compressed input cut off before its end"),
                ),
                _ => io::Error::new(e.kind(), format!("{name}-compressed input is damaged: {e}")),
            }
        })
    }
}

/// Reads until `head` holds `n` bytes or the input ends, a read of up to 64 KiB at a time
/// (what the file header's reader asks for too: one read usually brings the whole header).
pub(super) fn fill<R: Read>(r: &mut R, head: &mut Vec<u8>, n: usize) -> io::Result<()> {
    while head.len() < n {
        let start = head.len();
        head.resize(start + (64 << 10), 0);
        match r.read(&mut head[start..]) {
            Ok(0) => {
                head.truncate(start);
                break;
            }
            Ok(k) => head.truncate(start + k),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => head.truncate(start),
            Err(e) => {
                head.truncate(start);
                return Err(e);
            }
        }
    }
    Ok(())
}

/// Peeks at the input: decompresses it when its first bytes name a compression.
pub(super) fn open<R: Read>(mut inner: R) -> io::Result<(Input<R>, Vec<u8>)> {
    let mut head = Vec::new();
    fill(&mut inner, &mut head, 6)?;
    match Compression::sniff(&head) {
        Some(kind) => Ok((Input::new(head, inner, kind)?, Vec::new())),
        None => Ok((Input::Plain(inner), head)),
    }
}
