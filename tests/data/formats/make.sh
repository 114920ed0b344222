#!/usr/bin/env bash
# Records the TLS captures of tests/data/formats/ on loopback with real tools: openssl
# s_server (TLS 1.2 only, then TLS 1.3 with session tickets and early data) serving files
# over HTTP/1.1 (-HTTP: each file is a whole response), curl and openssl s_client as clients writing SSLKEYLOGFILE, tcpdump on lo,
# editcap --inject-secrets for the DSB copies. Run as root from anywhere; rewrites the files.
set -euo pipefail
out=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
cd "$work"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout key.pem \
  -out cert.pem -days 3650 -subj /CN=localhost -addext subjectAltName=DNS:localhost 2>/dev/null
# s_server -HTTP sends each file as the whole response: status line and headers included.
mkdir -p www/example.com/m/@v
response() { # FILE BODY
  printf 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n%s' \
    "${#2}" "$2" > "www/$1"
}
response example.com/m/@v/list $'v1.0.0\nv1.1.0\n'
response example.com/m/@v/v1.1.0.info '{"Version":"v1.1.0","Time":"2026-01-01T00:00:00Z"}'
response example.com/m/@v/v1.1.0.mod $'module example.com/m\n'
base=example.com/m/@v

capture() { # NAME PORT [SNAPLEN]: starts tcpdump on lo for the port
  tcpdump -i lo -s "${3:-0}" -U -w "$work/$1.pcap" "tcp port $2" 2>/dev/null &
  dump=$!
  sleep 1
}
stop_capture() { sleep 1; kill -INT "$dump"; wait "$dump" || true; }

# TLS 1.2: three AEAD suites, then a resumed session (two URLs, Connection: close, one curl).
(cd www && exec openssl s_server -accept 127.0.0.1:14412 -cert ../cert.pem -key ../key.pem \
  -tls1_2 -HTTP -quiet) >/dev/null 2>&1 &
server=$!
sleep 1
capture tls12 14412
for c in ECDHE-ECDSA-AES128-GCM-SHA256 ECDHE-ECDSA-AES256-GCM-SHA384 ECDHE-ECDSA-CHACHA20-POLY1305; do
  SSLKEYLOGFILE=$work/tls12.keylog curl -sS --cacert cert.pem --tls-max 1.2 --ciphers "$c" \
    -o /dev/null "https://localhost:14412/$base/list"
done
SSLKEYLOGFILE=$work/tls12.keylog curl -sS --cacert cert.pem --tls-max 1.2 -H 'Connection: close' \
  -o /dev/null -o /dev/null "https://localhost:14412/$base/v1.1.0.info" "https://localhost:14412/$base/v1.1.0.mod"
stop_capture
kill $server
cp tls12.pcap tls12.keylog "$out/"
editcap --inject-secrets "tls,tls12.keylog" tls12.pcap "$out/tls12-dsb.pcapng"
# h2c by prior knowledge: nghttpd sends its SETTINGS as soon as it accepts, before the
# client's preface.
mkdir -p h2www/$base
printf 'v1.0.0\n' > h2www/$base/list
nghttpd --no-tls -d h2www 18080 >/dev/null 2>&1 &
server=$!
sleep 1
capture h2c-server-first 18080
curl -s --http2-prior-knowledge -o /dev/null "http://127.0.0.1:18080/$base/list"
nghttp -n "http://127.0.0.1:18080/$base/list"
stop_capture
kill $server
cp h2c-server-first.pcap "$out/"
echo "recorded into $out"
