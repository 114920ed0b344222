#!/usr/bin/env python3
"""Writes the fuzz targets' seed corpora from the real recordings in captures/.

Usage: fuzz/seeds.py [OUT_DIR]   (default: fuzz/corpus; stdlib only)

Every seed is cut from a real capture (or, for zips, written by Python's zipfile the way the
go command's proxies serve them), in the input formats of src/fuzzing.rs:

* decode        first byte = link type index (src/fuzzing.rs LINKS), then [len u16 LE][dt i8][frame]
* capture_file  the first few KiB of each capture file (pcap, pcapng, every link type)
* http1, http2, tls  [ctrl u8][len u16 LE][bytes] chunks (ctrl bit 0 = server->client);
                http2 and tls have one leading byte (limits / mode)
* http2 (HPACK alone)  [2][op u8][len u16 LE][header block]...
* dns           one UDP payload of port 53
* sumdb         checksum database lookup bodies and go.sum files
* zip_hash      [piece size u8] + a module zip
* mitm_head     what a client sends a proxy (CONNECT, absolute-form requests), and responses

Each seed is capped in size so that the committed corpora stay small.
"""

import hashlib
import io
import os
import struct
import sys
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CAP = os.path.join(ROOT, "captures")
H2 = os.path.join(ROOT, "tests", "data", "h2")
OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "fuzz", "corpus")

LINKS = [1, 0, 108, 101, 228, 229, 113, 276]  # src/fuzzing.rs LINKS, by LINKTYPE code


def write(target, data, cap):
    data = data[:cap]
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    name = "seed-" + hashlib.sha1(data).hexdigest()[:16]
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def read_pcap(path):
    """(linktype, [(ts_us, frame)]) of a classic pcap."""
    b = open(path, "rb").read()
    magic = b[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        e = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        e = ">"
    else:
        return None, []
    nano = magic in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")
    link = struct.unpack(e + "I", b[20:24])[0]
    out, off = [], 24
    while off + 16 <= len(b):
        s, frac, incl, _orig = struct.unpack(e + "IIII", b[off:off + 16])
        off += 16
        us = s * 1_000_000 + (frac // 1000 if nano else frac)
        out.append((us, b[off:off + incl]))
        off += incl
    return link, out


def strip_link(link, f):
    """The IP packet inside a frame, or None."""
    if link == 1:
        if len(f) < 14:
            return None
        et, off = struct.unpack(">H", f[12:14])[0], 14
        while et in (0x8100, 0x88A8) and len(f) >= off + 4:
            et, off = struct.unpack(">H", f[off + 2:off + 4])[0], off + 4
        return f[off:]
    if link in (0, 108):
        return f[4:]
    if link in (101, 228, 229, 12, 14):
        return f
    if link == 113:
        return f[16:]
    if link == 276:
        return f[20:]
    return None


def transport(ip):
    """(proto, src, dst, sport, dport, seq, flags, payload) or None."""
    if not ip:
        return None
    v = ip[0] >> 4
    if v == 4:
        ihl = (ip[0] & 15) * 4
        proto, src, dst = ip[9], ip[12:16], ip[16:20]
        total = struct.unpack(">H", ip[2:4])[0]
        body = ip[ihl:total]
    elif v == 6:
        proto, src, dst = ip[6], ip[8:24], ip[24:40]
        plen = struct.unpack(">H", ip[4:6])[0]
        body = ip[40:40 + plen]
    else:
        return None
    if proto == 6 and len(body) >= 20:
        sp, dp, seq = struct.unpack(">HHI", body[:8])
        doff = (body[12] >> 4) * 4
        return ("tcp", src, dst, sp, dp, seq, body[13], body[doff:])
    if proto == 17 and len(body) >= 8:
        sp, dp = struct.unpack(">HH", body[:4])
        return ("udp", src, dst, sp, dp, 0, 0, body[8:])
    return None


SERVER_PORTS = {80, 443, 3000, 3001, 3002, 3128, 8080, 53}


def tcp_streams(link, pkts):
    """Per connection, its payload chunks in capture order: [(dir, bytes)], dir 0 = up."""
    conns, order = {}, []
    for _ts, f in pkts:
        t = transport(strip_link(link, f))
        if not t or t[0] != "tcp":
            continue
        _, src, dst, sp, dp, seq, flags, payload = t
        a, b = (src, sp), (dst, dp)
        key = (a, b) if (a, b) in conns else (b, a) if (b, a) in conns else None
        if key is None:
            syn_only = flags & 0x12 == 0x02
            client_first = syn_only or (dp in SERVER_PORTS and sp not in SERVER_PORTS)
            key = (a, b) if client_first else (b, a)
            conns[key] = {"chunks": [], "next": [None, None]}
            order.append(key)
        c = conns[key]
        d = 0 if (a, b) == key else 1
        if flags & 0x02:
            c["next"][d] = (seq + 1) & 0xFFFFFFFF
            continue
        if not payload:
            continue
        nxt = c["next"][d]
        if nxt is not None and seq != nxt and ((seq - nxt) & 0xFFFFFFFF) > 0x7FFFFFFF:
            continue  # a retransmission
        c["next"][d] = (seq + len(payload)) & 0xFFFFFFFF
        c["chunks"].append((d, payload))
    return [conns[k]["chunks"] for k in order if conns[k]["chunks"]]


def chunk_bytes(chunks, cap):
    out = bytearray()
    for d, p in chunks:
        p = p[:0xFFFF]
        out += bytes([d]) + struct.pack("<H", len(p)) + p
        if len(out) >= cap:
            break
    return bytes(out[:cap])


def captures(ext=".pcap"):
    return sorted(f for f in os.listdir(CAP) if f.endswith(ext))


def decode_seeds():
    # One capture of each scenario family (the go119/go127 and link-type variants repeat).
    for name in captures()[::2]:
        link, pkts = read_pcap(os.path.join(CAP, name))
        if link not in LINKS:
            continue
        out, last = bytearray([LINKS.index(link)]), None
        for ts, f in pkts:
            step = 0 if last is None else max(-128, min(127, (ts - last) // 8000))
            last = ts if last is None else last + step * 8000
            out += struct.pack("<Hb", len(f), step) + f
            if len(out) > 4000:
                break
        write("decode", bytes(out), 4000)
    # Hashing on (bit 3) for one capture with a zip download.
    link, pkts = read_pcap(os.path.join(CAP, "one-proxy-go127.pcap"))
    out = bytearray([LINKS.index(link) | 8])
    for _ts, f in pkts:
        out += struct.pack("<Hb", len(f), 1) + f
    write("decode", bytes(out), 16000)


def capture_file_seeds():
    seen = set()
    for name in captures(".pcap") + captures(".pcapng"):
        b = open(os.path.join(CAP, name), "rb").read()
        kind = (b[:4], b[20:24])
        if kind in seen and not name.endswith(".pcapng"):
            continue
        seen.add(kind)
        write("capture_file", b, 3000)


def conn_seeds():
    http1, tls, mitm, sums, dns = [], [], [], [], []
    for name in captures():
        link, pkts = read_pcap(os.path.join(CAP, name))
        for _ts, f in pkts:
            t = transport(strip_link(link, f))
            if t and t[0] == "udp" and 53 in (t[3], t[4]) and t[7]:
                dns.append(t[7])
        for chunks in tcp_streams(link, pkts):
            up = b"".join(p for d, p in chunks if d == 0)
            down = b"".join(p for d, p in chunks if d == 1)
            if up[:1] == b"\x16":
                tls.append(chunks)
            elif up[:8] == b"CONNECT " or up.startswith(b"GET http://"):
                mitm.append(up[:2000])
                mitm.append(down[:600])
            elif up[:4] in (b"GET ", b"HEAD"):
                http1.append(chunks)
            i = down.find(b"go.sum database tree")
            if i > 0:
                for part in down.split(b"HTTP/1.1 200")[1:]:
                    body = part.split(b"\r\n\r\n", 1)[-1]
                    if b"go.sum database tree" in body:
                        sums.append(body[:1500])
    for c in sorted(http1, key=len)[::-2][:12]:
        write("http1", chunk_bytes(c, 4000), 4000)
    for c in tls[:: max(1, len(tls) // 10)][:10]:
        write("tls", b"\x00" + chunk_bytes(c, 3000), 3000)
        hello = b"".join(p for d, p in c if d == 0)
        if hello[:1] == b"\x16" and len(hello) > 9 and hello[5] == 1:
            n = int.from_bytes(hello[6:9], "big")
            write("tls", b"\x01" + hello[9:9 + n], 2000)
        sh = b"".join(p for d, p in c if d == 1)
        if sh[:1] == b"\x16" and len(sh) > 9 and sh[5] == 2:
            n = int.from_bytes(sh[6:9], "big")
            write("tls", b"\x02" + sh[9:9 + n], 2000)
            # TLS 1.2: the Certificate message follows in the same flight.
            rest = sh[9 + n:]
            if rest[:1] == b"\x0b":
                m = int.from_bytes(rest[1:4], "big")
                write("tls", b"\x0b" + rest[4:4 + m], 3000)
    for m in sorted(set(mitm))[:12]:
        write("mitm_head", m, 2000)
    for d in sorted(set(dns))[:16]:
        write("dns", d, 512)
    for s in sorted(set(sums))[:6]:
        write("sumdb", s, 1500)
    for name in sorted(os.listdir(CAP)):
        if name.endswith(".go.sum"):
            write("sumdb", open(os.path.join(CAP, name), "rb").read(), 1500)
    # Heads the go command and proxies send that the captures lack.
    write("mitm_head", b"CONNECT [2001:db8::1]:443 HTTP/1.1\r\nHost: [2001:db8::1]:443\r\n\r\n", 500)
    write("mitm_head", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", 500)
    write("mitm_head", b"POST http://proxy.test:3000/x HTTP/1.1\r\nHost: proxy.test\r\n"
          b"Content-Length: 3\r\nProxy-Connection: keep-alive\r\n\r\nabc", 500)


def h2_streams():
    """The decrypted HTTP/2 conversations of tests/data/h2 as [(dir, bytes)]."""
    out = []
    for name in sorted(os.listdir(H2)):
        if not name.endswith(".h2"):
            continue
        chunks = []
        for line in open(os.path.join(H2, name)):
            parts = line.split()
            if len(parts) == 3 and parts[0] in ("U", "D"):
                chunks.append((0 if parts[0] == "U" else 1, bytes.fromhex(parts[2])))
        if chunks:
            out.append(chunks)
    return out


def h2_seeds():
    blocks = []
    for i, chunks in enumerate(h2_streams()):
        write("http2", bytes([i & 1]) + chunk_bytes(chunks, 6000), 6000)
        for d in (0, 1):
            data = b"".join(p for dd, p in chunks if dd == d)
            off = 24 if data.startswith(b"PRI * HTTP/2.0") else 0
            steps = bytearray([2])
            while off + 9 <= len(data) and len(steps) < 3000:
                n = int.from_bytes(data[off:off + 3], "big")
                kind, flags = data[off + 3], data[off + 4]
                p = data[off + 9:off + 9 + n]
                if kind == 1:  # HEADERS: strip padding and priority
                    pad = 0
                    if flags & 0x8:
                        pad, p = p[0], p[1:]
                    if flags & 0x20:
                        p = p[5:]
                    p = p[:len(p) - pad]
                    steps += b"\x00" + struct.pack("<H", len(p)) + p
                elif kind == 4 and not flags & 1:  # SETTINGS: table size, then ACK
                    for j in range(0, len(p) - 5, 6):
                        if p[j:j + 2] == b"\x00\x01":
                            steps += b"\x01\x04\x00" + p[j + 2:j + 6] + b"\x02\x00\x00"
                off += 9 + n
            blocks.append(bytes(steps))
    for b in sorted(set(blocks))[:8]:
        write("http2", b, 3000)


def zip_seeds():
    files = {
        "example.com/m@v1.0.0/go.mod": b"module example.com/m\n\ngo 1.21\n",
        "example.com/m@v1.0.0/m.go": b"package m\n\nfunc F() int { return 1 }\n" * 8,
        "example.com/m@v1.0.0/LICENSE": b"MIT\n",
    }
    # Seekable (sizes in the local headers) and streamed (data descriptors), deflated and stored.
    for method in (zipfile.ZIP_DEFLATED, zipfile.ZIP_STORED):
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", method) as z:
            for n, c in files.items():
                z.writestr(n, c)
        write("zip_hash", b"\x00" + buf.getvalue(), 4000)

    class Unseekable(io.RawIOBase):
        def __init__(self):
            self.b = bytearray()

        def writable(self):
            return True

        def write(self, data):
            self.b += data
            return len(data)

    s = Unseekable()
    with zipfile.ZipFile(s, "w", zipfile.ZIP_DEFLATED) as z:
        for n, c in files.items():
            with z.open(n, "w") as w:
                w.write(c)
    write("zip_hash", b"\x07" + bytes(s.b), 4000)
    # A zip64 one (force_zip64 puts Zip64 sizes in the extra field).
    s = Unseekable()
    with zipfile.ZipFile(s, "w", zipfile.ZIP_DEFLATED) as z:
        with z.open("example.com/m@v1.0.0/go.mod", "w", force_zip64=True) as w:
            w.write(files["example.com/m@v1.0.0/go.mod"])
    write("zip_hash", b"\x01" + bytes(s.b), 4000)


def main():
    decode_seeds()
    capture_file_seeds()
    conn_seeds()
    h2_seeds()
    zip_seeds()
    total = 0
    for t in sorted(os.listdir(OUT)):
        files = os.listdir(os.path.join(OUT, t))
        size = sum(os.path.getsize(os.path.join(OUT, t, f)) for f in files)
        total += size
        print(f"{t:14} {len(files):4} seeds {size:8} bytes")
    print(f"{'total':14} {total:19} bytes")


if __name__ == "__main__":
    main()
