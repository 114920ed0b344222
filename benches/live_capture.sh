#!/usr/bin/env bash
# live_capture.sh [--seconds N] [--rates "100 500 1000 2000 0"] [--no-go] — live-capture throughput and drops.
#
# Pushes loopback traffic at several target rates while `gomodwatch -i lo -f 'tcp port 3500' --json`
# captures it, and reports per step: payload bytes moved, achieved Mbit/s, requests made,
# exchange events (complete / incomplete / missing), gomodwatch's `summary.dropped` (kernel +
# hand-off drops), packets on lo vs packets decoded + dropped, gomodwatch's CPU time and peak RSS.
#
# Everything runs in network namespace `gmwlive` (its own lo, nothing else on it): goproxyd
# serves a GOPROXY tree of big real module zips (golang.org/x/text, x/sys, x/net, x/crypto, built
# by mkproxy from /usr/share/gocode/src) on 127.0.0.1:3500, and STREAMS parallel curl loops fetch
# the zips for STEP_SECONDS. A target rate is enforced by a `tc tbf` token bucket on the netns lo
# (curl's --limit-rate if tc fails; it overshoots about 2x); unlimited = as fast as the 2 cores
# allow. A last step runs real `go mod download -x` loops (fresh module cache each) at full speed.
# Each step starts a fresh gomodwatch under /usr/bin/time -v and stops it with SIGINT.
#
# Run as root. Re-runnable: leftovers are removed first, a trap tears everything down.
# Exit status: non-zero if a setup step fails, or if a step lost exchanges or packets without
# counting them as dropped (a gomodwatch bug); 3 if the target (no drops at or below
# 1000 Mbit/s) was missed (benches/targets.sh).
#
# Tunables (environment; options override):
#   STEP_SECONDS=10       load duration per step (--seconds)
#   RATES="100 500 1000 2000 0"  target rates in Mbit/s on the wire, 0 = unlimited (--rates)
#   STREAMS=4             parallel curl loops per step
#   VERSIONS=2            versions served of each big module
#   GO_STEP=1             add a step with real `go mod download` loops (--no-go: 0)
#   GO_WORKERS=2          parallel go loops in that step (Go 1.19 and 1.27 alternating)
#   FILTER='tcp port 3500'  gomodwatch's -f (e.g. 'inbound and tcp port 3500': see README)
#   LO_MTU=               set the netns lo MTU and turn TSO/GSO/GRO off there (default: 65536
#                         with offloads, i.e. 64 KiB packets; 1500 gives wire-sized packets)
#   KEEP_WORK=1           keep the work dir (tree, NDJSON, logs) for inspection
set -euo pipefail
export LC_ALL=C   # sort/join/comm agree on one collation

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
STEP_SECONDS=${STEP_SECONDS:-10}
RATES=${RATES:-"100 500 1000 2000 0"}
STREAMS=${STREAMS:-4}
VERSIONS=${VERSIONS:-2}
GO_STEP=${GO_STEP:-1}
GO_WORKERS=${GO_WORKERS:-2}
LO_MTU=${LO_MTU:-}
FILTER=${FILTER:-tcp port 3500}
while (($#)); do
    case $1 in
        --seconds) STEP_SECONDS=${2:?--seconds N}; shift ;;
        --seconds=*) STEP_SECONDS=${1#--seconds=} ;;
        --rates) RATES=${2:?--rates LIST}; shift ;;
        --rates=*) RATES=${1#--rates=} ;;
        --no-go) GO_STEP=0 ;;
        -h|--help) sed -n '2,31p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "live_capture.sh: unknown argument $1" >&2; exit 2 ;;
    esac
    shift
done

[[ $(id -u) == 0 ]] || { echo "live_capture.sh: must run as root (netns, live capture): sudo $0" >&2; exit 2; }
for c in ip curl jq /usr/bin/time; do
    command -v "$c" >/dev/null || { echo "live_capture.sh: missing $c (apt-get install -y iproute2 curl jq time)" >&2; exit 2; }
done

NS=gmwlive
PORT=3500
ADDR=127.0.0.1:$PORT
SRC=/usr/share/gocode/src
GO_OLD=/usr/bin/go
[[ -x $GO_OLD ]] || GO_OLD=$(command -v go)
GO_NEW=$(command -v go || true)
[[ -x $GO_NEW ]] || GO_NEW=$GO_OLD
TOOLS=$ROOT/captures/tools
[[ -d $TOOLS/goproxyd && -d $TOOLS/mkproxy ]] || TOOLS=$(cd "$ROOT/.." && pwd)/shared/tools

WORK=$(mktemp -d /var/tmp/gmwlive.XXXXXX)
SHM=$(mktemp -d /dev/shm/gmwlive.XXXXXX)   # go module caches of the go step
PIDS=()

cleanup() {
    local rc=$?
    set +e
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
    [[ -f $WORK/gmw.pid ]] && kill -INT "$(cat "$WORK/gmw.pid")" 2>/dev/null
    [[ -f $WORK/goproxyd.pid ]] && kill "$(cat "$WORK/goproxyd.pid")" 2>/dev/null
    wait 2>/dev/null
    ip netns del "$NS" 2>/dev/null
    rm -rf "$SHM"
    if [[ ${KEEP_WORK:-0} == 1 ]]; then echo "work dir kept: $WORK" >&2; else rm -rf "$WORK"; fi
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log() { printf '[live_capture %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }

# ---------------------------------------------------------------- build
log "building: cargo build --release (in $ROOT)"
if ! (cd "$ROOT" && cargo build --release) > "$WORK/build.log" 2>&1; then
    cat "$WORK/build.log" >&2; echo "live_capture.sh: cargo build --release failed" >&2; exit 1
fi
BIN=$ROOT/target/release/gomodwatch
[[ -x $BIN ]] || { echo "live_capture.sh: $BIN not built" >&2; exit 1; }
log "building goproxyd and mkproxy (GOPATH mode, $GO_OLD) from $TOOLS"
mkdir -p "$WORK/bin"
( cd "$TOOLS" &&
  GO111MODULE=off GOPATH=/usr/share/gocode GOCACHE=$WORK/gocache-tools GOFLAGS= \
      "$GO_OLD" build -o "$WORK/bin/mkproxy" ./mkproxy &&
  GO111MODULE=off GOPATH=/usr/share/gocode GOCACHE=$WORK/gocache-tools GOFLAGS= \
      "$GO_OLD" build -o "$WORK/bin/goproxyd" ./goproxyd )

# ---------------------------------------------------------------- proxy tree: big real zips
MKARGS=()
MODVERS=()
for m in text sys net crypto; do
    [[ -f $SRC/golang.org/x/$m/go.mod ]] || continue
    for ((i = 0; i < VERSIONS; i++)); do
        MKARGS+=("golang.org/x/$m@v0.$i.0=$SRC/golang.org/x/$m")
        MODVERS+=("golang.org/x/$m@v0.$i.0")
    done
done
((${#MODVERS[@]})) || { echo "live_capture.sh: no golang.org/x/{text,sys,net,crypto} under $SRC; apt-get install golang-golang-x-{text,sys,net,crypto}-dev" >&2; exit 2; }
log "mkproxy: ${#MODVERS[@]} module versions"
"$WORK/bin/mkproxy" "$WORK/tree" "${MKARGS[@]}" 2> "$WORK/mkproxy.err" || { cat "$WORK/mkproxy.err" >&2; exit 1; }
# "URLPATH SIZE" of every file served (the expected body size of each exchange)
( cd "$WORK/tree" && find . -type f ! -name go.sum.expected -printf '/%P %s\n' ) | sort > "$WORK/sizes"
URLS=()
for mv in "${MODVERS[@]}"; do URLS+=("http://$ADDR/${mv%@*}/@v/${mv#*@}.zip"); done
ZIPBYTES=0
for u in "${URLS[@]}"; do ZIPBYTES=$((ZIPBYTES + $(awk -v p="/${u#http://*/}" '$1==p{print $2}' "$WORK/sizes"))); done
log "zips: ${#URLS[@]}, $((ZIPBYTES / 1000000)) MB in all ($(for u in "${URLS[@]}"; do awk -v p="/${u#http://*/}" '$1==p{printf "%.1f ", $2/1e6}' "$WORK/sizes"; done)MB)"

# ---------------------------------------------------------------- network namespace, server
ip netns del "$NS" 2>/dev/null || true
ip netns add "$NS"
ip -n "$NS" link set lo up
if [[ -n $LO_MTU ]]; then
    # real frames of at most LO_MTU bytes: no segmentation offloads either (else lo carries
    # 64 KiB GSO packets whatever its MTU)
    ip -n "$NS" link set lo mtu "$LO_MTU"
    ip netns exec "$NS" ethtool -K lo tso off gso off gro off >/dev/null 2>&1 ||
        echo "live_capture.sh: ethtool -K lo tso/gso/gro off failed; packets may exceed the MTU" >&2
fi
LO_MTU_NOW=$(ip -n "$NS" -j link show lo | jq '.[0].mtu')
ip netns exec "$NS" "$WORK/bin/goproxyd" -addr "$ADDR" -root "$WORK/tree" -log "$WORK/goproxyd.log" \
    2> "$WORK/goproxyd.err" & echo $! > "$WORK/goproxyd.pid"
for _ in $(seq 50); do   # TCP connect only, so nothing is logged
    ip netns exec "$NS" bash -c "exec 3<>/dev/tcp/127.0.0.1/$PORT" 2>/dev/null && break
    sleep 0.1
done
touch "$WORK/goproxyd.log"

lo_counters() {   # "RX_PACKETS RX_BYTES RX_DROPPED" of lo in the netns
    ip -n "$NS" -s -j link show lo | jq -r '.[0].stats64.rx | "\(.packets) \(.bytes) \(.dropped)"'
}
now_ns() { date +%s%N; }

# ---------------------------------------------------------------- load generators (run inside the netns)
# curl_loop OUT DEADLINE_NS RATE_BYTES_PER_S FIRST_INDEX URL...: fetch the URLs round-robin until
# the deadline (the transfer in progress is finished, never cut). One line per request:
# "CODE SIZE TTFB TOTAL URL". RATE 0 = unlimited: all URLs in one curl call (keep-alive);
# RATE -1 = shaped elsewhere: one URL per call, no --limit-rate; RATE > 0: curl --limit-rate RATE.
curl_loop() {
    local out=$1 deadline=$2 rate=$3 i=$4; shift 4
    local urls=("$@") n=$#
    local lim=() fmt='%{http_code} %{size_download} %{time_starttransfer} %{time_total} %{url_effective}\n'
    ((rate > 0)) && lim=(--limit-rate "$rate")
    ((rate < 0)) && rate=1   # one URL per call
    echo "start $(date +%s%N)" > "$out.t"
    while (($(date +%s%N) < deadline)); do
        local args=() k
        if ((rate > 0)); then
            args=(-o /dev/null "${urls[i % n]}"); i=$((i + 1))
        else
            for ((k = 0; k < n; k++)); do args+=(-o /dev/null "${urls[(i + k) % n]}"); done; i=$((i + 1))
        fi
        curl -s "${lim[@]}" -w "$fmt" "${args[@]}" >> "$out" || true
    done
    echo "end $(date +%s%N)" >> "$out.t"
}
# go_loop OUT DEADLINE_NS GO CACHEDIR MODVER...: real `go mod download -x` of every module
# version, with a fresh module cache each time, until the deadline.
go_loop() {
    local out=$1 deadline=$2 g=$3 dir=$4; shift 4
    echo "start $(date +%s%N)" > "$out.t"
    mkdir -p "$dir/empty"
    while (($(date +%s%N) < deadline)); do
        ( cd "$dir/empty" && env -u GOROOT GOPATH="$dir/gopath" GOMODCACHE="$dir/modcache" \
            GOCACHE="$dir/gocache" GOENV=off GOSUMDB=off GONOSUMDB= GOPRIVATE= GONOPROXY= \
            GOFLAGS=-mod=mod GOTOOLCHAIN=local GOPROXY="http://$ADDR" GO111MODULE=on GOTELEMETRY=off \
            "$g" mod download -x "$@" ) >> "$out.x" 2>&1 || true
        chmod -R u+w "$dir/modcache" 2>/dev/null; rm -rf "$dir/modcache"
    done
    echo "end $(date +%s%N)" >> "$out.t"
    sed -nE 's/^# get ([^ ]+): ([0-9]{3}) .*/\2 \1/p' "$out.x" > "$out"
}
export -f curl_loop go_loop
export ADDR

# shape RATE_MBIT: a token bucket on the netns lo limits the wire rate (0 = remove it). Sets
# CURL_RATE (bytes/s per curl loop): 0 with tc, else curl's own --limit-rate (less exact).
shape() {
    local rate=$1
    tc -n "$NS" qdisc del dev lo root 2>/dev/null || true
    CURL_RATE=0
    ((rate > 0)) || return 0
    # burst: >= 4 ms at the rate and >= 4 loopback GSO packets
    local burst=$(( rate * 1000000 / 8 / 250 )); ((burst < 262144)) && burst=262144
    if tc -n "$NS" qdisc add dev lo root tbf rate "${rate}mbit" burst "$burst" latency 50ms 2> "$WORK/tc.err"; then
        LIMITER="tc tbf rate ${rate}mbit burst $burst on lo"
    else
        CURL_RATE=$(( rate * 1000000 / 8 / STREAMS ))
        LIMITER="curl --limit-rate $CURL_RATE per loop (tc tbf failed: $(head -1 "$WORK/tc.err"))"
    fi
}

# ---------------------------------------------------------------- one step
ROWS=()
LIMITER=none
LIMITS=
CURL_RATE=0
FAIL=0
TOTAL_DROPPED=0
# step LABEL RATE_MBIT KIND(curl|go)
step() {
    local label=$1 rate=$2 kind=$3
    local S=$WORK/step-$label
    mkdir -p "$S"
    local srv0; srv0=$(wc -l < "$WORK/goproxyd.log")
    ip netns exec "$NS" /usr/bin/time -v -o "$S/time" "$BIN" -i lo -f "$FILTER" --goproxy "http://$ADDR" --json \
        > "$S/events.ndjson" 2> "$S/gmw.err" &
    local tpid=$!
    echo "$tpid" > "$WORK/gmw.pid"
    local ok=0
    for _ in $(seq 200); do grep -q 'listening on' "$S/gmw.err" 2>/dev/null && { ok=1; break; }; sleep 0.05; done
    ((ok)) || { cat "$S/gmw.err" >&2; echo "live_capture.sh: gomodwatch did not start" >&2; exit 1; }
    local gpid; gpid=$(pgrep -P "$tpid" | head -1)
    [[ -n $gpid ]] || { echo "live_capture.sh: no gomodwatch under /usr/bin/time ($tpid)" >&2; exit 1; }
    echo "$gpid" > "$WORK/gmw.pid"
    sleep 0.3
    local lo0; lo0=$(lo_counters)
    local deadline=$(( $(now_ns) + STEP_SECONDS * 1000000000 ))
    local w PW=()
    if [[ $kind == curl ]]; then
        local per=$CURL_RATE
        ((rate > 0 && per == 0)) && per=-1   # shaped by tc: one URL per curl call, no curl limit
        log "step $label: $STREAMS curl loops, $( ((rate > 0)) && echo "$LIMITER" || echo unlimited), ${STEP_SECONDS}s"
        for ((w = 0; w < STREAMS; w++)); do
            ip netns exec "$NS" bash -c 'curl_loop "$@"' _ "$S/load.$w" "$deadline" "$per" "$w" "${URLS[@]}" &
            PW+=($!)
        done
    else
        log "step $label: $GO_WORKERS 'go mod download -x' loops ($GO_OLD / $GO_NEW), fresh module cache each, ${STEP_SECONDS}s"
        for ((w = 0; w < GO_WORKERS; w++)); do
            local g=$GO_OLD; ((w % 2)) && g=$GO_NEW
            ip netns exec "$NS" bash -c 'go_loop "$@"' _ "$S/load.$w" "$deadline" "$g" "$SHM/w$w" "${MODVERS[@]}" &
            PW+=($!)
        done
    fi
    PIDS=("${PW[@]}")
    for p in "${PW[@]}"; do wait "$p" || true; done
    PIDS=()
    sleep 1   # last ACKs/FINs; let the decoder drain its queue
    local lo1; lo1=$(lo_counters)
    kill -INT "$gpid"
    wait "$tpid" || { tail -20 "$S/gmw.err" >&2; echo "live_capture.sh: gomodwatch exited non-zero in step $label" >&2; }
    rm -f "$WORK/gmw.pid"
    tail -n +"$((srv0 + 1))" "$WORK/goproxyd.log" > "$S/server.jsonl"

    # ---- figures
    local t0 t1 win
    t0=$(cat "$S"/load.*.t | awk '$1=="start"{print $2}' | sort -n | head -1)
    t1=$(cat "$S"/load.*.t | awk '$1=="end"{print $2}' | sort -n | tail -1)
    win=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.3f", (b-a)/1e9}')
    : > "$S/requests.raw"
    for p in "$S"/load.*.t; do cat "${p%.t}" >> "$S/requests.raw" 2>/dev/null || true; done
    local reqs payload
    if [[ $kind == curl ]]; then
        # "CODE SIZE TTFB TOTAL URL" -> "PATH" per request; payload = bytes curl received
        reqs=$(grep -c . "$S/requests.raw" || true)
        payload=$(awk '{s+=$2} END{print s+0}' "$S/requests.raw")
        awk '{u=$5; sub(/^http:\/\/[^\/]*/, "", u); print u}' "$S/requests.raw" | sort > "$S/req.paths"
        awk '$1!=200' "$S/requests.raw" > "$S/req.bad"
    else
        # "STATUS URL" from go's "# get" lines; payload = sizes of the files the go commands got
        reqs=$(grep -c . "$S/requests.raw" || true)
        awk '{u=$2; sub(/^http:\/\/[^\/]*/, "", u); print u}' "$S/requests.raw" | sort > "$S/req.paths"
        payload=$(join -o 2.2 "$S/req.paths" "$WORK/sizes" | awk '{s+=$1} END{print s+0}')
        awk '$1!=200' "$S/requests.raw" > "$S/req.bad"
    fi
    local srvreqs; srvreqs=$(grep -c . "$S/server.jsonl" || true)
    # exchange events: "PATH STATUS RESP_BYTES ERROR"
    jq -r 'select(.type=="exchange") | "\(.url // "(no-request)" | sub("^http://[^/]*"; "")) \(.status // "-") \(.resp_bytes // 0) \(.error // "-" | gsub(" "; "_"))"' \
        "$S/events.ndjson" | sort > "$S/exchanges"
    local exch complete
    exch=$(grep -c . "$S/exchanges" || true)
    # complete = status 200, no error, body as big as the file served
    complete=$(join "$S/exchanges" "$WORK/sizes" | awk '$2==200 && $4=="-" && $3==$5' | wc -l)
    cut -d' ' -f1 "$S/exchanges" | sort > "$S/ex.paths"
    local missing extra
    missing=$(comm -23 "$S/req.paths" "$S/ex.paths" | wc -l)
    extra=$(comm -13 "$S/req.paths" "$S/ex.paths" | wc -l)
    local sum; sum=$(grep '"type":"summary"' "$S/events.ndjson" | tail -1)
    [[ -n $sum ]] || { tail -20 "$S/gmw.err" >&2; echo "live_capture.sh: no summary event in step $label" >&2; sum='{}'; }
    local pk by dr gp problems
    read -r pk by dr gp problems < <(jq -r '"\(.packets // 0) \(.bytes // 0) \(.dropped // 0) \(.gaps // 0) \(.problems // [] | length)"' <<< "$sum")
    local lop lob lod a0 b0 c0 a1 b1 c1
    read -r a0 b0 c0 <<< "$lo0"; read -r a1 b1 c1 <<< "$lo1"
    lop=$((a1 - a0)); lob=$((b1 - b0)); lod=$((c1 - c0))
    local ut st rss pct
    ut=$(awk -F': ' '/User time/{print $2}' "$S/time"); st=$(awk -F': ' '/System time/{print $2}' "$S/time")
    rss=$(awk -F': ' '/Maximum resident set size/{print $2}' "$S/time")
    pct=$(awk -F': ' '/Percent of CPU/{print $2}' "$S/time")
    local target; ((rate > 0)) && target="$rate" || target="unlimited"
    [[ $kind == go ]] && target="go (unl.)"
    local verdict
    local unexplained=$(( missing + exch - complete ))   # requests not reported in full
    local lost=$(( lop - pk ))   # packets that went through lo but were not decoded
    local over=$(( dr - lost ))  # dropped beyond that (e.g. lo backlog drops, which TCP resent)
    if ((dr == 0 && gp == 0 && unexplained == 0 && extra == 0 && lost <= 2 && lost >= -2)); then
        verdict="ok: no drops, every request reported in full"
    elif ((dr > 0 && lost <= dr + 2)); then
        verdict="DROPS COUNTED: dropped $dr >= $lost packets not decoded; $unexplained requests not reported in full, $extra responses without their request"
        ((over > 2)) && verdict+="; dropped exceeds the loss by $over (lo rx_dropped $lod)"
    else
        verdict="SILENT LOSS? dropped=$dr gaps=$gp, $lost lo packets not decoded, $unexplained requests not in full, $extra extra"
        FAIL=1
    fi
    local errs; errs=$(awk '$4 != "-" {n[$4]++} END{for (e in n) printf "%s%d %s", (k++ ? ", " : ""), n[e], e}' "$S/exchanges")
    [[ -n $errs ]] && verdict+="; exchange errors: $errs"
    TOTAL_DROPPED=$((TOTAL_DROPPED + dr))
    # label target win payload achieved reqs srvreqs exch complete missing dropped gaps lo_pkts pk lo_bytes cpu_s cpu% rss problems verdict
    ROWS+=("$(awk -v l="$label" -v tg="$target" -v w="$win" -v p="$payload" -v r="$reqs" -v sr="$srvreqs" \
        -v e="$exch" -v c="$complete" -v m="$missing" -v d="$dr" -v g="$gp" -v lp="$lop" -v pk="$pk" -v ld="$lod" \
        -v ut="$ut" -v st="$st" -v rss="$rss" -v pr="$problems" -v lb="$lob" -v by="$by" 'BEGIN{
            cpu = ut + st
            printf "%s|%s|%.1f|%.0f|%.0f|%d|%d|%d|%d|%d|%d|%d|%d|%d|%.2f|%.0f|%.1f|%d|%.0f|%.0f\n",
                l, tg, w, p/1e6, p*8/1e6/w, r, sr, e, c, m, d, g, lp, pk, cpu, cpu/w*100, rss/1024, pr, lb*8/1e6/w, by*8/1e6/w
        }')|$verdict")
    log "step $label: $(cut -d'|' -f5 <<< "${ROWS[-1]}") Mbit/s, $reqs requests, $exch exchanges ($complete complete), dropped $dr, CPU ${pct:-?} -> $verdict"
}

# ---------------------------------------------------------------- run
log "netns $NS, lo MTU $LO_MTU_NOW, goproxyd on $ADDR; steps: $RATES (Mbit/s, 0 = unlimited)$( ((GO_STEP)) && echo ", go")"
for r in $RATES; do
    shape "$r"
    ((r > 0)) && LIMITS+="${LIMITS:+; }$LIMITER"
    if ((r > 0)); then step "${r}M" "$r" curl; else step unlimited 0 curl; fi
done
shape 0
((GO_STEP)) && step go 0 go

echo
echo "machine:   $(nproc) cores, $(awk -F': ' '/model name/{print $2; exit}' /proc/cpuinfo), $(uname -r)"
echo "load:      netns $NS, lo MTU $LO_MTU_NOW; goproxyd $ADDR; ${#URLS[@]} zips ($((ZIPBYTES / 1000000)) MB): ${MODVERS[*]}"
echo "           $STREAMS curl loops per step, ${STEP_SECONDS}s per step, rate limit: ${LIMITS:-none}; gomodwatch -i lo -f '$FILTER' --json"
echo
printf '%-9s %-9s %6s %8s %8s %6s %6s %6s %6s %6s %8s %5s %8s %8s %7s %6s %7s\n' \
    step target "win s" "MB" "Mbit/s" reqs server exch full miss dropped gaps "lo pkts" "decoded" "CPU s" "CPU %" "RSS MiB"
printf '%-9s %-9s %6s %8s %8s %6s %6s %6s %6s %6s %8s %5s %8s %8s %7s %6s %7s\n' \
    --------- --------- ------ -------- -------- ------ ------ ------ ------ ------ -------- ----- -------- -------- ------- ------ -------
for row in "${ROWS[@]}"; do
    IFS='|' read -r l tg w p a r sr e c m d g lp pk cpu pct rss pr lbr byr verdict <<< "$row"
    printf '%-9s %-9s %6s %8s %8s %6s %6s %6s %6s %6s %8s %5s %8s %8s %7s %6s %7s\n' \
        "$l" "$tg" "$w" "$p" "$a" "$r" "$sr" "$e" "$c" "$m" "$d" "$g" "$lp" "$pk" "$cpu" "$pct" "$rss"
done
echo
echo "columns: MB, Mbit/s = HTTP body bytes the clients received (1 MB = 10^6 bytes) over the load window 'win s';"
echo "         reqs = requests the clients made, server = requests goproxyd logged, exch = exchange events,"
echo "         full = exchanges with status 200, no error and the whole body, miss = requests with no exchange event;"
echo "         dropped / gaps = gomodwatch summary; lo pkts = packets on the netns lo (ip -s link) while capturing,"
echo "         decoded = summary.packets (lo pkts - decoded = packets lost; on lo the kernel counts each lost packet"
echo "         twice, once per direction, so dropped is about 2x that unless FILTER starts with 'inbound');"
echo "         CPU = gomodwatch user+sys over the window (200 % = both cores)"
echo
for row in "${ROWS[@]}"; do
    IFS='|' read -r l tg w p a r sr e c m d g lp pk cpu pct rss pr lbr byr verdict <<< "$row"
    printf '%-9s wire %s Mbit/s (lo), captured %s Mbit/s; %s problems reported; %s\n' "$l" "$lbr" "$byr" "$pr" "$verdict"
done
echo
echo "target:    no drops up to 1000 Mbit/s (2 cores); above that, drops counted in summary.dropped, never silent"
awk -v rows="$(printf '%s\n' "${ROWS[@]}")" 'BEGIN{
    n = split(rows, R, "\n"); worst = ""
    for (i = 1; i <= n; i++) { split(R[i], f, "|"); if (f[2] ~ /^[0-9]+$/ && f[2] + 0 <= 1000 && f[11] > 0) worst = worst " " f[1] }
    if (worst == "") print "result:    no drops at or below 1000 Mbit/s"; else print "result:    DROPS at or below 1000 Mbit/s in step(s):" worst
}'
((FAIL)) && { echo "result:    a step lost exchanges or packets without counting drops (see above)"; exit 1; }
# shellcheck source=benches/targets.sh
source "$ROOT/benches/targets.sh"
limited=$(printf '%s\n' "${ROWS[@]}" | awk -F'|' '$2 ~ /^[0-9]+$/ && $2 + 0 <= 1000' | wc -l)
if ((limited == 0)); then
    target_unmeasured "steps <= 1000 Mbit/s with drops" "no step at or below 1000 Mbit/s ran"
else
    target "steps <= 1000 Mbit/s with drops" "$(printf '%s\n' "${ROWS[@]}" | awk -F'|' '$2 ~ /^[0-9]+$/ && $2 + 0 <= 1000 && $11 > 0' | wc -l)" "<=" 0
fi
targets_exit
