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
    }
}
