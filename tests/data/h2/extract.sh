#!/usr/bin/env bash
# Extract the decrypted HTTP/2 byte streams of every TLS connection in the
# project's https captures into small text files the tests replay.
#
# Usage: tests/data/extract.sh [CAPTURES_DIR]   (default: /work/main/captures)
# Needs: tshark (apt-get install tshark), python3 (stdlib only).
#
# Output, per capture NAME and TCP stream N that carried application data:
#   NAME-connN.h2     one line per decrypted chunk as tshark saw it (TLS
#                     records completed in one packet), chunk boundaries kept:
#                         U|D <ts_ns> <hex>
#                     U = client->server, D = server->client; lines starting
#                     with '#' are comments (client/server address).
# and a copy of NAME.xlog and NAME.server.jsonl (the expectations).
set -euo pipefail

CAP=${1:-/work/main/captures}
OUT=$(cd "$(dirname "$0")" && pwd)

for name in https-go127 https-go119; do
	pcap=$CAP/$name.pcap
	keylog=$CAP/$name.keylog
	cp "$CAP/$name.xlog" "$OUT/$name.xlog"
	cp "$CAP/$name.server.jsonl" "$OUT/$name.server.jsonl"
	rm -f "$OUT/$name"-conn*.h2
	streams=$(tshark -r "$pcap" -T fields -e tcp.stream 2>/dev/null | sort -n | uniq)
	for n in $streams; do
		# Client/server addresses: the SYN's sender is the client.
		ends=$(tshark -r "$pcap" -Y "tcp.stream==$n && tcp.flags.syn==1 && tcp.flags.ack==0" \
			-T fields -e ip.src -e tcp.srcport -e ip.dst -e tcp.dstport 2>/dev/null | head -1)
		tshark -r "$pcap" -o "tls.keylog_file:$keylog" \
			-d tcp.port==3000,tls -d tcp.port==3001,tls \
			-q -z "follow,tls,yaml,$n" 2>/dev/null |
			python3 -c '
import base64, sys
# tshark`s follow YAML: a "peers" list (host/port of each side; for TLS the
# client side is reported with an empty host) and a "packets" list with peer,
# timestamp and base64 data. Parsed by hand to need nothing beyond stdlib.
ends = sys.argv[1].split()
cli = "%s:%s" % (ends[0], ends[1]); srv = "%s:%s" % (ends[2], ends[3])
peers = {}; pkts = []; cur = None; in_data = False; peer_id = None
for line in sys.stdin:
    s = line.strip()
    if s.startswith("- peer:"):
        peer_id = int(s.split(":")[1]); peers[peer_id] = {}
    elif s.startswith("port:") and peer_id is not None:
        peers[peer_id]["port"] = s.split(":")[1].strip()
    elif s.startswith("- packet:"):
        cur = {"b64": ""}; pkts.append(cur); in_data = False; peer_id = None
    elif cur is not None and s.startswith("peer:"):
        cur["peer"] = int(s.split(":")[1])
    elif cur is not None and s.startswith("timestamp:"):
        secs, _, frac = s.split(":")[1].strip().partition(".")
        cur["ts"] = int(secs) * 10**9 + int((frac + "000000000")[:9])
    elif cur is not None and s.startswith("data:"):
        in_data = True
    elif in_data and s:
        cur["b64"] += s
if not pkts:
    sys.exit(0)
srv_port = ends[3]
print("# client %s server %s" % (cli, srv))
for p in pkts:
    # The side whose port is the server port is the server.
    d = "D" if peers.get(p["peer"], {}).get("port") == srv_port else "U"
    print(d, p["ts"], base64.b64decode(p["b64"]).hex())
' "$ends" >"$OUT/$name-conn$n.h2"
		# Connections that never carried application data give no file.
		[ -s "$OUT/$name-conn$n.h2" ] || rm -f "$OUT/$name-conn$n.h2"
	done
done
ls -l "$OUT"
