#!/usr/bin/env python3
"""verify.py [NAME...] -- check each recorded capture against its xlog with tshark.

For every scenario (default: every NAME.json in captures/), this decodes the capture with tshark
(HTTP/1.1 on the proxy ports; for https, TLS + HTTP/2 decrypted with NAME.keylog) and compares the
exchanges on the wire with the go command's `# get URL` / `# get URL: STATUS (t)` lines:
  * every answered get in the xlog is one request/response on the wire with the same URL and status;
    Go >= 1.24 sends a 4xx on an https URL twice, so that pair is expected twice on the wire;
  * every get without a result line (interrupted) is a request without a response on the wire;
  * every get that failed with a transport error (connection refused ...) has no HTTP request.
It also prints what each capture shows beyond HTTP (link types, VLAN tags, DNS, TLS SNI/ALPN, RSTs).
Needs tshark (Debian: tshark). Exit status 1 if any capture disagrees with its xlog.
"""
import collections
import json
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GET_RE = re.compile(r"^# get (\S+?)(?:: (.*))?$")
STATUS_RE = re.compile(r"^(\d{3}) .*\(\d+\.\d+s\)$")


def tshark(args):
    out = subprocess.run(["tshark", "-n"] + args, capture_output=True, text=True, check=False)
    return out.stdout


def parse_xlog(path):
    starts, results, errors = [], [], []
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            m = GET_RE.match(line.rstrip("\n"))
            if not m:
                continue
            url, rest = m.group(1), m.group(2)
            if rest is None:
                starts.append(url)
                continue
            sm = STATUS_RE.match(rest)
            if sm:
                results.append((url, int(sm.group(1))))
            else:
                errors.append((url, rest))
    return starts, results, errors


def decode_as(doc, tls):
    args = []
    for p in doc.get("proxies", []):
        port = p["addr"].rsplit(":", 1)[1]
        args += ["-d", f"tcp.port=={port},{'tls' if tls else 'http'}"]
    return args


def as_list(x):
    if x is None:
        return []
    return x if isinstance(x, list) else [x]


def wire_http1(path, doc):
    da = decode_as(doc, False)
    reqs = {}
    for line in tshark(["-r", path] + da + ["-Y", "http.request", "-T", "fields", "-E", "separator=\t",
                                            "-e", "frame.number", "-e", "tcp.stream",
                                            "-e", "http.request.full_uri", "-e", "http.user_agent"]).splitlines():
        fr, stream, uri, ua = (line.split("\t") + ["", "", "", ""])[:4]
        reqs[fr] = {"stream": stream, "url": uri, "ua": ua, "status": None}
    for line in tshark(["-r", path] + da + ["-Y", "http.response", "-T", "fields", "-E", "separator=\t",
                                            "-e", "http.request_in", "-e", "http.response.code"]).splitlines():
        req_in, code = (line.split("\t") + ["", ""])[:2]
        if req_in in reqs:
            reqs[req_in]["status"] = int(code)
    return list(reqs.values())


def wire_http2(path, doc, keylog):
    da = decode_as(doc, True)
    out = tshark(["-r", path, "-o", f"tls.keylog_file:{keylog}"] + da +
                 ["-Y", "http2", "-T", "json", "--no-duplicate-keys"])
    reqs = {}
    for pkt in json.loads(out or "[]"):
        layers = pkt["_source"]["layers"]
        stream = as_list(layers.get("tcp", {})).pop(0).get("tcp.stream") if layers.get("tcp") else ""
        for h2 in as_list(layers.get("http2")):
            for s in as_list(h2.get("http2.stream")):
                if s.get("http2.type") != "1":
                    continue
                key = (stream, s.get("http2.streamid"))
                hdrs = {x.get("http2.header.name"): x.get("http2.header.value")
                        for x in as_list(s.get("http2.header"))}
                if "http2.request.full_uri" in s:
                    reqs[key] = {"stream": stream, "url": s["http2.request.full_uri"],
                                 "ua": hdrs.get("user-agent", ""), "status": None}
                elif ":status" in hdrs and key in reqs:
                    reqs[key]["status"] = int(hdrs[":status"])
    return list(reqs.values())


def verify(name, capdir):
    doc = json.load(open(os.path.join(capdir, name + ".json")))
    starts, results, errors = parse_xlog(os.path.join(capdir, name + ".xlog"))
    go127 = doc.get("go_version", "").startswith("go1.2") and doc["go_version"] >= "go1.24"
    expected = collections.Counter()
    for url, code in results:
        twice = go127 and url.startswith("https://") and 400 <= code < 500
        expected[(url, code)] += 2 if twice else 1
    answered = collections.Counter(u for u, _ in results) + collections.Counter(u for u, _ in errors)
    for url in starts:
        if answered[url]:
            answered[url] -= 1
        else:
            expected[(url, None)] += 1
    ok = True
    lines = []
    for cap in doc["captures"]:
        path = os.path.join(capdir, cap["file"])
        https = any(p["url"].startswith("https://") for p in doc.get("proxies", []))
        keylog = os.path.join(capdir, name + ".keylog")
        if https and os.path.exists(keylog):
            wire = wire_http2(path, doc, keylog)
        else:
            wire = wire_http1(path, doc)
        got = collections.Counter((w["url"], w["status"]) for w in wire)
        same = got == expected
        ok &= same
        by_status = collections.Counter(w["status"] for w in wire)
        hosts = collections.Counter(w["url"].split("/")[2] for w in wire)
        lines.append(f"  {cap['file']}: {cap.get('linktype') or doc['linktype']} {cap.get('packets')} pkts; "
                     f"wire {len(wire)} HTTP requests {dict(sorted(by_status.items(), key=str))} by host {dict(hosts)}; "
                     f"xlog {len(results)} answered, {sum(1 for u, _ in errors)} transport errors, "
                     f"{sum(v for (u, c), v in expected.items() if c is None)} unanswered -> "
                     + ("MATCH" if same else "MISMATCH"))
        if not same:
            for k in sorted(set(got) | set(expected), key=str):
                if got[k] != expected[k]:
                    lines.append(f"     {k}: wire {got[k]} xlog-expected {expected[k]}")
        uas = collections.Counter(w["ua"] for w in wire)
        if len(uas) > 1:
            lines.append(f"     user agents: {dict(uas)}")
        lines += extra_checks(path, doc, cap)
    for url, err in errors[:3]:
        lines.append(f"     xlog transport error: {url}: {err}")
    if len(errors) > 3:
        lines.append(f"     ... {len(errors) - 3} more transport errors")
    print(f"{name}: exit {doc.get('exit_status')}, {'OK' if ok else 'FAIL'}")
    print("\n".join(lines))
    return ok


def extra_checks(path, doc, cap):
    out = []
    name = doc["name"]
    fields = lambda flt, *f: [l.split("\t") for l in tshark(["-r", path, "-Y", flt, "-T", "fields", "-E", "separator=\t"]
                                                             + sum((["-e", x] for x in f), [])).splitlines()]
    if cap.get("format") == "pcapng" or "multi" in name:
        encs = collections.Counter(tuple(r) for r in fields("frame", "frame.interface_id", "frame.interface_name", "frame.encap_type"))
        out.append(f"     interfaces (id, name, encap): {dict(encs)}")
    if "vlan" in name:
        tagged = len(fields("vlan.id == 100", "frame.number"))
        total = len(fields("frame", "frame.number"))
        maxlen = max(int(r[0]) for r in fields("frame", "frame.len"))
        out.append(f"     802.1Q VID 100 on {tagged}/{total} frames; largest frame {maxlen} bytes")
    if "veth" in name or "multi" in name:
        maxlen = max(int(r[0]) for r in fields("frame", "frame.len"))
        arp = len(fields("arp", "frame.number"))
        out.append(f"     largest frame {maxlen} bytes; {arp} ARP frames")
    if "veth" in name:
        dns = collections.Counter(tuple(r) for r in fields("dns", "dns.flags.response", "dns.qry.name", "dns.qry.type", "dns.a"))
        out.append(f"     DNS (response?, name, qtype, A): {dict(dns)}")
    if any(p["url"].startswith("https://") for p in doc.get("proxies", [])):
        hello = collections.Counter(tuple(r) for r in fields("tls.handshake.type == 1", "tcp.dstport", "tls.handshake.extensions_server_name", "tls.handshake.extensions_alpn_str"))
        sh = collections.Counter(tuple(r) for r in fields("tls.handshake.type == 2", "tcp.srcport", "tls.handshake.extensions_alpn_str", "tls.handshake.extensions.supported_version"))
        out.append(f"     ClientHello (port, SNI, ALPN): {dict(hello)}; ServerHello (port, ALPN?, version): {dict(sh)}")
    if "refused" in name:
        syn = len(fields("tcp.flags.syn == 1 && tcp.flags.ack == 0 && tcp.dstport == 3009", "frame.number"))
        rst = len(fields("tcp.flags.reset == 1 && tcp.srcport == 3009", "frame.number"))
        out.append(f"     SYN to 3009: {syn}; RST from 3009: {rst}")
    if "hang" in name:
        fin = len(fields("tcp.flags.fin == 1 && tcp.dstport == 3000", "frame.number"))
        out.append(f"     FIN from the client (after SIGINT): {fin}")
    return out


def main():
    capdir = os.environ.get("GMW_OUT", HERE)
    names = sys.argv[1:] or sorted(f[:-5] for f in os.listdir(capdir) if f.endswith(".json"))
    ok = True
    for n in names:
        ok &= verify(n, capdir)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
