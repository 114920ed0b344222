#!/usr/bin/env python3
"""verify.py [NAME...] -- check each recorded capture against its xlog with tshark.

For every scenario (default: every NAME.json in captures/ and captures/direct/), this decodes the capture with tshark
(HTTP/1.1 on the proxy ports; for https, TLS + HTTP/2 decrypted with NAME.keylog) and compares the
exchanges on the wire with the go command's `# get URL` / `# get URL: STATUS (t)` lines:
  * every answered get in the xlog is one request/response on the wire with the same URL and status;
    Go >= 1.24 sends a 4xx on an https URL twice, so that pair is expected twice on the wire;
  * every get without a result line (interrupted) is a request without a response on the wire;
  * every get that failed with a transport error (connection refused ...) has no HTTP request.
It also prints what each capture shows beyond HTTP (link types, VLAN tags, DNS, TLS SNI/ALPN, RSTs).

Through an HTTP proxy (HTTPS_PROXY, squid scenarios) the CONNECT requests are not GOPROXY requests:
they are checked against NAME.squid.log instead (same number, same statuses, same target), and the
tunnelled HTTP/2 (decrypted with NAME.keylog) is compared with the xlog once per leg: NAME.pcap
holds both legs (client <-> squid and squid <-> goproxyd, see "legs" in NAME.json), each of which
must carry exactly the xlog's requests; NAME-client.pcap holds only the client's leg.
Failure scenarios without any HTTP exchange (DNS, firewall, untrusted TLS) match when the wire has
no GOPROXY request at all; their DNS answers, ICMP errors, SYN retransmissions and TLS alerts are
checked against NAME.json (dns_servers, iptables, tls).
Direct-mode scenarios (NAME.json "vcs": go-get lookups and git smart HTTP to tools/vcsd) are
checked by verify_vcs: the go command's own requests against the xlog, git's requests (User-Agent
git/...) against NAME.server.jsonl, one TCP connection per network git command of the xlog, and, over
plain http, the pkt-line commands and wanted objects of git's POSTs. Over https this needs
NAME.keylog (it decrypts the go command's and git's TLS alike); without it that part is skipped.
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
    # an HTTP proxy (HTTPS_PROXY=http://[user:pass@]host:port): CONNECT, then the tunnelled TLS
    hp = proxy_port(doc)
    if hp:
        args += ["-d", f"tcp.port=={hp},http"]
    return args


def proxy_port(doc):
    url = doc.get("env", {}).get("HTTPS_PROXY", "")
    m = re.match(r"^http://(?:[^@/]*@)?[^:/]+:(\d+)", url)
    return m.group(1) if m else None


def as_list(x):
    if x is None:
        return []
    return x if isinstance(x, list) else [x]


def wire_http1(path, doc, leg=None):
    da = decode_as(doc, False)
    reqs = {}
    flt = "http.request && http.request.method != \"CONNECT\"" + (f" && ip.addr == {leg}" if leg else "")
    for line in tshark(["-r", path] + da + ["-Y", flt, "-T", "fields", "-E", "separator=\t",
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


def wire_http2(path, doc, keylog, leg=None):
    da = decode_as(doc, True)
    out = tshark(["-r", path, "-o", f"tls.keylog_file:{keylog}"] + da +
                 ["-Y", "http2" + (f" && ip.addr == {leg}" if leg else ""), "-T", "json", "--no-duplicate-keys"])
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
    if doc.get("vcs"):
        return verify_vcs(name, capdir, doc)
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
        legs = legs_of(doc, cap["file"])
        for leg_name, net in legs:
            if https and os.path.exists(keylog):
                wire = wire_http2(path, doc, keylog, net)
            else:
                wire = wire_http1(path, doc, net)
            got = collections.Counter((w["url"], w["status"]) for w in wire)
            same = got == expected
            ok &= same
            by_status = collections.Counter(w["status"] for w in wire)
            hosts = collections.Counter(w["url"].split("/")[2] for w in wire)
            lines.append(f"  {cap['file']}{' [' + leg_name + ']' if leg_name else ''}: "
                         f"{','.join(l['linktype'] for l in cap.get('linktypes', [])) or doc['linktype']} {cap.get('packets')} pkts; "
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
        more, good = extra_checks(path, doc, cap, capdir)
        lines += more
        ok &= good
    for url, err in errors[:3]:
        lines.append(f"     xlog transport error: {url}: {err}")
    if len(errors) > 3:
        lines.append(f"     ... {len(errors) - 3} more transport errors")
    print(f"{name}: exit {doc.get('exit_status')}, {'OK' if ok else 'FAIL'}")
    print("\n".join(lines))
    return ok


GIT_NET_RE = re.compile(r"^\d+\.\d+s # cd \S+; git (?:-c \S+ )*(ls-remote|fetch)\b")


def wire_any(path, doc, keylog):
    """Every HTTP request on the wire, HTTP/1.1 in the clear and (with a keylog) HTTP/2 inside TLS:
    [{stream, method, url, ua, status, auth}]."""
    da = []
    for p in doc.get("proxies", []):
        port = p["addr"].rsplit(":", 1)[1]
        da += ["-d", f"tcp.port=={port},{'tls' if p['url'].startswith('https://') else 'http'}"]
    reqs = {}
    for line in tshark(["-r", path] + da + ["-Y", "http.request", "-T", "fields", "-E", "separator=\t",
                                            "-e", "frame.number", "-e", "tcp.stream", "-e", "http.request.method",
                                            "-e", "http.request.full_uri", "-e", "http.user_agent",
                                            "-e", "http.authorization"]).splitlines():
        fr, stream, method, uri, ua, auth = (line.split("\t") + [""] * 6)[:6]
        reqs[("h1", fr)] = {"stream": stream, "method": method, "url": uri, "ua": ua, "status": None, "auth": bool(auth)}
    for line in tshark(["-r", path] + da + ["-Y", "http.response", "-T", "fields", "-E", "separator=\t",
                                            "-e", "http.request_in", "-e", "http.response.code"]).splitlines():
        req_in, code = (line.split("\t") + ["", ""])[:2]
        if ("h1", req_in) in reqs:
            reqs[("h1", req_in)]["status"] = int(code)
    if keylog:
        out = tshark(["-r", path, "-o", f"tls.keylog_file:{keylog}"] + da +
                     ["-Y", "http2", "-T", "json", "--no-duplicate-keys"])
        for pkt in json.loads(out or "[]"):
            layers = pkt["_source"]["layers"]
            stream = as_list(layers.get("tcp", {})).pop(0).get("tcp.stream") if layers.get("tcp") else ""
            for h2 in as_list(layers.get("http2")):
                for s in as_list(h2.get("http2.stream")):
                    if s.get("http2.type") != "1":
                        continue
                    key = ("h2", stream, s.get("http2.streamid"))
                    hdrs = {x.get("http2.header.name"): x.get("http2.header.value")
                            for x in as_list(s.get("http2.header"))}
                    if ":method" in hdrs:
                        url = f"{hdrs.get(':scheme')}://{hdrs.get(':authority')}{hdrs.get(':path')}"
                        reqs[key] = {"stream": stream, "method": hdrs[":method"], "url": url,
                                     "ua": hdrs.get("user-agent", ""), "status": None,
                                     "auth": "authorization" in hdrs}
                    elif ":status" in hdrs and key in reqs:
                        reqs[key]["status"] = int(hdrs[":status"])
    return list(reqs.values())


def verify_vcs(name, capdir, doc):
    """Direct-mode scenarios (go-get + git smart HTTP, NAME.json "vcs"): the go command's own
    requests (go-get lookups, GOPROXY, sumdb) against the xlog as usual; git's requests (User-Agent
    git/...) against the server log (method, URL, status), and one TCP connection per network git
    command of the xlog (ls-remote, fetch). https needs NAME.keylog; without it only the plain-http
    part is compared and the rest is reported as skipped."""
    starts, results, errors = parse_xlog(os.path.join(capdir, name + ".xlog"))
    go124 = doc.get("go_version", "") >= "go1.24" and doc.get("go_version", "").startswith("go1.2")
    expected = collections.Counter()
    for url, code in results:
        expected[(url, code)] += 2 if go124 and url.startswith("https://") and 400 <= code < 500 else 1
    keylog = os.path.join(capdir, name + ".keylog")
    keylog = keylog if os.path.exists(keylog) else None
    https = any(p["url"].startswith("https://") for p in doc.get("proxies", []))
    git_cmds = []
    for line in open(os.path.join(capdir, name + ".xlog"), encoding="utf-8", errors="replace"):
        m = GIT_NET_RE.match(line)
        if m:
            git_cmds.append(m.group(1))
    server = [json.loads(l) for l in open(os.path.join(capdir, name + ".server.jsonl")) if l.strip()]
    ok, lines = True, []
    check = lambda cond, msg: lines.append(f"     {'ok' if cond else 'FAILED'}: {msg}") or cond
    for cap in doc["captures"]:
        path = os.path.join(capdir, cap["file"])
        wire = wire_any(path, doc, keylog)
        gow = [w for w in wire if not w["ua"].startswith("git/")]
        gitw = [w for w in wire if w["ua"].startswith("git/")]
        lines.append(f"  {cap['file']}: {cap.get('packets')} pkts; wire {len(gow)} go-command requests, {len(gitw)} git requests"
                     + ("" if keylog or not https else " (https without keylog: only the plain-http part)"))
        if https and not keylog:
            lines.append("     skipped: go-get and git over https are opaque TLS without NAME.keylog")
        else:
            got = collections.Counter((w["url"], w["status"]) for w in gow)
            ok &= check(got == expected, f"the go command's requests on the wire = the xlog's # get lines ({sum(expected.values())})")
            for k in sorted(set(got) | set(expected), key=str):
                if got[k] != expected[k]:
                    lines.append(f"       {k}: wire {got[k]} xlog-expected {expected[k]}")
            sgit = collections.Counter((r["method"], r["uri"], r["status"]) for r in server if r.get("ua", "").startswith("git/"))
            wgit = collections.Counter((w["method"], "/" + w["url"].split("/", 3)[3], w["status"]) for w in gitw)
            ok &= check(sgit == wgit, f"git's requests on the wire = the server log's ({sum(sgit.values())}): "
                        + ", ".join(f"{m} {u} {st} x{n}" for (m, u, st), n in sorted(sgit.items(), key=str)))
            conns = len({w["stream"] for w in gitw})
            ok &= check(conns == len(git_cmds), f"{conns} git TCP connections = {len(git_cmds)} network git commands in the xlog {git_cmds}")
            creds = collections.Counter((w["ua"].split(" ")[0], w["auth"]) for w in wire)
            lines.append(f"     (user agent, Authorization sent?): {dict(creds)}")
        # git over plain http: the pkt-line commands and wanted objects are readable
        posts = [l.split("\t") for l in tshark(["-r", path, "-Y", "http.request.method == \"POST\"", "-T", "fields",
                                                "-E", "separator=\t", "-e", "tcp.stream", "-e", "http.file_data"]).splitlines()]
        if posts:
            cmds = [re.findall(r"command=(ls-refs|fetch|object-info|bundle-uri)", (p + [""])[1]) for p in posts]
            wants = sorted({w for p in posts for w in re.findall(r"want ([0-9a-f]{40})", (p + [""])[1])})
            known = {r[k]: f"{r['repo']} {r['tag']} ({k})" for r in doc["vcs"]["repos"] for k in ("tag_object", "commit")}
            lines.append(f"     git POST bodies in the clear: commands {cmds}; want {[known.get(w, w) for w in wants]}")
            ok &= check(all(w in known for w in wants), "every wanted object is a tag or commit of the fixture repositories")
        refused = [u for u, e in errors if "connection refused" in e]
        if refused:
            syn = len([l for l in tshark(["-r", path, "-Y", "tcp.flags.syn == 1 && tcp.flags.ack == 0 && tcp.dstport == 443",
                                          "-T", "fields", "-e", "frame.number"]).splitlines()])
            rst = len([l for l in tshark(["-r", path, "-Y", "tcp.flags.reset == 1 && tcp.srcport == 443",
                                          "-T", "fields", "-e", "frame.number"]).splitlines()])
            ok &= check(syn == rst == len(refused), f"{len(refused)} https go-get lookups refused: {syn} SYNs to 443, {rst} RSTs")
        more, good = extra_checks(path, doc, cap, capdir)
        lines += more
        ok &= good
    for url, err in errors[:3]:
        lines.append(f"     xlog transport error: {url}: {err}")
    if doc.get("key_error"):
        lines.append(f"     key error: {doc['key_error']}")
    print(f"{name}: exit {doc.get('exit_status')}, {'OK' if ok else 'FAIL'}")
    print("\n".join(lines))
    return ok


def legs_of(doc, fname):
    """[(leg name, subnet)] of a capture file per NAME.json "legs"; [(None, None)] = the whole file."""
    for entry in doc.get("legs", []):
        if entry.get("file") == fname:
            legs = [(l["leg"]["leg"], l["leg"]["net"]) for l in entry.get("legs", [])]
            if len(legs) > 1:
                return legs
    return [(None, None)]


def read_squid_log(path):
    """[(status, method, target, user)] from a squid native-format access.log."""
    rows = []
    if os.path.exists(path):
        for line in open(path, encoding="utf-8"):
            f = line.split()
            if len(f) >= 8:
                rows.append((int(f[3].split("/")[1]), f[5], f[6], f[7]))
    return rows


def extra_checks(path, doc, cap, capdir):
    """Returns (lines, ok): what the capture shows beyond the GOPROXY requests, and whether the
    checks that can fail (CONNECTs vs squid log, DNS/ICMP/TLS expectations) passed."""
    out, ok = [], True
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
    if name.startswith("refused"):
        syn = len(fields("tcp.flags.syn == 1 && tcp.flags.ack == 0 && tcp.dstport == 3009", "frame.number"))
        rst = len(fields("tcp.flags.reset == 1 && tcp.srcport == 3009", "frame.number"))
        out.append(f"     SYN to 3009: {syn}; RST from 3009: {rst}")
    if "hang" in name:
        fin = len(fields("tcp.flags.fin == 1 && tcp.dstport == 3000", "frame.number"))
        out.append(f"     FIN from the client (after SIGINT): {fin}")
        if "pipe" in name:
            b = len(fields("tcp.port == 3001", "frame.number"))
            out.append(f"     packets to/from B (3001): {b} (expected 0: the go command never falls through)")
            ok &= b == 0
    check = lambda cond, msg: out.append(f"     {'ok' if cond else 'FAILED'}: {msg}") or cond
    # ---- HTTP proxy: CONNECTs (client leg) against the squid access.log
    pp = proxy_port(doc)
    if pp:
        da = ["-d", f"tcp.port=={pp},http"]
        conn = [l.split("\t") for l in tshark(["-r", path] + da + ["-Y", f"http.request.method == \"CONNECT\" && tcp.dstport == {pp}",
                "-T", "fields", "-E", "separator=\t", "-e", "frame.number", "-e", "http.request.uri", "-e", "http.user_agent",
                "-e", "http.proxy_authorization"]).splitlines()]
        resp = [l.split("\t") for l in tshark(["-r", path] + da + ["-Y", f"http.response && tcp.srcport == {pp}",
                "-T", "fields", "-E", "separator=\t", "-e", "http.request_in", "-e", "http.response.code",
                "-e", "http.proxy_authenticate"]).splitlines()]
        rs = {r[0]: r for r in resp}
        summary = collections.Counter((c[1], c[2], "Proxy-Authorization" if len(c) > 3 and c[3] else "-",
                                       rs.get(c[0], [None, None])[1], (rs.get(c[0], ["", "", ""]) + [""])[2] or "-")
                                      for c in conn)
        out.append(f"     CONNECT (target, UA, credentials?, status, Proxy-Authenticate): {dict(summary)}")
        squid = os.path.join(capdir, name + ".squid.log")
        if os.path.exists(squid):
            slog = read_squid_log(squid)
            out.append(f"     squid log (status, method, target, user): {dict(collections.Counter(slog))}")
            ok &= check(sorted((int(rs[c[0]][1]) if c[0] in rs else None, c[1]) for c in conn) ==
                        sorted((st, tgt) for st, _m, tgt, _u in slog),
                        f"{len(conn)} CONNECTs on the wire = {len(slog)} squid log lines (same targets and statuses)")
        elif conn:
            ok &= check(all(c[0] in rs for c in conn), "every CONNECT answered")
        syn = len(fields(f"tcp.flags.syn == 1 && tcp.flags.ack == 0 && tcp.dstport == {pp}", "frame.number"))
        rst = len(fields(f"tcp.flags.reset == 1 && tcp.srcport == {pp}", "frame.number"))
        if not conn:
            out.append(f"     SYN to the proxy port {pp}: {syn}; RST from it: {rst}")
            if "closed" in name:
                ok &= check(syn > 0 and syn == rst, "every SYN to the closed proxy port answered by RST")
    # ---- DNS answers (client's resolver), ICMP, firewall
    if doc.get("dns_servers") and "veth" not in name:
        dns = collections.Counter(tuple(r) for r in fields("dns", "ip.src", "dns.flags.response", "dns.qry.name", "dns.qry.type", "dns.flags.rcode", "dns.a"))
        out.append(f"     DNS (src, response?, name, qtype, rcode, A): {dict(dns)}")
        want = {"nxdomain": "3", "servfail": "2", "refused": "5"}
        for k, rc in want.items():
            if f"dns-{k}" in name:
                rcodes = {r[4] for r in dns if r[1] == "1"}
                ok &= check(rcodes == {rc}, f"every DNS answer has rcode {rc} ({k})")
    icmp = fields("icmp", "icmp.type", "icmp.code")
    if icmp or doc.get("iptables"):
        out.append(f"     ICMP (type, code): {dict(collections.Counter(tuple(r) for r in icmp))}")
    if doc.get("iptables"):
        port = "3000"
        # !icmp: an ICMP error quotes the SYN's TCP header, which tshark would match too
        syns = fields(f"!icmp && tcp.flags.syn == 1 && tcp.flags.ack == 0 && tcp.dstport == {port}", "tcp.stream", "frame.time_relative")
        per = collections.Counter(r[0] for r in syns)
        synack = len(fields(f"tcp.flags.syn == 1 && tcp.flags.ack == 1 && tcp.srcport == {port}", "frame.number"))
        span = max(float(r[1]) for r in syns) - min(float(r[1]) for r in syns) if syns else 0
        out.append(f"     SYNs to {port}: {len(syns)} on {len(per)} connections {sorted(per.values())}, SYN-ACKs {synack}, "
                   f"first to last SYN {span:.1f} s; rule: {doc['iptables'].get('rules', [])[-1:]}")
        ok &= check(synack == 0, "no SYN-ACK gets through the firewall")
        if "reject" in name:
            ok &= check(icmp.count(["3", "3"]) == len(syns) > 0, "every SYN answered by ICMP port unreachable")
        if "drop" in name:
            ok &= check(not icmp and min(per.values()) > 1, "no answer at all; every SYN retransmitted")
    # ---- TLS: certificate issuer in the clear, alerts (encrypted in TLS 1.3)
    tls = doc.get("tls")
    if tls and "untrusted" in name:
        da = ["-d", "tcp.port==3001,tls"]
        keylog = os.path.join(capdir, name + ".keylog")
        def tls_fields(extra, *f):
            return [l.split("\t") for l in tshark(["-r", path] + extra + da + ["-Y", "tls.alert_message || tls.handshake.certificate",
                    "-T", "fields", "-E", "separator=\t"] + sum((["-e", x] for x in f), [])).splitlines()]
        clear = tls_fields([], "tls.alert_message.desc", "x509sat.uTF8String")
        alerts = [r[0] for r in clear if r[0]]
        names = sorted({n for r in clear if len(r) > 1 for n in r[1].split(",") if n})
        out.append(f"     in the clear: alerts {alerts}, certificate names {names}")
        issuer = tls["server_cert_issuer"].split("CN=", 1)[1]
        if tls["server_max_version"].startswith("1.2"):
            ok &= check(issuer in names and alerts and set(alerts) == {"42"},
                        f"TLS 1.2: certificate from '{issuer}' and alert bad_certificate (42) visible without keys")
        else:
            ok &= check(not alerts and not names, "TLS 1.3: certificate and alert not visible without keys")
            if os.path.exists(keylog):
                dec = tls_fields(["-o", f"tls.keylog_file:{keylog}"], "tls.alert_message.desc", "x509sat.uTF8String")
                dalerts = [r[0] for r in dec if r[0]]
                dnames = sorted({n for r in dec if len(r) > 1 for n in r[1].split(",") if n})
                out.append(f"     decrypted with {name}.keylog: alerts {dalerts}, certificate names {dnames}")
                ok &= check(issuer in dnames and dalerts and set(dalerts) == {"42"},
                            f"TLS 1.3 with the keylog: certificate from '{issuer}', alert bad_certificate (42)")
    return out, ok


def main():
    capdir = os.environ.get("GMW_OUT", HERE)
    # the direct-mode fixtures (go-get + git) are in direct/, the others at the top level
    where = {}
    for d in (capdir, os.path.join(capdir, "direct")):
        if os.path.isdir(d):
            for f in sorted(os.listdir(d)):
                if f.endswith(".json"):
                    where.setdefault(f[:-5], d)
    names = sys.argv[1:] or sorted(where)
    ok = True
    for n in names:
        if n not in where:
            print(f"{n}: no {n}.json in {capdir} or {capdir}/direct")
            ok = False
            continue
        ok &= verify(n, where[n])
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
