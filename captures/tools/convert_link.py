#!/usr/bin/env python3
"""Rewrite an EN10MB (Ethernet) pcap into another link type, byte for byte as real systems write it.

usage: convert_link.py {null,loop,raw,ipv4,ipv6} IN.pcap OUT.pcap [--af-inet6 N]

  null  DLT_NULL (0): 4-byte address family in the *writer's host byte order*; written little-endian,
        as macOS (x86-64 and arm64) writes lo0: AF_INET = 2, AF_INET6 = 30 (macOS/Darwin value).
  loop  DLT_LOOP (108): the same 4-byte family in *network* byte order, as OpenBSD writes lo0:
        AF_INET = 2, AF_INET6 = 24 (OpenBSD value).
  raw   DLT_RAW (101, LINKTYPE_RAW): the bare IP packet, v4 or v6 (version nibble decides).
  ipv4  LINKTYPE_IPV4 (228): bare IPv4 packets only.
  ipv6  LINKTYPE_IPV6 (229): bare IPv6 packets only.

Each frame loses its 14-byte Ethernet header and any 802.1Q / 802.1ad tags. Frames that the target
link type cannot carry (ARP, or IPv6 in an `ipv4` file, ...) are dropped and counted on stderr.
The pcap header (byte order, microsecond or nanosecond magic, version, snaplen) and every record's
timestamp are kept as they are; incl_len and orig_len both shrink by the bytes removed.
Standard library only.
"""
import struct
import sys

MAGICS = {
    b"\xd4\xc3\xb2\xa1": ("<", "us"),
    b"\xa1\xb2\xc3\xd4": (">", "us"),
    b"\x4d\x3c\xb2\xa1": ("<", "ns"),
    b"\xa1\xb2\x3c\x4d": (">", "ns"),
}
DLT = {"null": 0, "loop": 108, "raw": 101, "ipv4": 228, "ipv6": 229}
DEFAULT_AF_INET6 = {"null": 30, "loop": 24}
ETH_P_IP, ETH_P_IPV6 = 0x0800, 0x86DD
VLAN_TPIDS = (0x8100, 0x88A8, 0x9100)


def strip_ethernet(frame: bytes):
    """Return (ethertype, offset of the network header) or None for a runt frame."""
    if len(frame) < 14:
        return None
    off = 12
    etype = struct.unpack_from("!H", frame, off)[0]
    while etype in VLAN_TPIDS:
        off += 4
        if len(frame) < off + 2:
            return None
        etype = struct.unpack_from("!H", frame, off)[0]
    return etype, off + 2


def convert(kind: str, src: str, dst: str, af_inet6: int) -> int:
    with open(src, "rb") as f:
        data = f.read()
    if len(data) < 24 or data[:4] not in MAGICS:
        sys.exit(f"{src}: not a classic pcap file (pcapng is not supported here)")
    bo, _prec = MAGICS[data[:4]]
    vmaj, vmin, zone, sigfigs, snaplen, network = struct.unpack_from(bo + "HHiIII", data, 4)
    if network & 0xFFFF != 1:
        sys.exit(f"{src}: link type {network}, expected 1 (EN10MB)")
    out = bytearray(data[:4])
    out += struct.pack(bo + "HHiIII", vmaj, vmin, zone, sigfigs, snaplen, DLT[kind])
    pos, kept, dropped = 24, 0, {}
    while pos + 16 <= len(data):
        ts_sec, ts_frac, incl, orig = struct.unpack_from(bo + "IIII", data, pos)
        frame = data[pos + 16 : pos + 16 + incl]
        pos += 16 + incl
        if len(frame) < incl:
            print(f"{src}: truncated last record dropped", file=sys.stderr)
            break
        parsed = strip_ethernet(frame)
        etype, off = parsed if parsed else (None, 0)
        ok = {
            "null": (ETH_P_IP, ETH_P_IPV6),
            "loop": (ETH_P_IP, ETH_P_IPV6),
            "raw": (ETH_P_IP, ETH_P_IPV6),
            "ipv4": (ETH_P_IP,),
            "ipv6": (ETH_P_IPV6,),
        }[kind]
        if etype not in ok:
            key = "runt" if etype is None else f"ethertype 0x{etype:04x}"
            dropped[key] = dropped.get(key, 0) + 1
            continue
        payload = frame[off:]
        if kind in ("null", "loop"):
            af = 2 if etype == ETH_P_IP else af_inet6
            hdr = struct.pack("<I" if kind == "null" else ">I", af)
        else:
            hdr = b""
        rec = hdr + payload
        removed = len(frame) - len(rec)
        out += struct.pack(bo + "IIII", ts_sec, ts_frac, len(rec), max(orig - removed, len(rec)))
        out += rec
        kept += 1
    with open(dst, "wb") as f:
        f.write(out)
    extra = ", ".join(f"{v} {k}" for k, v in sorted(dropped.items()))
    print(f"{dst}: {kept} packets as {kind} (DLT {DLT[kind]})" + (f"; dropped {extra}" if extra else ""),
          file=sys.stderr)
    return 0


def main(argv) -> int:
    args = list(argv[1:])
    af6 = None
    if "--af-inet6" in args:
        i = args.index("--af-inet6")
        af6 = int(args[i + 1])
        del args[i : i + 2]
    if len(args) != 3 or args[0] not in DLT:
        print(__doc__, file=sys.stderr)
        return 2
    kind = args[0]
    return convert(kind, args[1], args[2], af6 if af6 is not None else DEFAULT_AF_INET6.get(kind, 0))


if __name__ == "__main__":
    sys.exit(main(sys.argv))
