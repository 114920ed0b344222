#!/usr/bin/env bash
# Records the TLS captures of tests/data/formats/ on loopback with real tools: openssl
# s_server (TLS 1.2 only, then TLS 1.3 with session tickets and early data) serving files
# over HTTP/1.1 (-HTTP: each file is a whole response), curl and openssl s_client as clients writing SSLKEYLOGFILE, tcpdump on lo,
# editcap --inject-secrets for the DSB copies. Run as root from anywhere; rewrites the files
# of the parts named (tls12 h2c tls13 upgrade oneway snaplen midway), or of all of them.
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

capture() { # NAME PORT|FILTER [SNAPLEN]: starts tcpdump on lo for the port
  local filter="tcp port $2"
  [[ $2 == *" "* ]] && filter="tcp and ($2)"
  tcpdump -i lo -s "${3:-0}" -U -w "$work/$1.pcap" "$filter" 2>/dev/null &
  dump=$!
  sleep 1
}
stop_capture() { sleep 1; kill -INT "$dump"; wait "$dump" || true; }

tls12() {
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
}

h2c() {
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
}

tls13() {
# TLS 1.3 resumption and 0-RTT. openssl s_server answers only what it reads on its standard
# input (a FIFO here), and reads early data only outside -HTTP mode; 'q' on its input ends
# the connection. First a full handshake whose ticket s_client keeps (-sess_out), then a
# resumed (PSK) connection whose request is all early data (-early_data). Then curl against
# s_server -HTTP: two URLs, Connection: close, the second connection resumed from the first.
mkfifo in
exec 3<>in
openssl s_server -accept 127.0.0.1:14413 -cert cert.pem -key key.pem -tls1_3 -early_data \
  -naccept 2 <&3 >/dev/null 2>&1 &
server=$!
(cd www && exec openssl s_server -accept 127.0.0.1:14414 -cert ../cert.pem -key ../key.pem \
  -tls1_3 -HTTP -quiet) >/dev/null 2>&1 &
server2=$!
sleep 1
capture tls13-resume "port 14413 or port 14414"
answer() { # FILE: s_server sends it as the response, then ends the connection
  (sleep 1; cat "www/$1" >&3; sleep 1; echo q >&3) &
}
printf 'GET /%s HTTP/1.1\r\nHost: localhost\r\n\r\n' "$base/list" > req1
printf 'GET /%s HTTP/1.1\r\nHost: localhost\r\n\r\n' "$base/v1.1.0.info" > req2
answer "$base/list"
openssl s_client -connect 127.0.0.1:14413 -servername localhost -CAfile cert.pem \
  -keylogfile tls13.keylog -sess_out sess.pem -ign_eof -quiet < req1 >/dev/null 2>&1 || true
answer "$base/v1.1.0.info"
openssl s_client -connect 127.0.0.1:14413 -servername localhost -CAfile cert.pem \
  -keylogfile tls13.keylog -sess_in sess.pem -early_data req2 -ign_eof -quiet \
  </dev/null >/dev/null 2>&1 || true
SSLKEYLOGFILE=$work/tls13.keylog curl -sS --cacert cert.pem --tlsv1.3 -H 'Connection: close' \
  -o /dev/null -o /dev/null "https://localhost:14414/$base/v1.1.0.info" "https://localhost:14414/$base/v1.1.0.mod"
stop_capture
kill $server $server2 2>/dev/null || true
exec 3>&-
cp tls13-resume.pcap "$out/"
cp tls13.keylog "$out/tls13-resume.keylog"
}

upgrade() {
# Upgrade: h2c: an HTTP/1.1 request asking to switch, 101, then HTTP/2 on the same
# connection (stream 1 is the upgraded request's answer). nghttpd has no Upgrade, so the
# server is h2cup.go (Go's net/http behind x/net's h2c handler, Debian's
# golang-golang-x-net-dev, built in GOPATH mode); nghttp -u and curl --http2 as clients.
GO111MODULE=off GOPATH=/usr/share/gocode GOFLAGS= /usr/bin/go build -o h2cup "$out/h2cup.go"
mkdir -p h2www/$base
printf 'v1.0.0\n' > h2www/$base/list
./h2cup 127.0.0.1:18081 h2www &
server=$!
sleep 1
capture h2c-upgrade 18081
nghttp -u -n "http://127.0.0.1:18081/$base/list"
curl -s --http2 -o /dev/null "http://127.0.0.1:18081/$base/list"
stop_capture
kill $server
cp h2c-upgrade.pcap "$out/"
}

oneway() {
# One direction only, as `tcpdump "dst port 3000"` on a live run writes it: the client's
# packets of two bundled real captures (cleartext HTTP/1.1, and TLS 1.3), the server's left
# out by the same filter applied with tcpdump -r.
local caps="$out/../../../captures"
tcpdump -r "$caps/one-proxy-go127.pcap" -w "$out/one-way-http.pcap" "tcp dst port 3000"
tcpdump -r "$caps/https-go127.pcap" -w "$out/one-way-tls.pcap" "tcp dst port 3000 or tcp dst port 3001"
}

snaplen() {
# A snap length of 200 bytes (what `tcpdump -s 200` keeps): every packet of a bundled real
# go command's capture cut to 200 bytes by editcap, as tcpdump would have cut it on the wire.
editcap -s 200 "$out/../../../captures/one-proxy-go127.pcap" "$out/snaplen200-go127.pcap"
}

midway() {
# A capture started mid-connection: one TLS 1.3 connection (openssl s_client and s_server,
# each fed through a FIFO so the requests and answers come when told) carries three
# HTTP/1.1 requests a second apart; one tcpdump records all of it, a second one starts
# after the first exchange, without the handshake.
mkfifo cin sin
exec 4<>cin 5<>sin
openssl s_server -accept 127.0.0.1:14415 -cert cert.pem -key key.pem -tls1_3 -naccept 1 \
  <&5 >/dev/null 2>&1 &
server=$!
sleep 1
capture midway-full 14415
openssl s_client -connect 127.0.0.1:14415 -servername localhost -CAfile cert.pem \
  -keylogfile midway.keylog -ign_eof -quiet <&4 >/dev/null 2>&1 &
client=$!
sleep 1
local n=0
for f in list v1.1.0.info v1.1.0.mod; do
  n=$((n + 1))
  if [ $n = 2 ]; then
    tcpdump -i lo -s 0 -U -w "$work/midway.pcap" "tcp port 14415" 2>/dev/null &
    late=$!
    sleep 1
  fi
  printf 'GET /%s HTTP/1.1\r\nHost: localhost\r\n\r\n' "$base/$f" >&4
  sleep 0.5
  cat "www/$base/$f" >&5
  sleep 0.5
done
echo q >&5
sleep 1
kill -INT "$late"; wait "$late" || true
stop_capture
kill $server $client 2>/dev/null || true
cp midway.pcap midway-full.pcap "$out/"
cp midway.keylog "$out/midway.keylog"
}

for part in "${@:-tls12 h2c tls13 upgrade oneway snaplen midway}"; do
  for p in $part; do "$p"; done
done
echo "recorded into $out"
