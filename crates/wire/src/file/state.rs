//! What the readers of both formats share: the reader's state beside pcap-parser's buffer
//! ([`State`]), the file's interfaces and damage as the caller sees them, byte order and
//! timestamp resolution, the input wrapper that replays the sniffed bytes ([`Source`]), and
//! refilling the buffer ([`ensure`]).

use super::error::FileError;
use crate::vocab::{LinkType, UnsupportedLinkType};
use pcap_parser::traits::PcapReaderIterator;
use std::io::{self, Read};
use std::sync::{Arc, Mutex};

/// Largest record we accept. pcapng blocks carry one packet each; 64 KiB loopback MTUs and
/// GRO super-segments stay far below this, so anything larger is corruption.
pub(super) const MAX_RECORD: usize = 16 << 20;
/// Initial buffer size, and the least we ask the input for at a time: one syscall per MiB,
/// not per packet. Measured: 256 KiB is ~3% slower on a 300 MB file, 4 MiB no faster.
pub(super) const READ_CHUNK: usize = 1 << 20;
/// Damage entries kept for [`CaptureFile::damage`]; past this, only the totals grow, so a
/// file of garbage cannot make the list (and memory) grow with its size.
pub(super) const MAX_DAMAGE_ENTRIES: usize = 1000;

/// One capture interface as the file describes it.
#[derive(Debug, Clone)]
pub struct Interface {
    /// Its link type (for one gomodwatch does not read, a stand-in: see `unsupported`).
    pub link: LinkType,
    /// The link type, when gomodwatch does not read it: the interface's packets are
    /// skipped and counted (`skipped_packets`), the rest of the file is read.
    pub unsupported: Option<UnsupportedLinkType>,
    /// Packets skipped on this interface (its link type is not read).
    pub skipped_packets: u64,
    /// Its name (pcapng `if_name`), when the file gives one.
    pub name: Option<String>,
    /// Timestamp resolution: units per second as (base, exponent): 10^-6 by default.
    pub(super) tsresol: TsResol,
    pub(super) tsoffset_s: i64,
    /// Packets the capture lost on this interface (pcapng Interface Statistics `isb_ifdrop`).
    pub(crate) dropped: u64,
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
pub(super) enum TsResol {
    Pow10(u32),
    Pow2(u32),
}

impl TsResol {
    pub(super) fn to_ns(self, units: u64) -> i64 {
        match self {
            TsResol::Pow10(e) if e <= 9 => (units as i64).saturating_mul(10i64.pow(9 - e)),
            TsResol::Pow10(e) => (units / 10u64.pow((e - 9).min(19))) as i64,
            TsResol::Pow2(e) => ((units as u128 * 1_000_000_000) >> e.min(127)) as i64,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Endian {
    Little,
    Big,
}

impl Endian {
    // One bounds check per value (callers have checked the length), not one per byte.
    pub(super) fn u16(self, b: &[u8]) -> u16 {
        let mut a = [0u8; 2];
        a.copy_from_slice(&b[..2]);
        match self {
            Endian::Little => u16::from_le_bytes(a),
            Endian::Big => u16::from_be_bytes(a),
        }
    }
    pub(super) fn u32(self, b: &[u8]) -> u32 {
        let mut a = [0u8; 4];
        a.copy_from_slice(&b[..4]);
        match self {
            Endian::Little => u32::from_le_bytes(a),
            Endian::Big => u32::from_be_bytes(a),
        }
    }
    /// A 64-bit option value (`if_tsoffset`, `isb_ifdrop`) in the section's byte order.
    pub(super) fn u64(self, b: &[u8]) -> Option<u64> {
        let a: [u8; 8] = b.get(..8)?.try_into().ok()?;
        Some(match self {
            Endian::Little => u64::from_le_bytes(a),
            Endian::Big => u64::from_be_bytes(a),
        })
    }
}

pub(super) const SHB_BYTES: [u8; 4] = [0x0a, 0x0d, 0x0d, 0x0a];

/// The section's byte order from a Section Header Block's byte-order magic.
pub(super) fn bom_endian(bom: &[u8]) -> Option<Endian> {
    match bom {
        [0x4d, 0x3c, 0x2b, 0x1a] => Some(Endian::Little),
        [0x1a, 0x2b, 0x3c, 0x4d] => Some(Endian::Big),
        _ => None,
    }
}

/// The input as pcap-parser reads it: first the bytes `CaptureFile::new` already read to
/// check the file header, then the rest. Keeps the first I/O error for us (pcap-parser only
/// says `ReadError`) and retries interrupted reads, as the old reader did.
pub(super) struct Source<R> {
    pub(super) replay: Vec<u8>,
    pub(super) replayed: usize,
    pub(super) inner: R,
    pub(super) error: Arc<Mutex<Option<io::Error>>>,
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

/// Everything but the pcap-parser reader, so that the two can be borrowed separately (a
/// returned packet borrows the reader's buffer).
pub(super) struct State {
    pub(super) io_error: Arc<Mutex<Option<io::Error>>>,
    /// The input has reported its end (a read returned 0).
    pub(super) eof: bool,
    /// The reader's buffer size, which pcap-parser does not tell.
    pub(super) capacity: usize,
    /// File offset of the first byte of the reader's `data()`.
    pub(super) base: u64,
    /// Length of the record last returned, consumed at the next call (the packet borrows it).
    pub(super) pending: usize,
    /// A fatal error was returned: the stream is over.
    pub(super) done: bool,
    /// Byte order of pcap records, or of the current pcapng section.
    pub(super) endian: Endian,
    /// pcap: nanosecond timestamps.
    pub(super) nanos: bool,
    /// pcap: the header's snapshot length.
    pub(super) snaplen: u32,
    /// pcap: the largest captured length accepted so far.
    pub(super) max_caplen: u32,
    pub(super) interfaces: Vec<Interface>,
    /// Timestamp of the last packet returned (ns), the reference for plausibility checks.
    pub(super) last_ts: Option<i64>,
    pub(super) damage: Vec<Damage>,
    pub(super) skipped: u64,
    pub(super) resyncs: u64,
    /// Where the text of Decryption Secrets Blocks goes (TLS key logs), as they are read.
    pub(super) secrets_sink: Option<SecretsSink>,
    /// Decryption Secrets Blocks read: TLS key logs, and others (not used).
    pub(super) secrets_blocks: u64,
    pub(super) secrets_other: u64,
}

/// Takes the text of each TLS key log a pcapng file embeds, when it is read.
pub type SecretsSink = Box<dyn FnMut(&[u8]) + Send>;

impl State {
    /// A fresh state for a pcap file (the pcapng reader changes what differs); read errors
    /// are kept in `io_error`.
    pub(super) fn new(io_error: Arc<Mutex<Option<io::Error>>>) -> State {
        State {
            io_error,
            eof: false,
            capacity: READ_CHUNK,
            base: 0,
            pending: 0,
            done: false,
            endian: Endian::Little,
            nanos: false,
            snaplen: 0,
            max_caplen: 0,
            interfaces: Vec::new(),
            last_ts: None,
            damage: Vec::new(),
            skipped: 0,
            resyncs: 0,
            secrets_sink: None,
            secrets_blocks: 0,
            secrets_other: 0,
        }
    }

    pub(super) fn io_error(&self) -> FileError {
        let e = self.io_error.lock().ok().and_then(|mut slot| slot.take());
        FileError::Io(e.unwrap_or_else(|| io::Error::other("read error")))
    }

    /// Records `skipped` bytes of damage at `offset`. Damage that continues where the last
    /// one ended (packets on a missing interface, one after the other) extends it.
    pub(super) fn note_damage(&mut self, offset: u64, skipped: u64, what: String) {
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

    pub(super) fn pcap_link(&self) -> LinkType {
        self.interfaces
            .first()
            .map_or(LinkType::Ethernet, |i| i.link)
    }
}

/// Makes at least `n` bytes available in the reader's buffer unless the file ends first
/// (`false`). Grows the buffer for a record larger than it: up to `MAX_RECORD` and a read
/// (twice that while resynchronising, when a candidate block and the one after it must both
/// be in the buffer).
#[inline]
pub(super) fn ensure<T: PcapReaderIterator>(
    r: &mut T,
    st: &mut State,
    n: usize,
) -> Result<bool, FileError> {
    if r.data().len() >= n {
        return Ok(true);
    }
    refill(r, st, n)
}

#[inline(never)]
pub(super) fn refill<T: PcapReaderIterator>(
    r: &mut T,
    st: &mut State,
    n: usize,
) -> Result<bool, FileError> {
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
