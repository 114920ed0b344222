//! A pure-Rust reader for pcap and pcapng files.
//!
//! libpcap's reader refuses pcapng files whose interfaces have different link types (what
//! `-i lo0 -i en0` produces), so files are read here. The reader streams through a fixed
//! buffer and hands out packets that borrow from it: no allocation per packet, bounded
//! memory whatever the file size. Damage (a truncated record, a corrupt length) ends the
//! stream with an error *after* every packet before it has been returned.

// The reader gomodwatch used before the pcap-parser one (src/capture/file.rs at main's
// bcaab0d), kept only so that tests and the benchmark can compare the two. Only these import
// lines and the removal of its unit tests (ported to crates/wire/src/file/tests.rs) differ.
use gomodwatch::vocab::time::Ts;
use gomodwatch::vocab::Packet;
use gomodwatch::vocab::{LinkType, UnsupportedLinkType};
use std::io::{self, Read};

/// Largest record we accept. pcapng blocks carry one packet each; 64 KiB loopback MTUs and
/// GRO super-segments stay far below this, so anything larger is corruption.
const MAX_RECORD: usize = 16 << 20;
const READ_CHUNK: usize = 1 << 20;

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

#[derive(Clone, Copy)]
enum Endian {
    Little,
    Big,
}

impl Endian {
    fn u16(self, b: &[u8]) -> u16 {
        let a = [b[0], b[1]];
        match self {
            Endian::Little => u16::from_le_bytes(a),
            Endian::Big => u16::from_be_bytes(a),
        }
    }
    fn u32(self, b: &[u8]) -> u32 {
        let a = [b[0], b[1], b[2], b[3]];
        match self {
            Endian::Little => u32::from_le_bytes(a),
            Endian::Big => u32::from_be_bytes(a),
        }
    }
}

enum Layout {
    Pcap { endian: Endian, nanos: bool },
    Pcapng { endian: Endian },
}

pub struct CaptureFile<R> {
    inner: R,
    buf: Vec<u8>,
    start: usize,
    end: usize,
    eof: bool,
    /// File offset of `buf[start]`, for error messages.
    offset: u64,
    layout: Layout,
    interfaces: Vec<Interface>,
    format: FileFormat,
}

impl<R: Read> CaptureFile<R> {
    /// Reads the file header. Errors here mean the file cannot be a capture at all.
    pub fn new(inner: R) -> Result<Self, FileError> {
        let mut f = CaptureFile {
            inner,
            buf: vec![0; READ_CHUNK],
            start: 0,
            end: 0,
            eof: false,
            offset: 0,
            layout: Layout::Pcap {
                endian: Endian::Little,
                nanos: false,
            },
            interfaces: Vec::new(),
            format: FileFormat::Pcap,
        };
        if !f.fill(4)? {
            return Err(FileError::Empty);
        }
        if f.available() < 4 {
            return Err(FileError::NotACapture(f.hex_prefix()));
        }
        let magic = f.window()[..4].to_vec();
        match magic[..] {
            [0xd4, 0xc3, 0xb2, 0xa1] => f.pcap_header(Endian::Little, false)?,
            [0xa1, 0xb2, 0xc3, 0xd4] => f.pcap_header(Endian::Big, false)?,
            [0x4d, 0x3c, 0xb2, 0xa1] => f.pcap_header(Endian::Little, true)?,
            [0xa1, 0xb2, 0x3c, 0x4d] => f.pcap_header(Endian::Big, true)?,
            [0x0a, 0x0d, 0x0d, 0x0a] => {
                f.format = FileFormat::Pcapng;
                f.layout = Layout::Pcapng {
                    endian: Endian::Little,
                };
                // The section header is read as the first block by `next_packet`; reading it
                // now makes a non-pcapng file with this magic fail early.
                f.pcapng_section_header()?;
            }
            _ => return Err(FileError::NotACapture(f.hex_prefix())),
        }
        Ok(f)
    }

    pub fn format(&self) -> FileFormat {
        self.format
    }

    /// Interfaces seen so far (pcap: exactly one; pcapng: grows as IDBs are read).
    pub fn interfaces(&self) -> &[Interface] {
        &self.interfaces
    }

    /// Packets the capturing system reported as dropped (pcapng interface statistics).
    pub fn dropped(&self) -> u64 {
        self.interfaces.iter().map(|i| i.dropped).sum()
    }

    /// Bytes consumed so far.
    pub fn position(&self) -> u64 {
        self.offset
    }

    fn available(&self) -> usize {
        self.end - self.start
    }

    fn window(&self) -> &[u8] {
        &self.buf[self.start..self.end]
    }

    fn hex_prefix(&self) -> String {
        let w = self.window();
        let bytes: Vec<String> = w[..w.len().min(8)]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        format!("bytes {}", bytes.join(" "))
    }

    /// Makes at least `n` bytes available unless the file ends first. Returns `false` only
    /// when the file ended with nothing left at all (a clean end of records).
    fn fill(&mut self, n: usize) -> Result<bool, FileError> {
        if self.available() >= n {
            return Ok(true);
        }
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        if self.buf.len() < n {
            self.buf.resize(n.max(READ_CHUNK), 0);
        }
        while self.end < n && !self.eof {
            // Read in large chunks: one syscall per MiB, not per packet.
            let want = (self.buf.len() - self.end).min(READ_CHUNK.max(n - self.end));
            match self.inner.read(&mut self.buf[self.end..self.end + want]) {
                Ok(0) => self.eof = true,
                Ok(k) => self.end += k,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(self.available() > 0)
    }

    fn consume(&mut self, n: usize) {
        self.start += n;
        self.offset += n as u64;
    }

    fn pcap_header(&mut self, endian: Endian, nanos: bool) -> Result<(), FileError> {
        if !self.fill(24)? || self.available() < 24 {
            return Err(FileError::Truncated(0));
        }
        let h = &self.window()[..24];
        let major = endian.u16(&h[4..]);
        if major != 2 {
            return Err(FileError::Corrupt {
                offset: 4,
                what: format!("pcap version {major} (expected 2)"),
            });
        }
        // The upper bits of the link type field hold FCS information (pcap-savefile(5)).
        let link = LinkType::from_code(endian.u32(&h[20..]) & 0x0fff_ffff)?;
        self.layout = Layout::Pcap { endian, nanos };
        self.interfaces.push(Interface {
            link,
            name: None,
            tsresol: TsResol::Pow10(if nanos { 9 } else { 6 }),
            tsoffset_s: 0,
            dropped: 0,
        });
        self.consume(24);
        Ok(())
    }

    /// Reads a Section Header Block at the current position; a new section resets the
    /// interface numbering.
    fn pcapng_section_header(&mut self) -> Result<(), FileError> {
        let at = self.offset;
        if !self.fill(12)? || self.available() < 12 {
            return Err(FileError::Truncated(at));
        }
        let bom = &self.window()[8..12];
        let endian = match bom {
            [0x4d, 0x3c, 0x2b, 0x1a] => Endian::Little,
            [0x1a, 0x2b, 0x3c, 0x4d] => Endian::Big,
            _ => {
                return Err(FileError::Corrupt {
                    offset: at + 8,
                    what: "bad pcapng byte-order magic".into(),
                })
            }
        };
        self.layout = Layout::Pcapng { endian };
        let len = self.block_len(endian, at)?;
        self.interfaces.clear();
        self.consume(len);
        Ok(())
    }

    /// Validates a pcapng block's total length and makes the whole block available.
    fn block_len(&mut self, endian: Endian, at: u64) -> Result<usize, FileError> {
        let len = endian.u32(&self.window()[4..8]) as usize;
        if !(12..=MAX_RECORD).contains(&len) || len % 4 != 0 {
            return Err(FileError::Corrupt {
                offset: at,
                what: format!("block length {len}"),
            });
        }
        self.fill(len)?;
        if self.available() < len {
            return Err(FileError::Truncated(at));
        }
        let trailer = endian.u32(&self.window()[len - 4..len]) as usize;
        if trailer != len {
            return Err(FileError::Corrupt {
                offset: at,
                what: format!("block length {len} does not match its trailer {trailer}"),
            });
        }
        Ok(len)
    }

    /// The next packet, `None` at a clean end of file.
    pub fn next_packet(&mut self) -> Result<Option<Packet<'_>>, FileError> {
        match self.layout {
            Layout::Pcap { endian, nanos } => self.next_pcap(endian, nanos),
            Layout::Pcapng { .. } => self.next_pcapng(),
        }
    }

    fn next_pcap(&mut self, endian: Endian, nanos: bool) -> Result<Option<Packet<'_>>, FileError> {
        let at = self.offset;
        if !self.fill(16)? {
            return Ok(None);
        }
        if self.available() < 16 {
            return Err(FileError::Truncated(at));
        }
        let h = &self.window()[..16];
        let (sec, frac) = (endian.u32(h), endian.u32(&h[4..]));
        let (caplen, wire_len) = (endian.u32(&h[8..]) as usize, endian.u32(&h[12..]));
        if caplen > MAX_RECORD {
            return Err(FileError::Corrupt {
                offset: at,
                what: format!("packet length {caplen}"),
            });
        }
        if !self.fill(16 + caplen)? || self.available() < 16 + caplen {
            return Err(FileError::Truncated(at));
        }
        let frac_ns = if nanos {
            frac as i64
        } else {
            frac as i64 * 1000
        };
        let ts = Ts(sec as i64 * 1_000_000_000 + frac_ns);
        let link = self.interfaces[0].link;
        let begin = self.start + 16;
        self.consume(16 + caplen);
        Ok(Some(Packet {
            ts,
            link,
            iface: 0,
            wire_len: wire_len.max(caplen as u32),
            data: &self.buf[begin..begin + caplen],
        }))
    }

    fn next_pcapng(&mut self) -> Result<Option<Packet<'_>>, FileError> {
        loop {
            let at = self.offset;
            if !self.fill(12)? {
                return Ok(None);
            }
            if self.available() < 12 {
                return Err(FileError::Truncated(at));
            }
            let ty_raw = &self.window()[..4];
            if ty_raw == [0x0a, 0x0d, 0x0d, 0x0a] {
                self.pcapng_section_header()?;
                continue;
            }
            let Layout::Pcapng { endian } = self.layout else {
                unreachable!("pcapng reader on a pcap layout")
            };
            let ty = endian.u32(ty_raw);
            let len = self.block_len(endian, at)?;
            let body = self.start + 8..self.start + len - 4;
            match ty {
                1 => {
                    let iface = parse_idb(endian, &self.buf[body], at)?;
                    self.interfaces.push(iface);
                }
                5 => self.read_isb(endian, body),
                2 | 3 | 6 => {
                    if let Some((iface, ts, cap, wire_len, data)) =
                        self.packet_block(ty, endian, body, at)?
                    {
                        self.consume(len);
                        return Ok(Some(Packet {
                            ts,
                            link: self.interfaces[iface].link,
                            iface: iface as u32,
                            wire_len,
                            data: &self.buf[data..data + cap],
                        }));
                    }
                }
                // Name resolution, decryption secrets, custom blocks: nothing to decode.
                _ => {}
            }
            self.consume(len);
        }
    }

    /// Parses an EPB (6), SPB (3) or obsolete Packet Block (2). Returns the interface index,
    /// timestamp, captured length, original length and the data's start in `buf`.
    #[allow(clippy::type_complexity)]
    fn packet_block(
        &self,
        ty: u32,
        e: Endian,
        body: std::ops::Range<usize>,
        at: u64,
    ) -> Result<Option<(usize, Ts, usize, u32, usize)>, FileError> {
        let b = &self.buf[body.clone()];
        let corrupt = |what: &str| FileError::Corrupt {
            offset: at,
            what: what.to_string(),
        };
        let (iface, ts_units, caplen, wire_len, data_off) = match ty {
            6 if b.len() >= 20 => {
                let ts = (e.u32(&b[4..]) as u64) << 32 | e.u32(&b[8..]) as u64;
                (
                    e.u32(b) as usize,
                    Some(ts),
                    e.u32(&b[12..]) as usize,
                    e.u32(&b[16..]),
                    20,
                )
            }
            2 if b.len() >= 20 => {
                let ts = (e.u32(&b[4..]) as u64) << 32 | e.u32(&b[8..]) as u64;
                (
                    e.u16(b) as usize,
                    Some(ts),
                    e.u32(&b[12..]) as usize,
                    e.u32(&b[16..]),
                    20,
                )
            }
            3 if b.len() >= 4 => {
                let wire = e.u32(b);
                (0, None, (wire as usize).min(b.len() - 4), wire, 4)
            }
            _ => return Err(corrupt("packet block too short")),
        };
        if data_off + caplen > b.len() {
            return Err(corrupt("packet data runs past its block"));
        }
        let Some(info) = self.interfaces.get(iface) else {
            return Err(corrupt(&format!(
                "packet on interface {iface}, but the file describes {}",
                self.interfaces.len()
            )));
        };
        let ts = match ts_units {
            Some(units) => Ts(info.tsresol.to_ns(units) + info.tsoffset_s * 1_000_000_000),
            // Simple Packet Blocks carry no time; the packets still decode.
            None => Ts(0),
        };
        Ok(Some((
            iface,
            ts,
            caplen,
            wire_len.max(caplen as u32),
            body.start + data_off,
        )))
    }

    /// Interface Statistics Block: keep the interface's drop count (`isb_ifdrop`).
    fn read_isb(&mut self, e: Endian, body: std::ops::Range<usize>) {
        let b = &self.buf[body];
        if b.len() < 12 {
            return;
        }
        let iface = e.u32(b) as usize;
        for (code, val) in Options::new(e, &b[12..]) {
            if code == 5 && val.len() == 8 {
                let drops = (e.u32(val) as u64) | (e.u32(&val[4..]) as u64) << 32;
                let drops = match e {
                    Endian::Little => drops,
                    Endian::Big => drops.rotate_left(32),
                };
                if let Some(i) = self.interfaces.get_mut(iface) {
                    i.dropped = drops;
                }
            }
        }
    }
}

fn parse_idb(e: Endian, b: &[u8], at: u64) -> Result<Interface, FileError> {
    if b.len() < 8 {
        return Err(FileError::Corrupt {
            offset: at,
            what: "interface description too short".into(),
        });
    }
    let link = LinkType::from_code(e.u16(b) as u32)?;
    let mut iface = Interface {
        link,
        name: None,
        tsresol: TsResol::Pow10(6),
        tsoffset_s: 0,
        dropped: 0,
    };
    for (code, val) in Options::new(e, &b[8..]) {
        match (code, val.len()) {
            (2, _) => iface.name = Some(String::from_utf8_lossy(val).into_owned()),
            (9, 1) => {
                let r = val[0];
                iface.tsresol = if r & 0x80 == 0 {
                    TsResol::Pow10(r as u32)
                } else {
                    TsResol::Pow2((r & 0x7f) as u32)
                };
            }
            (14, 8) => {
                let lo = e.u32(val) as u64;
                let hi = e.u32(&val[4..]) as u64;
                let v = match e {
                    Endian::Little => lo | hi << 32,
                    Endian::Big => lo << 32 | hi,
                };
                iface.tsoffset_s = v as i64;
            }
            _ => {}
        }
    }
    Ok(iface)
}

/// Iterates pcapng options (code, value) until `opt_endofopt` or the end of the slice.
struct Options<'a> {
    e: Endian,
    rest: &'a [u8],
}

impl<'a> Options<'a> {
    fn new(e: Endian, rest: &'a [u8]) -> Self {
        Options { e, rest }
    }
}

impl<'a> Iterator for Options<'a> {
    type Item = (u16, &'a [u8]);
    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.len() < 4 {
            return None;
        }
        let code = self.e.u16(self.rest);
        let len = self.e.u16(&self.rest[2..]) as usize;
        if code == 0 || 4 + len > self.rest.len() {
            return None;
        }
        let val = &self.rest[4..4 + len];
        let padded = (4 + len + 3) & !3;
        self.rest = &self.rest[padded.min(self.rest.len())..];
        Some((code, val))
    }
}
