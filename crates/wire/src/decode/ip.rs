//! From a link-layer frame to a TCP segment or UDP datagram, with etherparse doing the
//! IP and VLAN work. Lax slicing keeps frames that the snap length cut short: the part that
//! was captured is still delivered, and the missing tail becomes a reassembly gap.

use crate::decode::link::{strip, L3};
use crate::vocab::Packet;
use etherparse::{EtherType, IpNumber, LaxNetSlice, LaxSlicedPacket, TcpHeaderSlice};
use std::net::{IpAddr, SocketAddr};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct TcpFlags {
    pub(crate) syn: bool,
    pub(crate) ack: bool,
    pub(crate) fin: bool,
    pub(crate) rst: bool,
}

#[derive(Debug)]
pub(crate) struct TcpSegment<'a> {
    pub(crate) src: SocketAddr,
    pub(crate) dst: SocketAddr,
    pub(crate) seq: u32,
    /// Acknowledgment number (meaningful when `flags.ack`).
    pub(crate) ack: u32,
    pub(crate) flags: TcpFlags,
    pub(crate) payload: &'a [u8],
    /// Payload bytes the snap length cut off (they were on the wire, not in the file).
    pub(crate) missing: u32,
    /// The advertised receive window (unscaled: only zero is read from it).
    pub(crate) window: u16,
    /// The TCP timestamps option (TSval, TSecr), when present.
    pub(crate) timestamps: Option<(u32, u32)>,
}

/// The timestamps option (kind 8, length 10) among TCP options. Linux puts it after two
/// NOPs, so that layout is checked first; anything else is walked option by option.
fn timestamps(opts: &[u8]) -> Option<(u32, u32)> {
    let at = |i: usize| -> Option<(u32, u32)> {
        let o = opts.get(i..i + 10)?;
        (o[0] == 8 && o[1] == 10).then(|| {
            (
                u32::from_be_bytes([o[2], o[3], o[4], o[5]]),
                u32::from_be_bytes([o[6], o[7], o[8], o[9]]),
            )
        })
    };
    if opts.len() >= 12 && opts[0] == 1 && opts[1] == 1 {
        if let Some(t) = at(2) {
            return Some(t);
        }
    }
    let mut i = 0;
    while i < opts.len() {
        match opts[i] {
            0 => return None,
            1 => i += 1,
            8 => return at(i),
            _ => {
                let len = *opts.get(i + 1)? as usize;
                if len < 2 {
                    return None;
                }
                i += len;
            }
        }
    }
    None
}

#[derive(Debug)]
pub(crate) struct UdpDatagram<'a> {
    pub(crate) src: SocketAddr,
    pub(crate) dst: SocketAddr,
    pub(crate) payload: &'a [u8],
}

/// An ICMP or ICMPv6 "destination unreachable" about a packet sent from `src` to `dst`
/// (the endpoints of the packet it quotes).
#[derive(Debug)]
pub(crate) struct IcmpUnreachable {
    pub(crate) from: IpAddr,
    pub(crate) src: SocketAddr,
    pub(crate) dst: SocketAddr,
    pub(crate) reason: &'static str,
}

#[derive(Debug)]
pub(crate) enum Transport<'a> {
    Tcp(TcpSegment<'a>),
    Udp(UdpDatagram<'a>),
    Unreachable(IcmpUnreachable),
}

/// Why a frame was not decoded any further; counted, never fatal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Skip {
    /// Not IPv4/IPv6 (ARP, LLDP, ...), or not TCP/UDP (ICMP, ...).
    NotTcpUdp,
    /// A header is cut off or malformed.
    Malformed,
    /// A non-first IP fragment (the go command's TCP traffic is never fragmented).
    Fragment,
}

pub(crate) fn decode<'a>(pkt: &Packet<'a>) -> Result<Transport<'a>, Skip> {
    let sliced = match strip(pkt.link, pkt.data).ok_or(Skip::Malformed)? {
        L3::Ip(ip) => LaxSlicedPacket::from_ip(ip).map_err(|_| Skip::Malformed)?,
        L3::Ether(ty, rest) => LaxSlicedPacket::from_ether_type(EtherType(ty), rest),
    };
    let net = sliced.net.as_ref().ok_or(Skip::NotTcpUdp)?;
    let (src_ip, dst_ip, full_len, payload): (IpAddr, IpAddr, usize, _) = match net {
        LaxNetSlice::Ipv4(v4) => {
            let h = v4.header();
            let full = (h.total_len() as usize).saturating_sub(h.ihl() as usize * 4);
            (
                h.source_addr().into(),
                h.destination_addr().into(),
                full,
                v4.payload(),
            )
        }
        LaxNetSlice::Ipv6(v6) => {
            let h = v6.header();
            let p = v6.payload();
            // Extension headers sit between the fixed header and the payload.
            let ext = (p.payload.as_ptr() as usize).saturating_sub(h.slice().as_ptr() as usize);
            let full = (40 + h.payload_length() as usize).saturating_sub(ext);
            (h.source_addr().into(), h.destination_addr().into(), full, p)
        }
        LaxNetSlice::Arp(_) => return Err(Skip::NotTcpUdp),
    };
    if payload.fragmented {
        return Err(Skip::Fragment);
    }
    let data = payload.payload;
    match payload.ip_number {
        IpNumber::TCP => {
            let tcp = TcpHeaderSlice::from_slice(data).map_err(|_| Skip::Malformed)?;
            let hl = tcp.slice().len();
            let body = &data[hl..];
            // A zero IPv4 total length happens with TSO super-segments: trust what we have.
            let full_payload = if full_len == 0 {
                body.len()
            } else {
                full_len.saturating_sub(hl)
            };
            Ok(Transport::Tcp(TcpSegment {
                src: SocketAddr::new(src_ip, tcp.source_port()),
                dst: SocketAddr::new(dst_ip, tcp.destination_port()),
                seq: tcp.sequence_number(),
                ack: tcp.acknowledgment_number(),
                flags: TcpFlags {
                    syn: tcp.syn(),
                    ack: tcp.ack(),
                    fin: tcp.fin(),
                    rst: tcp.rst(),
                },
                missing: full_payload.saturating_sub(body.len()) as u32,
                payload: body,
                window: tcp.window_size(),
                timestamps: timestamps(tcp.options()),
            }))
        }
        IpNumber::UDP => {
            if data.len() < 8 {
                return Err(Skip::Malformed);
            }
            let port = |i: usize| u16::from_be_bytes([data[i], data[i + 1]]);
            let len = (port(4) as usize).clamp(8, data.len());
            Ok(Transport::Udp(UdpDatagram {
                src: SocketAddr::new(src_ip, port(0)),
                dst: SocketAddr::new(dst_ip, port(2)),
                payload: &data[8..len],
            }))
        }
        IpNumber::ICMP => icmp_unreachable(src_ip, data, false).map(Transport::Unreachable),
        IpNumber::IPV6_ICMP => icmp_unreachable(src_ip, data, true).map(Transport::Unreachable),
        _ => Err(Skip::NotTcpUdp),
    }
}

/// Reads an ICMP(v6) destination-unreachable message: its code, and the endpoints of the
/// TCP packet it quotes (the IP header and the first 8 bytes of the TCP header follow the
/// 8-byte ICMP header).
fn icmp_unreachable(from: IpAddr, icmp: &[u8], v6: bool) -> Result<IcmpUnreachable, Skip> {
    let (&ty, &code) = (
        icmp.first().ok_or(Skip::Malformed)?,
        icmp.get(1).ok_or(Skip::Malformed)?,
    );
    let reason = match (v6, ty, code) {
        (false, 3, 0) => "network unreachable",
        (false, 3, 1) => "host unreachable",
        (false, 3, 2) => "protocol unreachable",
        (false, 3, 3) => "port unreachable",
        (false, 3, 9 | 10 | 13) => "administratively prohibited",
        (false, 3, _) => "destination unreachable",
        (true, 1, 0) => "no route to destination",
        (true, 1, 1) => "administratively prohibited",
        (true, 1, 3) => "address unreachable",
        (true, 1, 4) => "port unreachable",
        (true, 1, 5 | 6) => "administratively prohibited",
        (true, 1, _) => "destination unreachable",
        _ => return Err(Skip::NotTcpUdp),
    };
    let quoted = icmp.get(8..).ok_or(Skip::Malformed)?;
    let sliced = LaxSlicedPacket::from_ip(quoted).map_err(|_| Skip::Malformed)?;
    let (src_ip, dst_ip): (IpAddr, IpAddr) = match sliced.net.as_ref().ok_or(Skip::Malformed)? {
        LaxNetSlice::Ipv4(v4) => (
            v4.header().source_addr().into(),
            v4.header().destination_addr().into(),
        ),
        LaxNetSlice::Ipv6(v6) => (
            v6.header().source_addr().into(),
            v6.header().destination_addr().into(),
        ),
        LaxNetSlice::Arp(_) => return Err(Skip::Malformed),
    };
    let payload = sliced.ip_payload().ok_or(Skip::Malformed)?;
    if payload.ip_number != IpNumber::TCP {
        return Err(Skip::NotTcpUdp);
    }
    let ports = payload.payload.get(..4).ok_or(Skip::Malformed)?;
    let port = |i: usize| u16::from_be_bytes([ports[i], ports[i + 1]]);
    Ok(IcmpUnreachable {
        from,
        src: SocketAddr::new(src_ip, port(0)),
        dst: SocketAddr::new(dst_ip, port(2)),
        reason,
    })
}
