//! Stripping the link-layer header in front of the IP packet, per link type.

use crate::vocab::LinkType;

/// Where the network-layer packet starts, and what kind it is.
pub(crate) enum L3<'a> {
    /// An IPv4 or IPv6 packet (decided by its version nibble).
    Ip(&'a [u8]),
    /// A frame whose payload has this EtherType (Ethernet, SLL): VLAN tags are still to be
    /// stripped by the caller.
    Ether(u16, &'a [u8]),
}

/// Strips the link header. `None` for frames too short to hold it or not carrying IP.
pub(crate) fn strip(link: LinkType, frame: &[u8]) -> Option<L3<'_>> {
    match link {
        LinkType::Ethernet => {
            let ty = u16::from_be_bytes([*frame.get(12)?, *frame.get(13)?]);
            Some(L3::Ether(ty, frame.get(14..)?))
        }
        // The family field's byte order depends on the capturing host (and AF_INET6 is 24,
        // 28 or 30 depending on the OS), so dispatch on the IP version nibble instead.
        LinkType::Null | LinkType::Loop => Some(L3::Ip(frame.get(4..)?)),
        LinkType::Raw | LinkType::Ipv4 | LinkType::Ipv6 => Some(L3::Ip(frame)),
        LinkType::LinuxSll => {
            let ty = u16::from_be_bytes([*frame.get(14)?, *frame.get(15)?]);
            Some(L3::Ether(ty, frame.get(16..)?))
        }
        LinkType::LinuxSll2 => {
            let ty = u16::from_be_bytes([*frame.first()?, *frame.get(1)?]);
            Some(L3::Ether(ty, frame.get(20..)?))
        }
        LinkType::Pktap => pktap(frame),
    }
}

/// macOS PKTAP (`struct pktap_header`, little-endian as the hosts that write it): its
/// length, the record type (1: a packet), the packet's own DLT; the packet follows. The
/// inner link type is decoded as any other (but not PKTAP again).
fn pktap(frame: &[u8]) -> Option<L3<'_>> {
    let le = |at: usize| Some(u32::from_le_bytes(frame.get(at..at + 4)?.try_into().ok()?));
    let (len, record, dlt) = (le(0)? as usize, le(4)?, le(8)?);
    if record != 1 || len < 12 {
        return None;
    }
    match LinkType::from_code(dlt).ok()? {
        LinkType::Pktap => None,
        inner => strip(inner, frame.get(len..)?),
    }
}
