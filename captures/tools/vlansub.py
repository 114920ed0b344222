#!/usr/bin/env python3
"""vlansub.py TAP PARENT VID -- a userspace 802.1Q sub-interface (PARENT.VID).

The recording machine's kernel has no 8021q module (CONFIG_VLAN_8021Q is off and modules cannot be
loaded), so `ip link add link PARENT name PARENT.100 type vlan id 100` fails with "Unknown device
type". This script does the same job in userspace: it creates the TAP device TAP (the sub-interface,
which gets the IP address), and relays frames between TAP and PARENT:

  TAP -> PARENT : insert an 802.1Q tag (TPID 0x8100, PCP 0, DEI 0, VID) after the MAC addresses and
                  send the tagged frame on PARENT through an AF_PACKET socket;
  PARENT -> TAP : take frames tagged with VID (the kernel moves a received tag into the packet's
                  metadata, which PACKET_AUXDATA reports), strip the tag, write the frame to TAP.

So PARENT carries real 802.1Q frames, and a capture on PARENT shows them tagged (libpcap re-inserts
the tag that the kernel moved into the metadata), exactly as with the kernel's VLAN driver.
Dependency-free; Linux only; runs until killed (the TAP device disappears with the process).
"""
import fcntl
import os
import select
import signal
import socket
import struct
import sys

TUNSETIFF = 0x400454CA
IFF_TAP = 0x0002
IFF_NO_PI = 0x1000
ETH_P_ALL = 0x0003
SOL_PACKET = 263
PACKET_AUXDATA = 8
PACKET_OUTGOING = 4
TP_STATUS_VLAN_VALID = 0x10


def main() -> int:
    if len(sys.argv) != 4:
        print(__doc__.strip().splitlines()[0], file=sys.stderr)
        return 2
    tap_name, parent, vid = sys.argv[1], sys.argv[2], int(sys.argv[3])
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    tap = os.open("/dev/net/tun", os.O_RDWR)
    fcntl.ioctl(tap, TUNSETIFF, struct.pack("16sH", tap_name.encode(), IFF_TAP | IFF_NO_PI))
    raw = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    raw.setsockopt(SOL_PACKET, PACKET_AUXDATA, 1)
    raw.bind((parent, ETH_P_ALL))
    tag = struct.pack("!HH", 0x8100, vid & 0x0FFF)
    print(f"vlansub: TAP {tap_name} <-> {parent} VID {vid} ready", flush=True)
    while True:
        ready, _, _ = select.select([tap, raw], [], [])
        if tap in ready:
            frame = os.read(tap, 65536)
            if len(frame) >= 14:
                raw.send(frame[:12] + tag + frame[12:])
        if raw in ready:
            frame, anc, _flags, addr = raw.recvmsg(65536, socket.CMSG_SPACE(20))
            if addr[2] == PACKET_OUTGOING or len(frame) < 14:
                continue
            tci = None
            for level, typ, data in anc:
                if level == SOL_PACKET and typ == PACKET_AUXDATA and len(data) >= 20:
                    status, _l, _s, _m, _n, vtci, _tpid = struct.unpack("IIIHHHH", data[:20])
                    if status & TP_STATUS_VLAN_VALID:
                        tci = vtci
            if tci is None and frame[12:14] == b"\x81\x00":
                tci = struct.unpack("!H", frame[14:16])[0]
                frame = frame[:12] + frame[16:]
            if tci is not None and (tci & 0x0FFF) == vid:
                os.write(tap, frame)


if __name__ == "__main__":
    sys.exit(main())
