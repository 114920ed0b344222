//! pcapng: sections, interfaces (each with its link type, timestamp resolution and offset),
//! statistics, and packet blocks, each block's framing checked before it is trusted.

use super::error::{corrupt, lost, FileError};
use super::resync::{self, recover};
use super::state::{bom_endian, ensure, Endian, Interface, Source, State, TsResol};
use super::state::{MAX_RECORD, READ_CHUNK, SHB_BYTES};
use crate::vocab::time::Ts;
use crate::vocab::{LinkType, Packet};
use pcap_parser::pcapng::{Block, OptionCode, PcapNGOption, SecretsType};
use pcap_parser::traits::PcapReaderIterator;
use pcap_parser::{PcapBlockOwned, PcapNGReader};
use std::io::Read;

/// The reader for a pcapng file whose first section header (`len` bytes; `source`
/// replays it) was sniffed: the header is read, and `st` set from it.
pub(super) fn open<R: Read>(
    source: Source<R>,
    len: usize,
    st: &mut State,
) -> Result<PcapNGReader<Source<R>>, FileError> {
    st.capacity = READ_CHUNK.max(2 * source.replay.len());
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
    Ok(r)
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
    /// A Decryption Secrets Block with a TLS key log: its text at `data_at`, `len` bytes.
    TlsSecrets {
        data_at: usize,
        len: usize,
    },
    /// A Decryption Secrets Block of another kind (WireGuard, ...): nothing here uses it.
    OtherSecrets,
    /// The block is well framed but its content is not (a packet block too short, ...).
    Bad(String),
    Skip,
}

pub(super) fn next_pcapng<'a, R: Read>(
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
                if info.unsupported.is_some() {
                    if let Some(i) = st.interfaces.get_mut(iface) {
                        i.skipped_packets += 1;
                    }
                    r.consume_noshift(len);
                    st.base += len as u64;
                    continue;
                }
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
            Step::TlsSecrets { data_at, len } => {
                st.secrets_blocks += 1;
                if let (Some(sink), Some(text)) = (
                    st.secrets_sink.as_mut(),
                    r.data().get(data_at..data_at + len),
                ) {
                    sink(text);
                }
            }
            Step::OtherSecrets => st.secrets_other += 1,
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
        // TLS secrets (`editcap --inject-secrets tls,KEYLOG`): an NSS key log, as text.
        Block::DecryptionSecrets(dsb) if dsb.secrets_type == SecretsType::TlsKeyLog => {
            Step::TlsSecrets {
                data_at: offset_of(dsb.data),
                len: (dsb.secrets_len as usize).min(dsb.data.len()),
            }
        }
        Block::DecryptionSecrets(_) => Step::OtherSecrets,
        // Name resolution, custom blocks: nothing to decode.
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
    // A link type not read here skips this interface's packets only: a capture of
    // `-i en0 -i awdl0` or with a radiotap interface is still read for the others.
    let (link, unsupported) = match LinkType::from_code(idb.linktype.0 as u32) {
        Ok(link) => (link, None),
        Err(e) => (LinkType::Raw, Some(e)),
    };
    let mut iface = Interface {
        link,
        unsupported,
        skipped_packets: 0,
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
