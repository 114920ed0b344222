//! Classic pcap: the file header, and the records one after another, each checked before
//! it is trusted (the damage it may be is skipped through `resync.rs`).

use super::error::{corrupt, lost, FileError};
use super::resync::{self, recover, PcapHeader};
use super::state::{ensure, Endian, Interface, Source, State, TsResol, MAX_RECORD};
use crate::vocab::time::Ts;
use crate::vocab::{LinkType, Packet};
use pcap_parser::traits::PcapReaderIterator;
use pcap_parser::{LegacyPcapReader, PcapBlockOwned};
use std::io::Read;

/// The reader for a pcap file whose header (`source` replays it) says `endian` and
/// `nanos`: the header is read, and `st` set from it.
pub(super) fn open<R: Read>(
    source: Source<R>,
    endian: Endian,
    nanos: bool,
    st: &mut State,
) -> Result<LegacyPcapReader<Source<R>>, FileError> {
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
        unsupported: None,
        skipped_packets: 0,
        name: None,
        tsresol: TsResol::Pow10(if nanos { 9 } else { 6 }),
        tsoffset_s: 0,
        dropped: 0,
    });
    r.consume_noshift(n);
    st.base = n as u64;
    Ok(r)
}

pub(super) fn next_pcap<'a, R: Read>(
    r: &'a mut LegacyPcapReader<Source<R>>,
    st: &mut State,
) -> Result<Option<Packet<'a>>, FileError> {
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
