//! `-w FILE`: what was captured, readable by tcpdump and tshark. One interface gives a
//! classic pcap (nanosecond timestamps); several give a pcapng with one interface
//! description per capture interface, each with its own link type. The caller flushes
//! after every batch, so a Ctrl-C leaves a complete file.

use crate::vocab::time::Ts;
use crate::vocab::LinkType;
use std::io::{self, Write};

/// A `-w` file being written: classic pcap for one interface, pcapng for several.
pub enum CaptureWriter<W: Write> {
    /// Classic pcap (nanosecond timestamps).
    Pcap(W),
    /// pcapng, one interface description per capture interface.
    Pcapng(W),
}

/// One capture interface as it goes into the file header.
pub struct IfaceDesc<'a> {
    /// The interface's name (pcapng `if_name`).
    pub name: &'a str,
    /// Its link type.
    pub link: LinkType,
    /// Its snapshot length.
    pub snaplen: u32,
}

impl<W: Write> CaptureWriter<W> {
    /// Writes the file header for `ifaces` to `out`.
    pub fn new(mut out: W, ifaces: &[IfaceDesc<'_>]) -> io::Result<Self> {
        if let [only] = ifaces {
            // Classic pcap, nanosecond magic, host byte order (little-endian here).
            out.write_all(&0xa1b2_3c4du32.to_le_bytes())?;
            out.write_all(&2u16.to_le_bytes())?;
            out.write_all(&4u16.to_le_bytes())?;
            out.write_all(&[0u8; 8])?;
            out.write_all(&only.snaplen.to_le_bytes())?;
            out.write_all(&only.link.code().to_le_bytes())?;
            return Ok(CaptureWriter::Pcap(out));
        }
        // Section Header Block
        let mut shb = Vec::new();
        shb.extend(0x1a2b_3c4du32.to_le_bytes());
        shb.extend(1u16.to_le_bytes());
        shb.extend(0u16.to_le_bytes());
        shb.extend((-1i64).to_le_bytes());
        shb.extend(option(4, b"gomodwatch"));
        shb.extend([0u8; 4]);
        block(&mut out, 0x0a0d_0d0a, &shb)?;
        for i in ifaces {
            let mut idb = Vec::new();
            idb.extend((i.link.code() as u16).to_le_bytes());
            idb.extend(0u16.to_le_bytes());
            idb.extend(i.snaplen.to_le_bytes());
            idb.extend(option(2, i.name.as_bytes()));
            idb.extend(option(9, &[9])); // if_tsresol: nanoseconds
            idb.extend([0u8; 4]);
            block(&mut out, 1, &idb)?;
        }
        Ok(CaptureWriter::Pcapng(out))
    }

    /// Writes one packet captured on interface `iface` (its index in `ifaces`).
    pub fn packet(&mut self, iface: u32, ts: Ts, wire_len: u32, data: &[u8]) -> io::Result<()> {
        match self {
            CaptureWriter::Pcap(out) => {
                let secs = ts.0.div_euclid(1_000_000_000) as u32;
                let nanos = ts.0.rem_euclid(1_000_000_000) as u32;
                let mut h = [0u8; 16];
                h[..4].copy_from_slice(&secs.to_le_bytes());
                h[4..8].copy_from_slice(&nanos.to_le_bytes());
                h[8..12].copy_from_slice(&(data.len() as u32).to_le_bytes());
                h[12..].copy_from_slice(&wire_len.to_le_bytes());
                out.write_all(&h)?;
                out.write_all(data)
            }
            CaptureWriter::Pcapng(out) => {
                let t = ts.0 as u64;
                let pad = (4 - data.len() % 4) % 4;
                let total = 32 + data.len() + pad;
                let mut h = Vec::with_capacity(28);
                h.extend(6u32.to_le_bytes());
                h.extend((total as u32).to_le_bytes());
                h.extend(iface.to_le_bytes());
                h.extend(((t >> 32) as u32).to_le_bytes());
                h.extend((t as u32).to_le_bytes());
                h.extend((data.len() as u32).to_le_bytes());
                h.extend(wire_len.to_le_bytes());
                out.write_all(&h)?;
                out.write_all(data)?;
                out.write_all(&[0u8; 3][..pad])?;
                out.write_all(&(total as u32).to_le_bytes())
            }
        }
    }

    /// Flushes what is buffered (after every batch, so a Ctrl-C leaves a complete file).
    pub fn flush(&mut self) -> io::Result<()> {
        match self {
            CaptureWriter::Pcap(out) | CaptureWriter::Pcapng(out) => out.flush(),
        }
    }
}

fn option(code: u16, value: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(4 + value.len() + 3);
    v.extend(code.to_le_bytes());
    v.extend((value.len() as u16).to_le_bytes());
    v.extend(value);
    v.resize(v.len() + (4 - value.len() % 4) % 4, 0);
    v
}

fn block<W: Write>(out: &mut W, ty: u32, body: &[u8]) -> io::Result<()> {
    let total = (12 + body.len()) as u32;
    out.write_all(&ty.to_le_bytes())?;
    out.write_all(&total.to_le_bytes())?;
    out.write_all(body)?;
    out.write_all(&total.to_le_bytes())
}

#[cfg(test)]
mod tests {
    use super::super::file::CaptureFile;
    use super::*;

    #[test]
    fn pcapng_round_trips_through_our_reader() {
        let mut buf = Vec::new();
        let ifaces = [
            IfaceDesc {
                name: "lo",
                link: LinkType::Ethernet,
                snaplen: 262_144,
            },
            IfaceDesc {
                name: "any",
                link: LinkType::LinuxSll2,
                snaplen: 262_144,
            },
        ];
        let mut w = CaptureWriter::new(&mut buf, &ifaces).unwrap();
        w.packet(1, Ts(1_700_000_000_123_456_789), 70, b"abcde")
            .unwrap();
        w.packet(0, Ts(1_700_000_001_000_000_000), 3, b"xyz")
            .unwrap();
        let mut r = CaptureFile::new(&buf[..]).unwrap();
        let p = r.next_packet().unwrap().unwrap();
        assert_eq!(
            (p.iface, p.link, p.ts, p.wire_len, p.data),
            (
                1,
                LinkType::LinuxSll2,
                Ts(1_700_000_000_123_456_789),
                70,
                &b"abcde"[..]
            )
        );
        let p = r.next_packet().unwrap().unwrap();
        assert_eq!(
            (p.iface, p.link, p.data),
            (0, LinkType::Ethernet, &b"xyz"[..])
        );
        assert!(r.next_packet().unwrap().is_none());
    }

    #[test]
    fn pcap_round_trips_with_nanoseconds() {
        let mut buf = Vec::new();
        let ifaces = [IfaceDesc {
            name: "lo",
            link: LinkType::Ethernet,
            snaplen: 65535,
        }];
        let mut w = CaptureWriter::new(&mut buf, &ifaces).unwrap();
        w.packet(0, Ts(5_000_000_007), 4, b"abcd").unwrap();
        let mut r = CaptureFile::new(&buf[..]).unwrap();
        assert_eq!(r.next_packet().unwrap().unwrap().ts, Ts(5_000_000_007));
    }
}
