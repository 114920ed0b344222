//! `h1:` hashes exactly as the go command computes them (docs/goproxy-protocol.md §3.5): dirhash Hash1
//! over a module zip's files, and over a `.mod` file named `go.mod`.
//!
//! A zip is hashed while it streams past, never stored whole: local file headers are read
//! in order, each entry is inflated into SHA-256, and the central directory ends the walk.
//! A deflated entry is inflated whole by libdeflate (`fast`) when its compressed bytes fit
//! in a window of [`WINDOW`] bytes and its output in `fast::MAX_OUT`: the bytes of an entry
//! not yet complete wait in the window. Larger entries, and any libdeflate refuses, are
//! inflated on the fly by zlib-rs from the entry's first byte, as every entry was before:
//! both give the same bytes for any stream both accept. Memory per zip is the window, one
//! inflate state and a few small buffers, plus libdeflate's output buffer per thread.

mod error;
mod fast;
mod le;
#[cfg(test)]
mod tests;

pub(crate) use error::invalid_zip_reason;
pub use error::HashError;
#[cfg(test)]
pub(crate) use error::INVALID_ZIP;

use base64::Engine;
use crc32fast::Hasher as Crc;
use flate2::{Decompress, FlushDecompress, Status};
use le::{end_signature_in, has_zip64, le16, le32};
use sha2::{Digest, Sha256};

/// Compressed bytes of one entry kept while it arrives, to inflate it whole; larger entries
/// stream. Measured on the bench captures (benches/README.md, issue 31): 256 KiB and 1 MiB
/// took the same CPU (the entries between are few), and 1 MiB cost 2 MiB more peak RSS; a
/// 2 MiB window also took x/text's largest tables (1.2 MB compressed, 5.4 MB inflated),
/// for 8 % less CPU and 8 MiB more peak RSS (libdeflate's output buffer, on each worker).
pub(crate) const WINDOW: usize = 256 << 10;

/// The go command refuses zips, and zips whose total uncompressed size is, above 500 MiB
/// (`MaxZipFile` in golang.org/x/mod/zip; docs/goproxy-protocol.md §3.6).
pub(crate) const MAX_ZIP: u64 = 500 << 20;

const LOCAL_HEADER: u32 = 0x0403_4b50;
const CENTRAL_HEADER: u32 = 0x0201_4b50;
const END_OF_CENTRAL: u32 = 0x0605_4b50;
const DATA_DESCRIPTOR: u32 = 0x0807_4b50;

/// Hash1 over (name, SHA-256 of content) pairs: sorted by name, one
/// `"<hex>  <name>\n"` line each, SHA-256 of that summary, base64.
///
/// The summary is hashed line by line as it is formed, never built whole: a zip of
/// x/sys has some 10 000 files, and a megabyte-sized string per zip was an allocation
/// above glibc's mmap threshold every time.
pub(crate) fn hash1(files: &mut [(String, [u8; 32])]) -> Result<String, HashError> {
    files.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut summary = Sha256::new();
    let mut hex = [0u8; 66];
    hex[64..].copy_from_slice(b"  ");
    for (name, digest) in files.iter() {
        if name.contains('\n') {
            return Err(HashError::InvalidZip(format!(
                "file name {name:?} contains a newline"
            )));
        }
        for (i, b) in digest.iter().enumerate() {
            hex[2 * i] = HEX[usize::from(b >> 4)];
            hex[2 * i + 1] = HEX[usize::from(b & 15)];
        }
        summary.update(hex);
        summary.update(name.as_bytes());
        summary.update(b"\n");
    }
    Ok(format!(
        "h1:{}",
        base64::engine::general_purpose::STANDARD.encode(summary.finalize())
    ))
}

/// `h1:` of a go.mod file (`<path> <version>/go.mod h1:…` in go.sum).
pub(crate) fn gomod_hash(content_sha256: [u8; 32]) -> String {
    hash1(&mut [("go.mod".to_string(), content_sha256)]).expect("fixed name")
}

/// SHA-256 of a body streamed in pieces, for `.mod` files.
#[derive(Default)]
pub(crate) struct ModHasher(Sha256);

impl ModHasher {
    pub(crate) fn update(&mut self, data: &[u8]) {
        self.0.update(data);
    }
    pub(crate) fn finish(self) -> String {
        gomod_hash(self.0.finalize().into())
    }
}

/// What may follow the bytes a walk is given.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Avail {
    /// More bytes may come.
    More,
    /// The window is full: an entry at its start does not fit in it.
    Full,
    /// The body ended.
    Last,
}

enum State {
    /// Collecting a 30-byte local header, then its name and extra field (in `buf`).
    Header,
    /// At a deflated entry's first byte: waiting (in the window) for all of it, to inflate
    /// it whole.
    Entry,
    /// Inflating a deflated entry as it streams (zlib-rs).
    Deflated,
    Stored {
        left: u64,
    },
    /// After an entry with flag bit 3: optional signature, CRC, sizes.
    Descriptor {
        zip64: bool,
    },
    /// Reached the central directory: every entry has been hashed; what follows is only
    /// looked through for the end of central directory record.
    Done,
    Failed,
}

/// A zip's `h1:` computed as its bytes stream past: each file inflated and hashed, none
/// kept.
pub struct ZipHasher {
    state: State,
    buf: Vec<u8>,
    name: String,
    descriptor_follows: bool,
    zip64: bool,
    sha: Sha256,
    /// The entry's CRC-32, and its local header's (archive/zip: "zip: checksum error").
    crc: Crc,
    local_crc: u32,
    inflate: Decompress,
    out: Vec<u8>,
    files: Vec<(String, [u8; 32])>,
    uncompressed: u64,
    /// Zip bytes fed so far.
    size: u64,
    /// The end of central directory record's signature was seen (a zip without one is
    /// cut short: archive/zip cannot open it).
    end_seen: bool,
    /// The last bytes before the current piece, for a signature split between pieces.
    tail: Vec<u8>,
    error: Option<HashError>,
    /// The current entry's bytes while it waits to be inflated whole (capacity [`WINDOW`],
    /// reserved at the first wait and kept by `reset`).
    win: Vec<u8>,
    /// Where to look on for the entry's data descriptor (`fast::descriptor`).
    scan: usize,
    /// libdeflate refused the entry with more of it possibly to come: wait for all of it.
    retry_at_end: bool,
    /// The local header's sizes (without a data descriptor they are the real ones).
    local_sizes: (u64, u64),
    /// Deflated entries inflated whole, and streamed, over the hasher's life (for tests).
    pub(crate) entries_whole: u64,
    pub(crate) entries_streamed: u64,
}

impl Default for ZipHasher {
    fn default() -> Self {
        Self::new()
    }
}

impl ZipHasher {
    /// A hasher at the zip's first byte.
    pub fn new() -> Self {
        ZipHasher {
            state: State::Header,
            buf: Vec::with_capacity(256),
            name: String::new(),
            descriptor_follows: false,
            zip64: false,
            sha: Sha256::new(),
            crc: Crc::new(),
            local_crc: 0,
            inflate: Decompress::new(false),
            out: vec![0; 64 << 10],
            files: Vec::new(),
            uncompressed: 0,
            size: 0,
            end_seen: false,
            tail: Vec::new(),
            error: None,
            win: Vec::new(),
            scan: 0,
            retry_at_end: false,
            local_sizes: (0, 0),
            entries_whole: 0,
            entries_streamed: 0,
        }
    }

    fn fail(&mut self, why: HashError) {
        if self.error.is_none() {
            self.error = Some(why);
        }
        self.state = State::Failed;
    }

    /// The zip itself is at fault (see [`error::INVALID_ZIP`]).
    fn invalid(&mut self, why: impl std::fmt::Display) {
        self.fail(HashError::InvalidZip(why.to_string()));
    }

    /// The next bytes of the zip.
    pub fn update(&mut self, mut data: &[u8]) {
        if matches!(self.state, State::Failed) {
            return;
        }
        // Counted whatever the state: bytes after the central directory are part of the zip.
        self.size += data.len() as u64;
        if self.size > MAX_ZIP {
            self.invalid("the zip file is larger than 500 MiB, the go command's limit");
            return;
        }
        if self.win.is_empty() {
            let used = self.run(data, Avail::More);
            data = &data[used..];
        }
        // What is left is a deflated entry that is not all here: its bytes wait in the window.
        while !data.is_empty() && !matches!(self.state, State::Failed) {
            if self.win.capacity() < WINDOW {
                self.win.reserve_exact(WINDOW - self.win.len());
            }
            let take = (WINDOW - self.win.len()).min(data.len());
            self.win.extend_from_slice(&data[..take]);
            data = &data[take..];
            self.run_window(false);
            if self.win.is_empty() && !data.is_empty() {
                let used = self.run(data, Avail::More);
                data = &data[used..];
            }
        }
    }

    /// Runs the window's bytes through; `last`: no more bytes will come.
    fn run_window(&mut self, last: bool) {
        let win = std::mem::take(&mut self.win);
        let avail = if last {
            Avail::Last
        } else if win.len() >= WINDOW {
            Avail::Full
        } else {
            Avail::More
        };
        let used = self.run(&win, avail);
        self.win = win;
        self.win.drain(..used);
    }

    /// Runs `data` through the walk: the bytes used, all of them unless it stops at the
    /// start of a deflated entry that is not all in `data`. `avail`: what more will come
    /// after `data` (`Full` counts only for an entry at its first byte).
    fn run(&mut self, mut data: &[u8], avail: Avail) -> usize {
        let len = data.len();
        while !data.is_empty() {
            let used = match self.state {
                State::Failed => return len,
                State::Done => {
                    self.look_for_end(data);
                    return len;
                }
                State::Header => self.header(data),
                State::Entry => match self.entry(
                    data,
                    match avail {
                        Avail::Full if data.len() < len => Avail::More,
                        a => a,
                    },
                ) {
                    Some(used) => used,
                    None => return len - data.len(),
                },
                State::Deflated => self.deflated(data),
                State::Stored { left } => {
                    let take = left.min(data.len() as u64) as usize;
                    self.content(&data[..take]);
                    if take as u64 == left {
                        self.end_entry();
                    } else {
                        self.state = State::Stored {
                            left: left - take as u64,
                        };
                    }
                    take
                }
                State::Descriptor { zip64 } => self.descriptor(data, zip64),
            };
            data = &data[used..];
        }
        len
    }

    /// A deflated entry at the start of `data`: inflated whole if it is all there (the bytes
    /// used), `None` to wait for more, or `Some(0)` having switched to streaming it.
    fn entry(&mut self, data: &[u8], avail: Avail) -> Option<usize> {
        if self.zip64 {
            // Not worth a second descriptor layout: 4 GiB is far past the 500 MiB limit.
            return Some(self.stream_entry());
        }
        let hint = if self.descriptor_follows {
            let (found, next) = fast::descriptor(data, self.scan);
            self.scan = next;
            found.map(|(_, out)| out)
        } else {
            (data.len() as u64 >= self.local_sizes.0).then_some(self.local_sizes.1)
        };
        let unsure = hint.is_none() || self.retry_at_end;
        match avail {
            Avail::More if unsure => return None,
            // Not in a full window: too big to inflate whole.
            Avail::Full if unsure => return Some(self.stream_entry()),
            Avail::Last if self.retry_at_end => return Some(self.stream_entry()),
            _ => {}
        }
        if hint.is_some_and(|out| out > fast::MAX_OUT as u64) {
            return Some(self.stream_entry());
        }
        match fast::inflate(data, |out| self.content(out)) {
            fast::Inflated::Done { used } => {
                self.entries_whole += 1;
                self.end_entry();
                Some(used)
            }
            fast::Inflated::TooBig => Some(self.stream_entry()),
            // Cut short (a descriptor's signature inside the compressed bytes), or corrupt:
            // zlib-rs says which, as it always did, once all of the entry is here.
            fast::Inflated::Bad if avail == Avail::More => {
                self.retry_at_end = true;
                None
            }
            fast::Inflated::Bad => Some(self.stream_entry()),
        }
    }

    /// Inflates the current entry as it streams, from its first byte.
    fn stream_entry(&mut self) -> usize {
        self.entries_streamed += 1;
        self.inflate.reset(false);
        self.state = State::Deflated;
        0
    }

    /// Bytes of `data` used to complete `buf` to `want` bytes.
    fn gather(&mut self, data: &[u8], want: usize) -> usize {
        let take = want.saturating_sub(self.buf.len()).min(data.len());
        self.buf.extend_from_slice(&data[..take]);
        take
    }

    fn header(&mut self, data: &[u8]) -> usize {
        let mut used = self.gather(data, 4);
        if self.buf.len() < 4 {
            return used;
        }
        let sig = le32(&self.buf, 0);
        if sig == CENTRAL_HEADER || sig == END_OF_CENTRAL {
            self.buf.clear();
            self.end_seen = sig == END_OF_CENTRAL;
            self.state = State::Done;
            return used;
        }
        if sig != LOCAL_HEADER {
            self.invalid("not a zip file (bad local header)");
            return used;
        }
        used += self.gather(&data[used..], 30);
        if self.buf.len() < 30 {
            return used;
        }
        let name_len = le16(&self.buf, 26) as usize;
        let extra_len = le16(&self.buf, 28) as usize;
        used += self.gather(&data[used..], 30 + name_len + extra_len);
        if self.buf.len() < 30 + name_len + extra_len {
            return used;
        }
        let flags = le16(&self.buf, 6);
        let method = le16(&self.buf, 8);
        let csize = le32(&self.buf, 18) as u64;
        self.local_sizes = (csize, le32(&self.buf, 22) as u64);
        let extra = &self.buf[30 + name_len..];
        self.zip64 = has_zip64(extra);
        self.name = String::from_utf8_lossy(&self.buf[30..30 + name_len]).into_owned();
        self.descriptor_follows = flags & 0x8 != 0;
        self.sha = Sha256::new();
        self.crc.reset();
        self.local_crc = le32(&self.buf, 14);
        self.buf.clear();
        if flags & 0x1 != 0 {
            self.invalid("encrypted entry");
            return used;
        }
        match method {
            8 => {
                self.scan = 0;
                self.retry_at_end = false;
                self.state = State::Entry;
            }
            0 if !self.descriptor_follows || csize > 0 => {
                if csize == 0 {
                    self.end_entry();
                } else {
                    self.state = State::Stored { left: csize };
                }
            }
            // Valid (the go command reads sizes from the central directory), but its end
            // cannot be found while streaming: our limit, not the zip's fault.
            0 => self.fail(HashError::Unstreamable),
            m => self.invalid(format_args!("unsupported compression method {m}")),
        }
        used
    }

    fn deflated(&mut self, data: &[u8]) -> usize {
        let before_in = self.inflate.total_in();
        loop {
            let consumed = (self.inflate.total_in() - before_in) as usize;
            let before_out = self.inflate.total_out();
            let status =
                self.inflate
                    .decompress(&data[consumed..], &mut self.out, FlushDecompress::None);
            let produced = (self.inflate.total_out() - before_out) as usize;
            let out = std::mem::take(&mut self.out);
            self.content(&out[..produced]);
            self.out = out;
            let consumed_now = (self.inflate.total_in() - before_in) as usize;
            match status {
                Ok(Status::StreamEnd) => {
                    self.end_entry();
                    return consumed_now;
                }
                // A full output buffer means more may be pending: go round again.
                Ok(_) if produced == self.out.len() => {}
                Ok(_) if consumed_now == data.len() => return consumed_now,
                Ok(_) if produced == 0 && consumed_now == consumed => {
                    // Input left but no progress: the stream is stuck.
                    self.invalid("corrupt deflate stream");
                    return data.len();
                }
                Ok(_) => {}
                Err(_) => {
                    self.invalid("corrupt deflate stream");
                    return data.len();
                }
            }
        }
    }

    fn descriptor(&mut self, data: &[u8], zip64: bool) -> usize {
        let body = if zip64 { 20 } else { 12 };
        let mut used = self.gather(data, 4);
        if self.buf.len() < 4 {
            return used;
        }
        // The signature is optional (APPNOTE 4.3.9.3); Go writes it.
        let want = if le32(&self.buf, 0) == DATA_DESCRIPTOR {
            4 + body
        } else {
            body
        };
        used += self.gather(&data[used..], want);
        if self.buf.len() == want {
            let crc = le32(&self.buf, want - body);
            self.buf.clear();
            self.state = State::Header;
            self.check_crc(crc);
        }
        used
    }

    /// Bytes of the central directory: only the end record's signature is looked for.
    fn look_for_end(&mut self, data: &[u8]) {
        if !self.end_seen && end_signature_in(&mut self.tail, data, END_OF_CENTRAL) {
            self.end_seen = true;
            self.tail = Vec::new();
        }
    }

    fn content(&mut self, bytes: &[u8]) {
        self.uncompressed += bytes.len() as u64;
        if self.uncompressed > MAX_ZIP {
            self.invalid("it inflates to more than 500 MiB, the go command's limit");
            return;
        }
        self.sha.update(bytes);
        self.crc.update(bytes);
    }

    /// The entry's content against its header's or data descriptor's CRC-32 (0: unchecked).
    fn check_crc(&mut self, expected: u32) {
        if expected != 0 && self.crc.clone().finalize() != expected {
            let name = self.files.last().map_or("", |f| f.0.as_str()).to_string();
            self.invalid(format_args!("checksum error: {name}'s CRC-32 is wrong"));
        }
    }

    fn end_entry(&mut self) {
        if matches!(self.state, State::Failed) {
            return;
        }
        let digest = std::mem::take(&mut self.sha).finalize().into();
        self.files.push((std::mem::take(&mut self.name), digest));
        if self.descriptor_follows {
            self.state = State::Descriptor { zip64: self.zip64 };
        } else {
            self.state = State::Header;
            self.check_crc(self.local_crc);
        }
    }

    /// The zip's `h1:` once the whole body went through, or why there is none.
    pub fn finish(mut self) -> Result<String, HashError> {
        self.finish_and_reset()
    }

    /// [`finish`](Self::finish), leaving the hasher at a new zip's first byte with its
    /// buffers (inflate state and window, output buffer, file list) kept: a hashing thread
    /// goes through thousands of zips with one, and fresh ones per zip were allocated and
    /// faulted in every time.
    pub(crate) fn finish_and_reset(&mut self) -> Result<String, HashError> {
        if !self.win.is_empty() {
            self.run_window(true);
        }
        let invalid = |why: &str| HashError::InvalidZip(why.to_string());
        let result = match self.state {
            State::Done if !self.end_seen => Err(invalid("it ends inside its central directory")),
            // The go command hashes names the same way and refuses the same ones.
            State::Done => hash1(&mut self.files),
            State::Failed => Err(self.error.take().unwrap_or_else(|| invalid("unreadable"))),
            // The whole body was seen (an incomplete one never gets here): the zip is cut.
            _ => Err(invalid("it ends before its central directory")),
        };
        self.reset();
        result
    }

    /// Back to a zip's first byte, keeping the buffers.
    pub(crate) fn reset(&mut self) {
        /// File entries whose room is kept for the next zip (x/sys has ~10 000 files).
        const KEEP_FILES: usize = 1 << 14;
        self.state = State::Header;
        self.buf.clear();
        self.name.clear();
        self.descriptor_follows = false;
        self.zip64 = false;
        self.sha = Sha256::new();
        self.crc.reset();
        self.local_crc = 0;
        self.inflate.reset(false);
        self.files.clear();
        self.files.shrink_to(KEEP_FILES);
        self.uncompressed = 0;
        self.size = 0;
        self.end_seen = false;
        self.tail.clear();
        self.error = None;
        self.win.clear();
        self.scan = 0;
        self.retry_at_end = false;
    }
}
