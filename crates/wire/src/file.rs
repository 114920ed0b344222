//! A reader for pcap and pcapng files, built on pcap-parser's streaming readers.
//!
//! libpcap's reader refuses pcapng files whose interfaces have different link types (what
//! `-i lo0 -i en0` produces), so files are read here. pcap-parser's `LegacyPcapReader` and
//! `PcapNGReader` own a fixed buffer, refill it from the input and parse records in place;
//! packets borrow from that buffer: no allocation per packet, bounded memory whatever the
//! file size.
//!
//! Damage no longer ends the stream. A record or block that cannot be right (a length that
//! runs past the file or past 16 MiB, a pcapng trailer that does not match, a pcap header
//! that is implausible and not confirmed by the record after it) is skipped: the reader scans
//! forward byte by byte for the next record it can trust (`resync.rs`), keeps reading from
//! there, and accounts for what it skipped in [`CaptureFile::damage`]. `next_packet` returns
//! an error only when nothing after the damage could be read (the error is then the one the
//! damage itself would have given: a record cut off by the end of the file stays
//! `Truncated`).
//!
//! What is written by hand here rather than taken from pcap-parser (0.17), and why:
//! * Framing checks (record and block lengths, pcapng trailers) before a record is handed to
//!   pcap-parser. Its streaming parsers answer "incomplete, need N more bytes" for any length
//!   that runs past the buffer, so a corrupt length would have us read (and buffer) up to
//!   4 GiB before finding out; the checks also give the byte offsets the messages name.
//! * Option values. pcap-parser decodes `if_tsoffset` and `isb_ifdrop` as little-endian in
//!   big-endian sections too, and its `if_tsresol` helper rejects power-of-two resolutions,
//!   so we take the options it splits out and decode their raw bytes ourselves.
//! * The obsolete Packet Block (type 2), which pcap-parser returns as an unknown block.
//! * Reading the first bytes: to tell "empty", "not a capture (starts with ...)", "cut off"
//!   apart with the old messages, the file header is read and checked before the
//!   pcap-parser reader is built; those bytes are then replayed to it ([`Source`]).
//! * I/O errors: pcap-parser turns them into a bare `ReadError`; [`Source`] keeps the real
//!   `io::Error` (and retries `Interrupted`) so that messages stay as before.

use crate::vocab::time::Ts;
use crate::vocab::Packet;
use crate::vocab::{LinkType, UnsupportedLinkType};
use pcap_parser::pcapng::{Block, OptionCode, PcapNGOption};
use pcap_parser::traits::PcapReaderIterator;
use pcap_parser::{LegacyPcapReader, PcapBlockOwned, PcapNGReader};
use std::io::{self, Read};
use std::sync::{Arc, Mutex};

mod resync;

/// Largest record we accept. pcapng blocks carry one packet each; 64 KiB loopback MTUs and
/// GRO super-segments stay far below this, so anything larger is corruption.
const MAX_RECORD: usize = 16 << 20;
/// Initial buffer size, and the least we ask the input for at a time: one syscall per MiB,
/// not per packet. Measured: 256 KiB is ~3% slower on a 300 MB file, 4 MiB no faster.
const READ_CHUNK: usize = 1 << 20;
/// Damage entries kept for [`CaptureFile::damage`]; past this, only the totals grow, so a
/// file of garbage cannot make the list (and memory) grow with its size.
const MAX_DAMAGE_ENTRIES: usize = 1000;

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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileFormat {
    Pcap,
    Pcapng,
}

/// One capture interface as the file describes it.
#[derive(Debug, Clone)]
pub struct Interface {
    pub link: LinkType,
    pub name: Option<String>,
    /// Timestamp resolution: units per second as (base, exponent): 10^-6 by default.
    tsresol: TsResol,
    tsoffset_s: i64,
    /// Packets the capture lost on this interface (pcapng Interface Statistics `isb_ifdrop`).
    pub dropped: u64,
}

/// A stretch of the file that could not be read and was skipped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Damage {
    /// File offset of the first byte that could not be read (a record or block start).
    pub offset: u64,
    /// Bytes skipped from there to the next record that could be read.
    pub skipped: u64,
    /// What was wrong at `offset`, as the error would have said it.
    pub what: String,
}

#[derive(Debug, Clone, Copy)]
enum TsResol {
    Pow10(u32),
    Pow2(u32),
}

impl TsResol {
    fn to_ns(self, units: u64) -> i64 {
        match self {
            TsResol::Pow10(e) if e <= 9 => (units as i64).saturating_mul(10i64.pow(9 - e)),
            TsResol::Pow10(e) => (units / 10u64.pow((e - 9).min(19))) as i64,
            TsResol::Pow2(e) => ((units as u128 * 1_000_000_000) >> e.min(127)) as i64,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Endian {
    Little,
    Big,
}

impl Endian {
    // One bounds check per value (callers have checked the length), not one per byte.
    fn u16(self, b: &[u8]) -> u16 {
        let mut a = [0u8; 2];
        a.copy_from_slice(&b[..2]);
        match self {
            Endian::Little => u16::from_le_bytes(a),
            Endian::Big => u16::from_be_bytes(a),
        }
    }
    fn u32(self, b: &[u8]) -> u32 {
        let mut a = [0u8; 4];
        a.copy_from_slice(&b[..4]);
        match self {
            Endian::Little => u32::from_le_bytes(a),
            Endian::Big => u32::from_be_bytes(a),
        }
    }
    /// A 64-bit option value (`if_tsoffset`, `isb_ifdrop`) in the section's byte order.
    fn u64(self, b: &[u8]) -> Option<u64> {
        let a: [u8; 8] = b.get(..8)?.try_into().ok()?;
        Some(match self {
            Endian::Little => u64::from_le_bytes(a),
            Endian::Big => u64::from_be_bytes(a),
        })
    }
}

const SHB_BYTES: [u8; 4] = [0x0a, 0x0d, 0x0d, 0x0a];

/// The section's byte order from a Section Header Block's byte-order magic.
fn bom_endian(bom: &[u8]) -> Option<Endian> {
    match bom {
        [0x4d, 0x3c, 0x2b, 0x1a] => Some(Endian::Little),
        [0x1a, 0x2b, 0x3c, 0x4d] => Some(Endian::Big),
        _ => None,
    }
}

/// The input as pcap-parser reads it: first the bytes `CaptureFile::new` already read to
/// check the file header, then the rest. Keeps the first I/O error for us (pcap-parser only
/// says `ReadError`) and retries interrupted reads, as the old reader did.
struct Source<R> {
    replay: Vec<u8>,
    replayed: usize,
    inner: R,
    error: Arc<Mutex<Option<io::Error>>>,
}

impl<R: Read> Read for Source<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.replayed < self.replay.len() {
            let n = (self.replay.len() - self.replayed).min(buf.len());
            buf[..n].copy_from_slice(&self.replay[self.replayed..self.replayed + n]);
            self.replayed += n;
            if self.replayed == self.replay.len() {
                self.replay = Vec::new();
                self.replayed = 0;
            }
            return Ok(n);
        }
        loop {
            match self.inner.read(buf) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    let kind = e.kind();
                    if let Ok(mut slot) = self.error.lock() {
                        slot.get_or_insert(e);
                    }
                    return Err(kind.into());
                }
                ok => return ok,
            }
        }
    }
}

/// The pcap-parser reader for the file's format.
enum Reader<R: Read> {
    Pcap(LegacyPcapReader<Source<R>>),
    Pcapng(PcapNGReader<Source<R>>),
}

/// Everything but the pcap-parser reader, so that the two can be borrowed separately (a
/// returned packet borrows the reader's buffer).
struct State {
    io_error: Arc<Mutex<Option<io::Error>>>,
    /// The input has reported its end (a read returned 0).
    eof: bool,
    /// The reader's buffer size, which pcap-parser does not tell.
    capacity: usize,
    /// File offset of the first byte of the reader's `data()`.
    base: u64,
    /// Length of the record last returned, consumed at the next call (the packet borrows it).
    pending: usize,
    /// A fatal error was returned: the stream is over.
    done: bool,
    format: FileFormat,
    /// Byte order of pcap records, or of the current pcapng section.
    endian: Endian,
    /// pcap: nanosecond timestamps.
    nanos: bool,
    /// pcap: the header's snapshot length.
    snaplen: u32,
    /// pcap: the largest captured length accepted so far.
    max_caplen: u32,
    interfaces: Vec<Interface>,
    /// Timestamp of the last packet returned (ns), the reference for plausibility checks.
    last_ts: Option<i64>,
    damage: Vec<Damage>,
    skipped: u64,
    resyncs: u64,
}

impl State {
    fn io_error(&self) -> FileError {
        let e = self.io_error.lock().ok().and_then(|mut slot| slot.take());
        FileError::Io(e.unwrap_or_else(|| io::Error::other("read error")))
    }

    /// Records `skipped` bytes of damage at `offset`. Damage that continues where the last
    /// one ended (packets on a missing interface, one after the other) extends it.
    fn note_damage(&mut self, offset: u64, skipped: u64, what: String) {
        self.skipped += skipped;
        if let Some(last) = self.damage.last_mut() {
            if last.offset + last.skipped == offset {
                last.skipped += skipped;
                return;
            }
        }
        self.resyncs += 1;
        if self.damage.len() < MAX_DAMAGE_ENTRIES {
            self.damage.push(Damage {
                offset,
                skipped,
                what,
            });
        }
    }

    fn pcap_link(&self) -> LinkType {
        self.interfaces
            .first()
            .map_or(LinkType::Ethernet, |i| i.link)
    }
}

pub struct CaptureFile<R: Read> {
    reader: Reader<R>,
    st: State,
}

impl<R: Read> CaptureFile<R> {
    /// Reads the file header. Errors here mean the file cannot be a capture at all.
    pub fn new(mut inner: R) -> Result<Self, FileError> {
        let mut head = Vec::new();
        read_at_least(&mut inner, &mut head, 8)?;
        if head.is_empty() {
            return Err(FileError::Empty);
        }
        if head.len() < 4 {
            return Err(FileError::NotACapture(hex_prefix(&head)));
        }
        let io_error = Arc::new(Mutex::new(None));
        let mut st = State {
            io_error: io_error.clone(),
            eof: false,
            capacity: READ_CHUNK,
            base: 0,
            pending: 0,
            done: false,
            format: FileFormat::Pcap,
            endian: Endian::Little,
            nanos: false,
            snaplen: 0,
            max_caplen: 0,
            interfaces: Vec::new(),
            last_ts: None,
            damage: Vec::new(),
            skipped: 0,
            resyncs: 0,
        };
        let (endian, nanos) = match head[..4] {
            [0xd4, 0xc3, 0xb2, 0xa1] => (Endian::Little, false),
            [0xa1, 0xb2, 0xc3, 0xd4] => (Endian::Big, false),
            [0x4d, 0x3c, 0xb2, 0xa1] => (Endian::Little, true),
            [0xa1, 0xb2, 0x3c, 0x4d] => (Endian::Big, true),
            [0x0a, 0x0d, 0x0d, 0x0a] => {
                let len = pcapng_first_section(&mut inner, &mut head)?;
                st.format = FileFormat::Pcapng;
                st.capacity = READ_CHUNK.max(2 * head.len());
                let source = Source {
                    replay: head,
                    replayed: 0,
                    inner,
                    error: io_error,
                };
                let mut r = PcapNGReader::new(st.capacity, source)
                    .map_err(|e| corrupt(0, format!("section header: {e}")))?;
                match r.next() {
                    Ok((n, PcapBlockOwned::NG(Block::SectionHeader(shb)))) if n == len => {
                        st.endian = if shb.big_endian() {
                            Endian::Big
                        } else {
                            Endian::Little
                        };
                    }
                    _ => return Err(corrupt(0, "section header block too short".into())),
                }
                r.consume_noshift(len);
                st.base = len as u64;
                return Ok(CaptureFile {
                    reader: Reader::Pcapng(r),
                    st,
                });
            }
            _ => return Err(FileError::NotACapture(hex_prefix(&head))),
        };
        if !read_at_least(&mut inner, &mut head, 24)? {
            return Err(FileError::Truncated(0));
        }
        let source = Source {
            replay: head,
            replayed: 0,
            inner,
            error: io_error,
        };
        let mut r = LegacyPcapReader::new(st.capacity, source)
            .map_err(|e| corrupt(0, format!("file header: {e}")))?;
        let (n, header) = match r.next() {
            Ok((n, PcapBlockOwned::LegacyHeader(h))) => (n, h),
            _ => return Err(corrupt(0, "unreadable file header".into())),
        };
        if header.version_major != 2 {
            return Err(corrupt(
                4,
                format!("pcap version {} (expected 2)", header.version_major),
            ));
        }
        // The upper bits of the link type field hold FCS information (pcap-savefile(5)).
        let link = LinkType::from_code(header.network.0 as u32 & 0x0fff_ffff)?;
        st.endian = endian;
        st.nanos = nanos;
        st.snaplen = header.snaplen;
        st.interfaces.push(Interface {
            link,
            name: None,
            tsresol: TsResol::Pow10(if nanos { 9 } else { 6 }),
            tsoffset_s: 0,
            dropped: 0,
        });
        r.consume_noshift(n);
        st.base = n as u64;
        Ok(CaptureFile {
            reader: Reader::Pcap(r),
            st,
        })
    }

    pub fn format(&self) -> FileFormat {
        self.st.format
    }

    /// Interfaces seen so far (pcap: exactly one; pcapng: grows as IDBs are read).
    pub fn interfaces(&self) -> &[Interface] {
        &self.st.interfaces
    }

    /// Packets the capturing system reported as dropped (pcapng interface statistics).
    pub fn dropped(&self) -> u64 {
        self.st.interfaces.iter().map(|i| i.dropped).sum()
    }

    /// Bytes consumed so far (after an error: the offset of the record that failed).
    pub fn position(&self) -> u64 {
        self.st.base + self.st.pending as u64
    }

    /// Bytes skipped over damage so far.
    pub fn skipped_bytes(&self) -> u64 {
        self.st.skipped
    }

    /// How many times reading recovered from damage (each is one [`Damage`], though only the
    /// first 1000 are kept).
    pub fn resyncs(&self) -> u64 {
        self.st.resyncs
    }

    /// The damage skipped so far, in file order (at most 1000 entries).
    pub fn damage(&self) -> &[Damage] {
        &self.st.damage
    }

    /// The next packet, `None` at the end of the file. An error means that the file ended
    /// in damage: nothing after it could be read. Damage that could be skipped is not an
    /// error; see [`damage`](Self::damage).
    pub fn next_packet(&mut self) -> Result<Option<Packet<'_>>, FileError> {
        let st = &mut self.st;
        if st.pending > 0 {
            match &mut self.reader {
                Reader::Pcap(r) => r.consume_noshift(st.pending),
                Reader::Pcapng(r) => r.consume_noshift(st.pending),
            }
            st.base += st.pending as u64;
            st.pending = 0;
        }
        if st.done {
            return Ok(None);
        }
        let next = match &mut self.reader {
            Reader::Pcap(r) => next_pcap(r, st),
            Reader::Pcapng(r) => next_pcapng(r, st),
        };
        if next.is_err() {
            st.done = true;
        }
        next
    }
}

fn corrupt(offset: u64, what: String) -> FileError {
    FileError::Corrupt { offset, what }
}

/// The packet data pcap-parser pointed at is not where the framing checks said: cannot
/// happen, but an error is better than a panic.
fn lost(at: u64) -> FileError {
    corrupt(at, "packet data outside its record".into())
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

/// Makes at least `n` bytes available in the reader's buffer unless the file ends first
/// (`false`). Grows the buffer for a record larger than it: up to `MAX_RECORD` and a read
/// (twice that while resynchronising, when a candidate block and the one after it must both
/// be in the buffer).
#[inline]
fn ensure<T: PcapReaderIterator>(r: &mut T, st: &mut State, n: usize) -> Result<bool, FileError> {
    if r.data().len() >= n {
        return Ok(true);
    }
    refill(r, st, n)
}

#[inline(never)]
fn refill<T: PcapReaderIterator>(r: &mut T, st: &mut State, n: usize) -> Result<bool, FileError> {
    while r.data().len() < n {
        if st.eof {
            return Ok(false);
        }
        if n > st.capacity {
            // Room for the record and a full read after it.
            st.capacity = n + READ_CHUNK;
            r.grow(st.capacity);
        }
        // Shifts what is left to the front of the buffer, then reads once into the rest.
        if r.refill().is_err() {
            return Err(st.io_error());
        }
        if r.reader_exhausted() {
            st.eof = true;
        }
    }
    Ok(true)
}

fn next_pcap<'a, R: Read>(
    r: &'a mut LegacyPcapReader<Source<R>>,
    st: &mut State,
) -> Result<Option<Packet<'a>>, FileError> {
    use resync::PcapHeader;
    loop {
        let at = st.base;
        // The usual case: the record is whole in the buffer and pcap-parser parses it in
        // place. Its frame parser is called directly rather than through
        // `LegacyPcapReader::next`, which calls it through a function pointer and returns a
        // `PcapBlockOwned` (the size of the largest pcapng block) in a `Result`: that cost 5-8%
        // of the reading speed on 1500-byte frames; called directly, it inlines.
        let d = r.data();
        let frame = match st.endian {
            Endian::Little => pcap_parser::pcap::parse_pcap_frame(d),
            Endian::Big => pcap_parser::pcap::parse_pcap_frame_be(d),
        };
        let parsed = match frame {
            Ok((rest, b)) if b.caplen as usize <= MAX_RECORD => {
                let h = PcapHeader::new(st.nanos, b.ts_sec, b.ts_usec, b.caplen, b.origlen);
                let data_at = (b.data.as_ptr() as usize).wrapping_sub(d.as_ptr() as usize);
                Some((d.len() - rest.len(), h, data_at))
            }
            _ => None,
        };
        let Some((len, h, data_at)) = parsed else {
            // Not whole in the buffer, or absurd: judge the length ourselves before reading
            // (and buffering) that much.
            let Some(h) = PcapHeader::parse(st.endian, st.nanos, r.data()) else {
                if ensure(r, st, 16)? {
                    continue;
                }
                if r.data().is_empty() {
                    return Ok(None);
                }
                // A few bytes after the last record: nothing after them to resynchronise on.
                return Err(FileError::Truncated(at));
            };
            let caplen = h.caplen as usize;
            if caplen > MAX_RECORD {
                let err = corrupt(at, format!("packet length {caplen}"));
                recover(r, st, err, resync::pcap_candidate)?;
            } else if r.data().len() >= 16 + caplen {
                // Whole, yet pcap-parser would not parse it: cannot happen.
                let err = corrupt(at, "unparsable record".into());
                recover(r, st, err, resync::pcap_candidate)?;
            } else if !ensure(r, st, 16 + caplen)? {
                recover(r, st, FileError::Truncated(at), resync::pcap_candidate)?;
            }
            continue;
        };
        let caplen = h.caplen as usize;
        // The next record's header, for the plausibility check below (when the file has one).
        ensure(r, st, len + 16)?;
        // Is this a record? A plausible header (sizes, time close to the last packet) whose
        // successor's header is not nonsense; or an odd one (a clock step, caplen > wire
        // length, as some old writers produced) confirmed by a plausible successor.
        let next = resync::Next::of(&r.data()[len..], st.eof, st.endian, st.nanos);
        let ok = if st.pcap_strong(&h, st.last_ts) {
            match next {
                resync::Next::Header(n) if !st.pcap_structural(&n) => {
                    // The length may be corrupt and run over the records that follow: if a
                    // record can be found inside this one, this one is the damage.
                    match find_inside(r, st, len)? {
                        Some(p) => {
                            let what = format!(
                                "the record's length ({caplen}) runs over the records after it"
                            );
                            st.note_damage(at, p as u64, what);
                            r.consume_noshift(p);
                            st.base += p as u64;
                            continue;
                        }
                        None => true,
                    }
                }
                _ => true,
            }
        } else {
            st.pcap_structural(&h)
                && match next {
                    resync::Next::Header(n) => {
                        st.pcap_loose(&n, Some(h.ts)) || st.pcap_loose(&n, st.last_ts)
                    }
                    resync::Next::End | resync::Next::Cut => true,
                }
        };
        if !ok {
            let what = format!(
                "implausible record header ({} of {} bytes captured, time {})",
                h.caplen,
                h.wire_len,
                Ts(h.ts)
            );
            recover(r, st, corrupt(at, what), resync::pcap_candidate)?;
            continue;
        }
        st.last_ts = Some(h.ts);
        st.max_caplen = st.max_caplen.max(h.caplen);
        st.pending = len;
        let link = st.pcap_link();
        let data = r.data().get(data_at..data_at + caplen);
        let data = data.ok_or_else(|| lost(at))?;
        return Ok(Some(Packet {
            ts: Ts(h.ts),
            link,
            iface: 0,
            wire_len: h.wire_len.max(h.caplen),
            data,
        }));
    }
}

/// Looks for a record starting inside the first `len` bytes of the buffer (after its first
/// byte), without consuming anything. Its offset, if there is one.
fn find_inside<T: PcapReaderIterator>(
    r: &mut T,
    st: &mut State,
    len: usize,
) -> Result<Option<usize>, FileError> {
    let mut p = 1;
    while p < len {
        match resync::pcap_candidate(st, &r.data()[p..], st.eof) {
            resync::Verdict::Yes => return Ok(Some(p)),
            resync::Verdict::No => p += 1,
            resync::Verdict::Need(n) => {
                ensure(r, st, p + n)?;
            }
        }
    }
    Ok(None)
}

/// After damage at the start of the buffer: scans forward, byte by byte, for the next record
/// or block that `candidate` trusts. Found: the damage is noted and reading resumes there.
/// Not found before the end of the file: `err`, the error the damage itself gives.
fn recover<T: PcapReaderIterator>(
    r: &mut T,
    st: &mut State,
    err: FileError,
    candidate: fn(&State, &[u8], bool) -> resync::Verdict,
) -> Result<(), FileError> {
    let at = st.base;
    let mut p = 1;
    loop {
        let d = r.data();
        let mut need = None;
        while p < d.len() {
            match candidate(st, &d[p..], st.eof) {
                resync::Verdict::Yes => {
                    r.consume_noshift(p);
                    st.base += p as u64;
                    let what = match &err {
                        FileError::Corrupt { what, .. } => what.clone(),
                        FileError::Truncated(_) => "record runs past the end of the file".into(),
                        other => other.to_string(),
                    };
                    st.note_damage(at, st.base - at, what);
                    return Ok(());
                }
                resync::Verdict::No => p += 1,
                resync::Verdict::Need(n) => {
                    need = Some(n);
                    break;
                }
            }
        }
        let d_len = d.len();
        let p_len = p.min(d_len);
        if st.eof && need.is_none() {
            // Nothing to resynchronise on: the stream ends with the damage.
            r.consume_noshift(d_len);
            st.base = at;
            return Err(err);
        }
        // Everything before `p` is rejected; keep the candidate at `p`, read more.
        r.consume_noshift(p_len);
        st.base += p_len as u64;
        let want = need.unwrap_or(r.data().len() + 1);
        ensure(r, st, want)?;
        p = 0;
    }
}

/// What a pcapng block turned out to be.
enum Step {
    Packet {
        iface: usize,
        /// Timestamp units (EPB, PB); Simple Packet Blocks carry no time.
        units: Option<u64>,
        caplen: usize,
        wire_len: u32,
        data_at: usize,
    },
    Interface(Result<Interface, FileError>),
    Statistics {
        iface: usize,
        dropped: Option<u64>,
    },
    Section(Endian),
    /// The block is well framed but its content is not (a packet block too short, ...).
    Bad(String),
    Skip,
}

fn next_pcapng<'a, R: Read>(
    r: &'a mut PcapNGReader<Source<R>>,
    st: &mut State,
) -> Result<Option<Packet<'a>>, FileError> {
    loop {
        let at = st.base;
        if !ensure(r, st, 12)? {
            if r.data().is_empty() {
                return Ok(None);
            }
            return Err(FileError::Truncated(at));
        }
        let d = r.data();
        // A Section Header Block's magic is a palindrome; its byte order comes after it.
        let endian = if d[..4] == SHB_BYTES {
            match bom_endian(&d[8..12]) {
                Some(e) => e,
                None => {
                    let err = corrupt(at + 8, "bad pcapng byte-order magic".into());
                    recover(r, st, err, resync::pcapng_candidate)?;
                    continue;
                }
            }
        } else {
            st.endian
        };
        let ty = endian.u32(d);
        let len = endian.u32(&d[4..8]) as usize;
        if !(12..=MAX_RECORD).contains(&len) || len % 4 != 0 {
            let err = corrupt(at, format!("block length {len}"));
            recover(r, st, err, resync::pcapng_candidate)?;
            continue;
        }
        if !ensure(r, st, len)? {
            recover(r, st, FileError::Truncated(at), resync::pcapng_candidate)?;
            continue;
        }
        let d = r.data();
        let trailer = endian.u32(&d[len - 4..len]) as usize;
        if trailer != len {
            let err = corrupt(
                at,
                format!("block length {len} does not match its trailer {trailer}"),
            );
            recover(r, st, err, resync::pcapng_candidate)?;
            continue;
        }
        // For "packet data runs past its block", which pcap-parser reports as incomplete.
        let epb_caplen = if len >= 24 { endian.u32(&d[20..24]) } else { 0 };
        // The block is whole and well framed. Enhanced Packet Blocks, nearly every block of a
        // capture, are read here: five words at fixed places, the framing already checked.
        // Going through pcap-parser (`PcapNGReader::next`, or `parse_enhancedpacketblock_le`
        // directly) cost 2.2x (1.9x) the old reader's CPU per packet and made reading a
        // 300 MB file of 1500-byte frames 25-30% slower; it would also allocate the options
        // of every packet that has some. Every other block goes to pcap-parser, parsed in
        // place.
        let start = d.as_ptr() as usize;
        let step = if ty == 6 && len >= 32 {
            if 32 + epb_caplen as usize > len {
                Step::Bad("packet data runs past its block".into())
            } else {
                Step::Packet {
                    iface: endian.u32(&d[8..12]) as usize,
                    units: Some(
                        (endian.u32(&d[12..16]) as u64) << 32 | endian.u32(&d[16..20]) as u64,
                    ),
                    caplen: epb_caplen as usize,
                    wire_len: endian.u32(&d[24..28]),
                    data_at: 28,
                }
            }
        } else {
            match r.next() {
                Ok((n, PcapBlockOwned::NG(block))) if n == len => step(block, ty, start, endian),
                _ => match ty {
                    1 => return Err(corrupt(at, "interface description too short".into())),
                    2 | 3 | 6 if len < if ty == 3 { 16 } else { 32 } => {
                        Step::Bad("packet block too short".into())
                    }
                    2 | 6 if 32 + epb_caplen as usize > len => {
                        Step::Bad("packet data runs past its block".into())
                    }
                    0x0A0D0D0A => Step::Bad("section header block too short".into()),
                    // Name resolution, statistics, ... that pcap-parser cannot read: as before,
                    // nothing we need is lost.
                    _ => Step::Skip,
                },
            }
        };
        match step {
            Step::Packet {
                iface,
                units,
                caplen,
                wire_len,
                data_at,
            } => {
                let Some(info) = st.interfaces.get(iface) else {
                    let what = format!(
                        "packet on interface {iface}, but the file describes {}",
                        st.interfaces.len()
                    );
                    skip_bad_block(r, st, len, what)?;
                    continue;
                };
                let ts = match units {
                    Some(units) => {
                        let ts = info
                            .tsresol
                            .to_ns(units)
                            .saturating_add(info.tsoffset_s.saturating_mul(1_000_000_000));
                        st.last_ts = Some(ts);
                        Ts(ts)
                    }
                    // Simple Packet Blocks carry no time; the packets still decode.
                    None => Ts(0),
                };
                let link = info.link;
                st.pending = len;
                let data = (r.data().get(data_at..data_at + caplen)).ok_or_else(|| lost(at))?;
                return Ok(Some(Packet {
                    ts,
                    link,
                    iface: iface as u32,
                    wire_len: wire_len.max(caplen as u32),
                    data,
                }));
            }
            Step::Interface(iface) => st.interfaces.push(iface?),
            Step::Statistics { iface, dropped } => {
                if let (Some(i), Some(drops)) = (st.interfaces.get_mut(iface), dropped) {
                    i.dropped = drops;
                }
            }
            Step::Section(e) => {
                // A new section resets the interface numbering.
                st.endian = e;
                st.interfaces.clear();
            }
            Step::Bad(what) => {
                skip_bad_block(r, st, len, what)?;
                continue;
            }
            Step::Skip => {}
        }
        r.consume_noshift(len);
        st.base += len as u64;
    }
}

/// Skips a well-framed block whose content is damaged, noting it; the damage is the
/// stream's end (an error) if nothing follows it.
fn skip_bad_block<T: PcapReaderIterator>(
    r: &mut T,
    st: &mut State,
    len: usize,
    what: String,
) -> Result<(), FileError> {
    let at = st.base;
    if !ensure(r, st, len + 1)? {
        return Err(corrupt(at, what));
    }
    r.consume_noshift(len);
    st.base += len as u64;
    st.note_damage(at, len as u64, what);
    Ok(())
}

/// Decodes a block pcap-parser parsed; `start` is the address of the block's first byte, to
/// turn the packet data it hands out into an offset in the buffer.
fn step(block: Block<'_>, ty: u32, start: usize, e: Endian) -> Step {
    let offset_of = |data: &[u8]| (data.as_ptr() as usize).wrapping_sub(start);
    match block {
        // Not reached today: `next_pcapng` reads EPBs itself (see there). Kept so that an EPB
        // that gets here is still a packet.
        Block::EnhancedPacket(epb) => Step::Packet {
            iface: epb.if_id as usize,
            units: Some((epb.ts_high as u64) << 32 | epb.ts_low as u64),
            // `data` is padded to 32 bits; pcap-parser checked that it holds `caplen` bytes.
            caplen: (epb.caplen as usize).min(epb.data.len()),
            wire_len: epb.origlen,
            data_at: offset_of(epb.data),
        },
        Block::SimplePacket(spb) => Step::Packet {
            iface: 0,
            units: None,
            caplen: (spb.origlen as usize).min(spb.data.len()),
            wire_len: spb.origlen,
            data_at: offset_of(spb.data),
        },
        // The obsolete Packet Block: pcap-parser has no parser for it.
        Block::Unknown(b) if ty == 2 => {
            let b = b.data;
            if b.len() < 20 {
                return Step::Bad("packet block too short".into());
            }
            let caplen = e.u32(&b[12..]) as usize;
            if 20 + caplen > b.len() {
                return Step::Bad("packet data runs past its block".into());
            }
            Step::Packet {
                iface: e.u16(b) as usize,
                units: Some((e.u32(&b[4..]) as u64) << 32 | e.u32(&b[8..]) as u64),
                caplen,
                wire_len: e.u32(&b[16..]),
                data_at: offset_of(&b[20..]),
            }
        }
        Block::InterfaceDescription(idb) => Step::Interface(interface(&idb, e)),
        Block::InterfaceStatistics(isb) => Step::Statistics {
            iface: isb.if_id as usize,
            dropped: options(&isb.options)
                .filter(|(code, val)| *code == OptionCode::IsbIfDrop && val.len() == 8)
                .filter_map(|(_, val)| e.u64(val))
                .last(),
        },
        Block::SectionHeader(shb) => Step::Section(if shb.big_endian() {
            Endian::Big
        } else {
            Endian::Little
        }),
        // Name resolution, decryption secrets, custom blocks: nothing to decode.
        _ => Step::Skip,
    }
}

/// The options pcap-parser split out, as (code, value without padding), up to `opt_endofopt`.
fn options<'a>(opts: &'a [PcapNGOption<'a>]) -> impl Iterator<Item = (OptionCode, &'a [u8])> {
    opts.iter()
        .take_while(|o| o.code != OptionCode::EndOfOpt)
        .filter_map(|o| Some((o.code, o.as_bytes().ok()?)))
}

fn interface(
    idb: &pcap_parser::pcapng::InterfaceDescriptionBlock<'_>,
    e: Endian,
) -> Result<Interface, FileError> {
    let link = LinkType::from_code(idb.linktype.0 as u32)?;
    let mut iface = Interface {
        link,
        name: None,
        tsresol: TsResol::Pow10(6),
        tsoffset_s: 0,
        dropped: 0,
    };
    for (code, val) in options(&idb.options) {
        match (code, val.len()) {
            (OptionCode::IfName, _) => iface.name = Some(String::from_utf8_lossy(val).into_owned()),
            (OptionCode::IfTsresol, 1) => {
                let r = val[0];
                iface.tsresol = if r & 0x80 == 0 {
                    TsResol::Pow10(r as u32)
                } else {
                    TsResol::Pow2((r & 0x7f) as u32)
                };
            }
            (OptionCode::IfTsoffset, 8) => {
                if let Some(v) = e.u64(val) {
                    iface.tsoffset_s = v as i64;
                }
            }
            _ => {}
        }
    }
    Ok(iface)
}

#[cfg(test)]
mod tests;
