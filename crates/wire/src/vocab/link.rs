//! Link types: which header sits in front of the IP packet. Decided once per interface from
//! the capture's LINKTYPE value; an unknown value is an error that names it, never a guess
//! (rustnet and bandwhich both lost macOS loopback traffic to a silent Ethernet fallback).

use std::fmt;

/// What a captured frame starts with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LinkType {
    /// EN10MB: Ethernet II, possibly with 802.1Q/802.1ad tags (Linux `lo`, `eth0`, macOS `en0`).
    Ethernet,
    /// NULL: 4-byte address family in the capturing host's byte order (macOS/BSD `lo0`).
    Null,
    /// LOOP: as NULL, family in network byte order (OpenBSD).
    Loop,
    /// RAW, IPV4, IPV6: the packet starts with the IP header.
    Raw,
    /// IPV4: an IPv4 header.
    Ipv4,
    /// IPV6: an IPv6 header.
    Ipv6,
    /// LINUX_SLL: Linux "cooked" header v1, 16 bytes (`-i any` in older libpcap).
    LinuxSll,
    /// LINUX_SLL2: v2, 20 bytes (`-i any` with tcpdump ≥ 4.99).
    LinuxSll2,
    /// PKTAP: macOS `tcpdump -i any` (and `-k`): a header naming each packet's own link
    /// type, then the packet.
    Pktap,
}

/// A LINKTYPE value that gomodwatch does not decode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnsupportedLinkType(pub u32);

impl std::error::Error for UnsupportedLinkType {}

impl fmt::Display for UnsupportedLinkType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match linktype_name(self.0) {
            Some(name) => write!(f, "unsupported link type {} ({name})", self.0),
            None => write!(f, "unsupported link type {}", self.0),
        }?;
        write!(
            f,
            "; gomodwatch reads EN10MB, NULL, LOOP, RAW, IPV4, IPV6, LINUX_SLL, LINUX_SLL2 and PKTAP"
        )
    }
}

impl LinkType {
    /// From a LINKTYPE_* value as stored in pcap and pcapng files (and DLT_* values that
    /// libpcap hands out live, which differ only for RAW).
    pub fn from_code(code: u32) -> Result<LinkType, UnsupportedLinkType> {
        Ok(match code {
            0 => LinkType::Null,
            1 => LinkType::Ethernet,
            // LINKTYPE_RAW is 101; DLT_RAW is 12 on most systems and 14 on OpenBSD.
            101 | 12 | 14 => LinkType::Raw,
            108 => LinkType::Loop,
            113 => LinkType::LinuxSll,
            228 => LinkType::Ipv4,
            229 => LinkType::Ipv6,
            276 => LinkType::LinuxSll2,
            // LINKTYPE_PKTAP; DLT_PKTAP as macOS's libpcap hands it out live is 149.
            258 | 149 => LinkType::Pktap,
            other => return Err(UnsupportedLinkType(other)),
        })
    }

    /// The LINKTYPE value written to capture files.
    pub(crate) fn code(self) -> u32 {
        match self {
            LinkType::Null => 0,
            LinkType::Ethernet => 1,
            LinkType::Raw => 101,
            LinkType::Loop => 108,
            LinkType::LinuxSll => 113,
            LinkType::Ipv4 => 228,
            LinkType::Ipv6 => 229,
            LinkType::LinuxSll2 => 276,
            LinkType::Pktap => 258,
        }
    }

    /// Its LINKTYPE name (`EN10MB`, `LINUX_SLL2`, ...).
    pub fn name(self) -> &'static str {
        linktype_name(self.code()).unwrap_or("?")
    }
}

/// Names of common LINKTYPE values, so that an error can say what the file holds.
fn linktype_name(code: u32) -> Option<&'static str> {
    Some(match code {
        0 => "NULL",
        1 => "EN10MB",
        6 => "IEEE802_5",
        9 => "PPP",
        12 | 14 | 101 => "RAW",
        50 => "PPP_HDLC",
        104 => "C_HDLC",
        105 => "IEEE802_11",
        108 => "LOOP",
        113 => "LINUX_SLL",
        119 => "PRISM_HEADER",
        127 => "IEEE802_11_RADIOTAP",
        149 | 258 => "PKTAP",
        147..=162 => "USER",
        192 => "PPI",
        195 => "IEEE802_15_4",
        220 => "USB_LINUX_MMAPPED",
        228 => "IPV4",
        229 => "IPV6",
        249 => "NETLINK",
        252 => "WIRESHARK_UPPER_PDU",
        263 => "USBPCAP",
        276 => "LINUX_SLL2",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_supported_code_round_trips() {
        for code in [0, 1, 101, 108, 113, 228, 229, 276, 258] {
            assert_eq!(LinkType::from_code(code).unwrap().code(), code);
        }
    }

    #[test]
    fn unknown_link_type_is_named() {
        let err = LinkType::from_code(127).unwrap_err().to_string();
        assert!(err.contains("127 (IEEE802_11_RADIOTAP)"), "{err}");
        let err = LinkType::from_code(4242).unwrap_err().to_string();
        assert!(err.starts_with("unsupported link type 4242;"), "{err}");
    }
}
