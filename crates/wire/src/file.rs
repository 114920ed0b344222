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
//! forward byte by byte for the next record it can trust (`file/resync.rs`), keeps reading from
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
//!   pcap-parser reader is built (`file/sniff.rs`); those bytes are then replayed to it
//!   (`state::Source`).
//! * I/O errors: pcap-parser turns them into a bare `ReadError`; `Source` keeps the real
//!   `io::Error` (and retries `Interrupted`) so that messages stay as before.
//!
//! Compressed input (gzip, zstd, xz) is decompressed on the fly, sniffed by its first bytes
//! (`file/decompress.rs`).
//!
//! Layout: `decompress` (compressed input), `sniff` (the file header), `pcap` and `pcapng` (each format's records),
//! `resync` (recovery from damage), `state` (what they share), `error`.

mod decompress;
mod error;
mod pcap;
mod pcapng;
mod resync;
mod sniff;
mod state;

pub use error::FileError;
pub use state::{Damage, Interface, SecretsSink};

use crate::vocab::Packet;
use decompress::Input;
use pcap_parser::traits::PcapReaderIterator;
use pcap_parser::{LegacyPcapReader, PcapNGReader};
use state::{Source, State};
use std::io::Read;
use std::sync::{Arc, Mutex};

/// The pcap-parser reader for the file's format.
enum Reader<R: Read> {
    Pcap(LegacyPcapReader<Source<Input<R>>>),
    Pcapng(PcapNGReader<Source<Input<R>>>),
}

/// A pcap or pcapng file being read, packet by packet, past damage it can skip.
pub struct CaptureFile<R: Read> {
    reader: Reader<R>,
    st: State,
    compression: Option<&'static str>,
}

impl<R: Read> CaptureFile<R> {
    /// Reads the file header. Errors here mean the file cannot be a capture at all.
    pub fn new(inner: R) -> Result<Self, FileError> {
        let (mut inner, mut head) = decompress::open(inner)?;
        let kind = match sniff::sniff(&mut inner, &mut head) {
            Err(FileError::NotACapture(what)) if inner.compressed().is_some() => {
                let name = inner.compressed().map_or("", |c| c.name());
                return Err(FileError::NotACapture(format!(
                    "{what}, once {name}-decompressed"
                )));
            }
            kind => kind?,
        };
        let compression = inner.compressed().map(|c| c.name());
        let io_error = Arc::new(Mutex::new(None));
        let mut st = State::new(io_error.clone());
        let source = Source {
            replay: head,
            replayed: 0,
            inner,
            error: io_error,
        };
        let reader = match kind {
            sniff::Kind::Pcapng { len } => Reader::Pcapng(pcapng::open(source, len, &mut st)?),
            sniff::Kind::Pcap { endian, nanos } => {
                Reader::Pcap(pcap::open(source, endian, nanos, &mut st)?)
            }
        };
        Ok(CaptureFile {
            reader,
            st,
            compression,
        })
    }

    /// The compression the input was read through (`gzip`, `zstd`, `xz`), if any.
    pub fn compression(&self) -> Option<&'static str> {
        self.compression
    }

    /// Hands the TLS key log of every Decryption Secrets Block (pcapng, as `editcap
    /// --inject-secrets` writes) to `sink` when the block is read: before the packets after
    /// it are returned.
    pub fn on_secrets(&mut self, sink: SecretsSink) {
        self.st.secrets_sink = Some(sink);
    }

    /// Decryption Secrets Blocks read so far: (TLS key logs, other kinds).
    pub fn secrets_blocks(&self) -> (u64, u64) {
        (self.st.secrets_blocks, self.st.secrets_other)
    }

    /// Interfaces seen so far (pcap: exactly one; pcapng: grows as IDBs are read).
    pub fn interfaces(&self) -> &[Interface] {
        &self.st.interfaces
    }

    /// Packets the capturing system reported as dropped (pcapng interface statistics).
    pub fn dropped(&self) -> u64 {
        self.st.interfaces.iter().map(|i| i.dropped).sum()
    }

    /// Packets skipped because their interface's link type is not read (pcapng).
    pub fn skipped_packets(&self) -> u64 {
        self.st.interfaces.iter().map(|i| i.skipped_packets).sum()
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
            Reader::Pcap(r) => pcap::next_pcap(r, st),
            Reader::Pcapng(r) => pcapng::next_pcapng(r, st),
        };
        if next.is_err() {
            st.done = true;
        }
        next
    }
}

#[cfg(test)]
mod tests;
