#!/usr/bin/env python3
"""recmeta.py SCENDIR OUTDIR -- write NAME.json and NAME.server.jsonl for one recorded scenario.

Called by record.sh. SCENDIR holds what the script noted while recording:
  meta.tsv      key<TAB>value (name, description, go_bin, go_version_line, command, exit_status, ...)
  goenv.tsv     VAR<TAB>value for every variable given to the go command (env -i, so nothing else)
  proxies.tsv   url<TAB>addr<TAB>netns<TAB>role<TAB>log file<TAB>goproxyd flags
  captures.tsv  file<TAB>tool<TAB>netns<TAB>interfaces (space separated)<TAB>filter<TAB>tool command line
  metaj.tsv     key<TAB>JSON text: structured fields (squid, tls, iptables, legs, ...); a key ending
                in [] (dns_servers[]) collects its values into a list under the key without []
The link types are read back from the written capture files, not assumed. Standard library only.
"""
import json
import os
import struct
import sys

LINKTYPES = {0: "NULL", 1: "EN10MB", 101: "RAW", 108: "LOOP", 113: "LINUX_SLL", 228: "IPV4",
             229: "IPV6", 276: "LINUX_SLL2"}


def read_tsv(path):
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as f:
        return [line.rstrip("\n").split("\t") for line in f if line.strip()]


def pcap_info(path):
    """Format, per-interface link types, packet count, timestamp precision of a pcap/pcapng file."""
    with open(path, "rb") as f:
        data = f.read()
    magic = data[:4]
    pcap_magics = {b"\xd4\xc3\xb2\xa1": ("<", "us"), b"\xa1\xb2\xc3\xd4": (">", "us"),
                   b"\x4d\x3c\xb2\xa1": ("<", "ns"), b"\xa1\xb2\x3c\x4d": (">", "ns")}
    if magic in pcap_magics:
        bo, prec = pcap_magics[magic]
        snaplen, network = struct.unpack_from(bo + "II", data, 16)
        n, pos = 0, 24
        while pos + 16 <= len(data):
            incl = struct.unpack_from(bo + "I", data, pos + 8)[0]
            pos += 16 + incl
            n += 1
        lt = network & 0xFFFF
        return {"format": "pcap", "ts_precision": prec, "snaplen": snaplen, "packets": n,
                "linktypes": [{"dlt": lt, "linktype": LINKTYPES.get(lt, str(lt))}]}
    if magic == b"\x0a\x0d\x0d\x0a":
        bo = "<" if data[8:12] == b"\x4d\x3c\x2b\x1a" else ">"
        pos, n, idbs = 0, 0, []
        while pos + 12 <= len(data):
            btype, blen = struct.unpack_from(bo + "II", data, pos)
            if btype == 1:
                lt, _res, snap = struct.unpack_from(bo + "HHI", data, pos + 8)
                idb = {"dlt": lt, "linktype": LINKTYPES.get(lt, str(lt)), "snaplen": snap}
                # options: if_name (2), if_tsresol (9)
                opos = pos + 16
                while opos + 4 <= pos + blen - 4:
                    code, olen = struct.unpack_from(bo + "HH", data, opos)
                    if code == 0:
                        break
                    val = data[opos + 4: opos + 4 + olen]
                    if code == 2:
                        idb["name"] = val.decode("utf-8", "replace").rstrip("\0")
                    if code == 3:
                        idb["description"] = val.decode("utf-8", "replace").rstrip("\0")
                    if code == 11:
                        idb["filter"] = val[1:].decode("utf-8", "replace").rstrip("\0")
                    if code == 9:
                        idb["tsresol"] = val[0]
                    opos += 4 + ((olen + 3) & ~3)
                idbs.append(idb)
            elif btype in (3, 6):
                n += 1
            if blen < 12:
                break
            pos += blen
        return {"format": "pcapng", "packets": n, "linktypes": idbs}
    raise SystemExit(f"{path}: unknown capture format")


def main():
    scen, out = sys.argv[1], sys.argv[2]
    meta = dict(read_tsv(os.path.join(scen, "meta.tsv")))
    name = meta["name"]
    env = {k: v for k, v in read_tsv(os.path.join(scen, "goenv.tsv"))}
    # drop the per-run temp paths from env: they are meaningless later, but say they were fresh
    for k in ("PATH", "HOME", "GOPATH", "GOMODCACHE", "GOCACHE", "SSL_CERT_FILE", "GIT_SSL_CAINFO"):
        if k in env:
            env[k] = "<fresh temp dir>" if k not in ("SSL_CERT_FILE", "GIT_SSL_CAINFO") else "<the recording's CA cert>"
    proxies, logs = [], []
    for row in read_tsv(os.path.join(scen, "proxies.tsv")):
        url, addr, netns, role, logf, flags = (row + [""] * 6)[:6]
        proxies.append({"url": url, "addr": addr, "netns": netns, "role": role,
                        "mode": mode_of(flags), "flags": flags})
        if logf and os.path.exists(logf):
            with open(logf, encoding="utf-8") as f:
                for line in f:
                    if line.strip():
                        rec = json.loads(line)
                        rec.setdefault("addr", addr)
                        rec["server"] = url
                        logs.append(rec)
    logs.sort(key=lambda r: r.get("ts", 0))
    with open(os.path.join(out, name + ".server.jsonl"), "w", encoding="utf-8") as f:
        for rec in logs:
            f.write(json.dumps(rec, sort_keys=True) + "\n")
    stats = dict(read_tsv(os.path.join(scen, "capstats.tsv")))
    captures, interfaces, linktypes = [], [], []
    for row in read_tsv(os.path.join(scen, "captures.tsv")):
        fname, tool, netns, ifaces, filt, cmdline = (row + [""] * 6)[:6]
        info = pcap_info(os.path.join(out, fname))
        cap = {"file": fname, "tool": tool, "command": cmdline, "netns": netns,
               "interfaces": ifaces.split(), "filter": filt}
        cap.update(info)
        if stats.get(fname):
            cap["tool_stats"] = stats[fname]
        captures.append(cap)
        for i in ifaces.split():
            if i not in interfaces:
                interfaces.append(i)
        for lt in info["linktypes"]:
            if lt["linktype"] not in linktypes:
                linktypes.append(lt["linktype"])
    doc = {
        "name": name,
        "description": meta.get("description", ""),
        "go_version": meta.get("go_version", ""),
        "go_version_line": meta.get("go_version_line", ""),
        "command": meta.get("command", ""),
        "exit_status": int(meta["exit_status"]) if meta.get("exit_status", "").lstrip("-").isdigit() else None,
        "env": env,
        "interfaces": interfaces,
        "linktype": ",".join(linktypes),
        "captures": captures,
        "proxies": proxies,
        "recorded_at": meta.get("recorded_at", ""),
        "recorder": meta.get("recorder", ""),
    }
    for k in ("notes", "topology", "sumdb_key", "keylog", "tampered", "go_sum", "killed_by",
              "timeout_s", "key_error", "client_resolv_conf"):
        if meta.get(k):
            doc[k] = meta[k]
    for k, v in read_tsv(os.path.join(scen, "metaj.tsv")):
        if k.endswith("[]"):
            doc.setdefault(k[:-2], []).append(json.loads(v))
        else:
            doc[k] = json.loads(v)
    if isinstance(doc.get("tls"), dict):
        doc["tls"]["keylog"] = (f"{doc['keylog']} (server side, goproxyd -keylog)" if doc.get("keylog") else
                                "none: goproxyd logged no TLS secret (no handshake got that far; a TLS 1.2 "
                                "server has none before the client's key exchange)")
    with open(os.path.join(out, name + ".json"), "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")


def mode_of(flags):
    """A short human label for a goproxyd command line."""
    fl = flags.split()
    def val(flag, default=None):
        return fl[fl.index(flag) + 1] if flag in fl and fl.index(flag) + 1 < len(fl) else default
    parts = []
    if val("-repos"):  # vcsd, the git host
        return "vcs: go-get meta tags + git http-backend" + (", tls" if val("-cert") else "") + \
            (", basic auth " + val("-auth").split("=")[0] if val("-auth") else "")
    if val("-mode"):
        parts.append(val("-mode"))
    elif val("-only"):
        parts.append(f"only {val('-only')} (others {val('-miss', '404')})")
    else:
        parts.append("serve")
    if val("-delay"):
        parts.append("delay " + val("-delay"))
    if val("-sumdb"):
        parts.append("sumdb " + val("-sumdb"))
    if val("-cert"):
        parts.append("tls" + (" max " + val("-tls-max") if val("-tls-max") else ""))
    return ", ".join(parts)


if __name__ == "__main__":
    main()
