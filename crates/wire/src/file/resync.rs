//! Recovery: telling records from damage (the plausibility checks of pcap record headers,
//! the tests a position must pass to resume reading there), and [`recover`], which scans
//! past damage to the next record it can trust.
//!
//! A pcap record header has no magic number, so after damage the only way back in is to find
//! 16 bytes that look like a header and are confirmed by what follows them. We ask a lot
//! before we trust a position, since a wrong guess turns packet bytes into bogus packets:
//! * the header is plausible: the wire length is not 0 and not below the captured length,
//!   the captured length is within the file's snapshot length (or the largest one seen), the
//!   time is within [-1 min, +1 day] of the last packet read;
//! * the frame starts like one of the file's link type (EtherType, IP version nibble, ...);
//! * the record after it is plausible too (time close to this one), or the file ends exactly
//!   where this record ends. With no packet read yet (damage right after the file header)
//!   there is no time to compare with, so two records after it must chain.
//!
//! pcapng blocks are easier: a known block type, a sane total length (12 to 16 MiB, a
//! multiple of 4), the trailing copy of the length, and a sane block after it.
//!
//! For random bytes the chance of passing is far below 2^-40 per position; the scan is linear
//! (each position costs a few comparisons; a position whose check needs more bytes than the
//! buffer holds keeps its bytes and the buffer is refilled behind it).

use super::error::FileError;
use super::state::{bom_endian, ensure, Endian, State, MAX_RECORD, SHB_BYTES};
use crate::vocab::LinkType;
use pcap_parser::traits::PcapReaderIterator;

/// How far a packet's time may be from the last packet's and still be trusted.
const BACK_NS: i64 = 60 * 1_000_000_000;
const AHEAD_NS: i64 = 86_400 * 1_000_000_000;
/// Longest frame on the wire we believe in: Wireshark's reader uses 128 MB for the same
/// sanity check. Larger means the header is garbage.
const MAX_WIRE: u32 = 256 << 20;

/// Whether a position is where reading can resume.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Verdict {
    Yes,
    No,
    /// Cannot tell before this many bytes (from the position) are in the buffer.
    Need(usize),
}

/// `Need(n)`, or `No` when the file has ended and `n` bytes will never come.
fn short(n: usize, eof: bool) -> Verdict {
    if eof {
        Verdict::No
    } else {
        Verdict::Need(n)
    }
}

/// A pcap record header.
#[derive(Debug, Clone, Copy)]
pub(super) struct PcapHeader {
    pub(crate) caplen: u32,
    pub(crate) wire_len: u32,
    /// Nanoseconds since the epoch.
    pub(crate) ts: i64,
}

impl PcapHeader {
    pub(crate) fn new(nanos: bool, sec: u32, frac: u32, caplen: u32, wire_len: u32) -> PcapHeader {
        let frac_ns = if nanos {
            frac as i64
        } else {
            frac as i64 * 1000
        };
        PcapHeader {
            caplen,
            wire_len,
            ts: sec as i64 * 1_000_000_000 + frac_ns,
        }
    }

    /// Reads the header in the first 16 bytes of `b`, if it has them. (A fixed-size copy:
    /// the four fields then load without a bounds check each; this runs for every record.)
    pub fn parse(e: Endian, nanos: bool, b: &[u8]) -> Option<PcapHeader> {
        let h: [u8; 16] = b.get(..16)?.try_into().ok()?;
        let f = |i: usize| {
            let a = [h[i], h[i + 1], h[i + 2], h[i + 3]];
            match e {
                Endian::Little => u32::from_le_bytes(a),
                Endian::Big => u32::from_be_bytes(a),
            }
        };
        Some(PcapHeader::new(nanos, f(0), f(4), f(8), f(12)))
    }
}

/// What follows a pcap record.
pub(super) enum Next {
    /// The file ends exactly there.
    End,
    /// Fewer than 16 bytes, then the end: a cut record (reported when it is reached).
    Cut,
    Header(PcapHeader),
}

impl Next {
    /// From the bytes after the record (all of them up to 16 if the file has them).
    pub(crate) fn of(rest: &[u8], eof: bool, e: Endian, nanos: bool) -> Next {
        match PcapHeader::parse(e, nanos, rest) {
            Some(h) => Next::Header(h),
            None if rest.is_empty() && eof => Next::End,
            None => Next::Cut,
        }
    }
}

fn near(ts: i64, reference: Option<i64>) -> bool {
    reference.is_none_or(|r| ts >= r.saturating_sub(BACK_NS) && ts <= r.saturating_add(AHEAD_NS))
}

impl State {
    /// Sizes that a header can have at all: not beyond `MAX_RECORD`, and not the empty
    /// record that zeroed bytes read as.
    pub(super) fn pcap_structural(&self, h: &PcapHeader) -> bool {
        h.caplen as usize <= MAX_RECORD && h.wire_len <= MAX_WIRE && h.wire_len | h.caplen != 0
    }

    /// A header we trust on its own: sane sizes, captured length within the snapshot length
    /// (or the largest seen: writers that exceed their snaplen do it for every packet), time
    /// close to `reference`.
    pub(super) fn pcap_strong(&self, h: &PcapHeader, reference: Option<i64>) -> bool {
        let snap = if self.snaplen == 0 {
            MAX_RECORD as u32
        } else {
            self.snaplen.max(self.max_caplen)
        };
        self.pcap_structural(h)
            && h.wire_len >= h.caplen
            && h.caplen <= snap
            && near(h.ts, reference)
    }

    /// A header that confirms the one before it: sane sizes and time close to it.
    pub(super) fn pcap_loose(&self, h: &PcapHeader, reference: Option<i64>) -> bool {
        reference.is_some() && self.pcap_structural(h) && near(h.ts, reference)
    }
}

/// Does `frame` start like a frame of this link type? Only what every such frame has.
fn link_ok(link: LinkType, frame: &[u8]) -> bool {
    let ip = |b: Option<&u8>, versions: &[u8]| b.is_none_or(|b| versions.contains(&(b >> 4)));
    match link {
        LinkType::Ethernet => match frame.get(12..14) {
            // An EtherType, or an 802.3 length.
            Some(t) => {
                let t = u16::from_be_bytes([t[0], t[1]]);
                t >= 0x0600 || t <= 1500
            }
            None => true,
        },
        LinkType::Null | LinkType::Loop => ip(frame.get(4), &[4, 6]),
        LinkType::Raw => ip(frame.first(), &[4, 6]),
        LinkType::Ipv4 => ip(frame.first(), &[4]),
        LinkType::Ipv6 => ip(frame.first(), &[6]),
        // Packet type: to us, broadcast, multicast, to another host, outgoing.
        LinkType::LinuxSll => frame.get(..2).is_none_or(|t| t[0] == 0 && t[1] <= 4),
        LinkType::LinuxSll2 => frame.get(10).is_none_or(|t| *t <= 4),
        // The header's record type: 1, a packet.
        LinkType::Pktap => frame.get(4..8).is_none_or(|t| t == [1, 0, 0, 0]),
    }
}

/// Can a pcap record start at `d[0]`?
pub(super) fn pcap_candidate(st: &State, d: &[u8], eof: bool) -> Verdict {
    let Some(h) = PcapHeader::parse(st.endian, st.nanos, d) else {
        return short(16, eof);
    };
    if !st.pcap_strong(&h, st.last_ts) {
        return Verdict::No;
    }
    let len = 16 + h.caplen as usize;
    if d.len() < len {
        return short(len, eof);
    }
    if !link_ok(st.pcap_link(), &d[16..len]) {
        return Verdict::No;
    }
    let depth = if st.last_ts.is_some() { 1 } else { 2 };
    pcap_chain(st, &d[len..], h.ts, eof, depth).after(len)
}

/// Do `depth` plausible records (or the end of the file) follow a record at time `prev`?
fn pcap_chain(st: &State, d: &[u8], prev: i64, eof: bool, depth: u32) -> Verdict {
    if depth == 0 || (d.is_empty() && eof) {
        // Confirmed, or the file ends exactly here.
        return Verdict::Yes;
    }
    let Some(h) = PcapHeader::parse(st.endian, st.nanos, d) else {
        // A few stray bytes before the end confirm nothing.
        return short(16, eof);
    };
    if !st.pcap_loose(&h, Some(prev)) {
        return Verdict::No;
    }
    if depth == 1 {
        return Verdict::Yes;
    }
    let len = 16 + h.caplen as usize;
    if d.len() < len {
        // Its header checked, the record is cut by the end of the file (an error of its own
        // when it is reached).
        return if eof {
            Verdict::Yes
        } else {
            Verdict::Need(len)
        };
    }
    pcap_chain(st, &d[len..], h.ts, eof, depth - 1).after(len)
}

impl Verdict {
    /// A verdict about bytes that start `offset` bytes after the candidate.
    fn after(self, offset: usize) -> Verdict {
        match self {
            Verdict::Need(n) => Verdict::Need(offset + n),
            v => v,
        }
    }
}

/// The block types we resume on, and the least total length each can have.
fn pcapng_min_len(ty: u32) -> Option<usize> {
    Some(match ty {
        0x0A0D_0D0A => 28,          // Section Header
        1 => 20,                    // Interface Description
        2 | 6 => 32,                // (obsolete) Packet, Enhanced Packet
        3 => 16,                    // Simple Packet
        4 => 16,                    // Name Resolution
        5 => 24,                    // Interface Statistics
        9 | 0x0A => 16,             // systemd Journal Export, Decryption Secrets
        0x0BAD | 0x4000_0BAD => 16, // Custom
        _ => return None,
    })
}

/// A block's type, byte order and total length at `d[0]` (12 bytes needed), if it has a
/// known type and a sane length. `section` is the byte order of the section it would be in.
fn pcapng_frame(section: Endian, d: &[u8]) -> Option<(u32, Endian, usize)> {
    let (ty, e) = if d[..4] == SHB_BYTES {
        (0x0A0D_0D0A, bom_endian(&d[8..12])?)
    } else {
        (section.u32(d), section)
    };
    let len = e.u32(&d[4..8]) as usize;
    let ok = pcapng_min_len(ty).is_some_and(|min| len >= min) && len <= MAX_RECORD && len % 4 == 0;
    ok.then_some((ty, e, len))
}

/// Can a pcapng block start at `d[0]`?
pub(super) fn pcapng_candidate(st: &State, d: &[u8], eof: bool) -> Verdict {
    if d.len() < 12 {
        return short(12, eof);
    }
    let Some((ty, e, len)) = pcapng_frame(st.endian, d) else {
        return Verdict::No;
    };
    if d.len() < len {
        return short(len, eof);
    }
    if e.u32(&d[len - 4..len]) as usize != len {
        return Verdict::No;
    }
    if ty == 6 || ty == 2 {
        // A packet on an interface we know, its data within the block, at a time that fits.
        let iface = if ty == 6 {
            e.u32(&d[8..]) as usize
        } else {
            e.u16(&d[8..]) as usize
        };
        let Some(info) = st.interfaces.get(iface) else {
            return Verdict::No;
        };
        let caplen = e.u32(&d[20..]) as usize;
        if 32 + caplen > len
            || (info.unsupported.is_none() && !link_ok(info.link, &d[28..28 + caplen]))
        {
            return Verdict::No;
        }
        let units = (e.u32(&d[12..]) as u64) << 32 | e.u32(&d[16..]) as u64;
        let ts = info
            .tsresol
            .to_ns(units)
            .saturating_add(info.tsoffset_s.saturating_mul(1_000_000_000));
        if !near(ts, st.last_ts) {
            return Verdict::No;
        }
    }
    // The block after it must be framed as well, or the file end right here.
    let rest = &d[len..];
    if rest.is_empty() && eof {
        return Verdict::Yes;
    }
    if rest.len() < 12 {
        // A few stray bytes before the end confirm nothing.
        return short(len + 12, eof);
    }
    let Some((_, e2, len2)) = pcapng_frame(e, rest) else {
        return Verdict::No;
    };
    if rest.len() < len2 {
        // Framed as a block, but cut by the end of the file (an error when reached).
        return if eof {
            Verdict::Yes
        } else {
            Verdict::Need(len + len2)
        };
    }
    if e2.u32(&rest[len2 - 4..len2]) as usize == len2 {
        Verdict::Yes
    } else {
        Verdict::No
    }
}

/// After damage at the start of the buffer: scans forward, byte by byte, for the next record
/// or block that `candidate` trusts. Found: the damage is noted and reading resumes there.
/// Not found before the end of the file: `err`, the error the damage itself gives.
pub(super) fn recover<T: PcapReaderIterator>(
    r: &mut T,
    st: &mut State,
    err: FileError,
    candidate: fn(&State, &[u8], bool) -> Verdict,
) -> Result<(), FileError> {
    let at = st.base;
    let mut p = 1;
    loop {
        let d = r.data();
        let mut need = None;
        while p < d.len() {
            match candidate(st, &d[p..], st.eof) {
                Verdict::Yes => {
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
                Verdict::No => p += 1,
                Verdict::Need(n) => {
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
