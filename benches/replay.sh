#!/usr/bin/env bash
# replay.sh [--tshark] [--runs N] [CAPTURE] — replay throughput and memory of gomodwatch.
#
# Builds `cargo build --release`, then times `gomodwatch -r CAPTURE --json > /dev/null` under
# /usr/bin/time -v: one warm-up run (page cache), then N timed runs (default 3). Reports file
# size, wall seconds, MB/s (file bytes / wall time, 1 MB = 10^6 bytes), peak RSS (MiB) and the
# number of exchange events; with --tshark, the same for
# `tshark -r CAPTURE -Y http -T fields -e http.request.uri`.
#
# CAPTURE defaults to ${BENCH_CAPTURE:-/var/tmp/gomodwatch-bench.pcap}; if it does not exist it
# is recorded first with benches/record_large.sh (needs root).
# If CAPTURE.requests exists (written by record_large.sh: "STATUS URL" per request the go
# commands made), the exchange URLs are compared against it.
#
# Exit status: 1 if the build or any replay fails; 3 if a target (>= 1000 MB/s, <= 64 MiB peak
# RSS, for the spine and for the full replay) was missed (benches/targets.sh).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
# shellcheck source=benches/targets.sh
source "$HERE/targets.sh"
RUNS=3
TSHARK=0
CAPTURE=
while (($#)); do
    case $1 in
        --tshark) TSHARK=1 ;;
        --runs) RUNS=${2:?--runs N}; shift ;;
        --runs=*) RUNS=${1#--runs=} ;;
        -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        -*) echo "replay.sh: unknown option $1" >&2; exit 2 ;;
        *) CAPTURE=$1 ;;
    esac
    shift
done
CAPTURE=${CAPTURE:-${BENCH_CAPTURE:-/var/tmp/gomodwatch-bench.pcap}}

if [[ ! -s $CAPTURE ]]; then
    echo "replay.sh: $CAPTURE missing; recording it with benches/record_large.sh" >&2
    [[ $(id -u) == 0 ]] || { echo "replay.sh: recording needs root: sudo $0" >&2; exit 2; }
    "$HERE/record_large.sh" "$CAPTURE"
fi
[[ -x /usr/bin/time ]] || { echo "replay.sh: /usr/bin/time missing (apt-get install time)" >&2; exit 2; }

echo "building: cargo build --release (in $ROOT)" >&2
if ! (cd "$ROOT" && cargo build --release) > /tmp/gmw-replay-build.log 2>&1; then
    cat /tmp/gmw-replay-build.log >&2; echo "replay.sh: cargo build --release failed" >&2; exit 1
fi
BIN=$ROOT/target/release/gomodwatch
[[ -x $BIN ]] || { echo "replay.sh: $BIN not built" >&2; exit 1; }

TMP=$(mktemp -d /tmp/gmw-replay.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
SIZE=$(stat -L -c %s "$CAPTURE")

# run NAME OUTFILE cmd... : one timed run; sets WALL (s), RSS (KiB). Fails on non-zero exit.
run() {
    local name=$1 out=$2; shift 2
    local t0 t1 rc=0
    t0=$(date +%s%N)
    /usr/bin/time -v -o "$TMP/time" "$@" > "$out" 2> "$TMP/stderr" || rc=$?
    t1=$(date +%s%N)
    if ((rc != 0)); then
        echo "replay.sh: $name failed (exit $rc): $*" >&2
        tail -20 "$TMP/stderr" >&2
        exit 1
    fi
    WALL=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.3f", (b-a)/1e9}')
    RSS=$(awk -F': ' '/Maximum resident set size/{print $2}' "$TMP/time")
}
row() {  # row LABEL WALL RSS_KiB EVENTS
    awk -v l="$1" -v w="$2" -v r="$3" -v e="$4" -v s="$SIZE" \
        'BEGIN{printf "%-22s %9.3f %10.1f %10.1f %10s\n", l, w, s/1e6/w, r/1024, e}'
}

cat "$CAPTURE" > /dev/null   # page cache
echo
printf 'capture: %s\n' "$CAPTURE"
printf 'size:    %s bytes (%.1f MB, %.1f MiB)\n' "$SIZE" "$(awk -v s="$SIZE" 'BEGIN{print s/1e6}')" "$(awk -v s="$SIZE" 'BEGIN{print s/1048576}')"
if [[ -f $CAPTURE.meta ]]; then
    # shellcheck disable=SC1090
    (. "$CAPTURE.meta" 2>/dev/null; printf 'recorded: %s packets, %s HTTP requests (goproxyd), largest frame %s bytes\n' \
        "${packets:-?}" "${goproxyd_requests:-?}" "${max_frame_len:-?}") || true
fi
echo "cpu:     $(nproc) cores, $(awk -F': ' '/model name/{print $2; exit}' /proc/cpuinfo)"
echo
printf '%-22s %9s %10s %10s %10s\n' "run" "wall s" "MB/s" "peak MiB" "exchanges"
printf '%-22s %9s %10s %10s %10s\n' "----------------------" "---------" "----------" "----------" "----------"

# warm-up run, also counts the exchange events
run "gomodwatch warm-up" "$TMP/events.ndjson" "$BIN" -r "$CAPTURE" --json
EVENTS=$(grep -c '"type":"exchange"' "$TMP/events.ndjson" || true)
row "gomodwatch (warm-up)" "$WALL" "$RSS" "$EVENTS"
WALLS=()
RSSES=()
for ((i = 1; i <= RUNS; i++)); do
    run "gomodwatch run $i" /dev/null "$BIN" -r "$CAPTURE" --json
    WALLS+=("$WALL"); RSSES+=("$RSS")
    row "gomodwatch run $i" "$WALL" "$RSS" "$EVENTS"
done
MED_WALL=$(printf '%s\n' "${WALLS[@]}" | sort -n | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}')
MAX_RSS=$(printf '%s\n' "${RSSES[@]}" | sort -n | tail -1)
row "gomodwatch (median)" "$MED_WALL" "$MAX_RSS" "$EVENTS"

# The decoding spine alone: the same replay without h1: hashing of zips (--no-hash).
NWALLS=()
NRSSES=()
for ((i = 1; i <= RUNS; i++)); do
    run "gomodwatch --no-hash run $i" /dev/null "$BIN" -r "$CAPTURE" --json --no-hash
    NWALLS+=("$WALL"); NRSSES+=("$RSS")
    row "--no-hash run $i" "$WALL" "$RSS" "$EVENTS"
done
SPINE_WALL=$(printf '%s\n' "${NWALLS[@]}" | sort -n | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}')
SPINE_RSS=$(printf '%s\n' "${NRSSES[@]}" | sort -n | tail -1)
row "--no-hash (median)" "$SPINE_WALL" "$SPINE_RSS" "$EVENTS"

if ((TSHARK)); then
    command -v tshark >/dev/null || { echo "replay.sh: tshark not installed" >&2; exit 1; }
    run "tshark" "$TMP/tshark.out" tshark -r "$CAPTURE" -Y http -T fields -e http.request.uri
    TS_REQ=$(grep -c . "$TMP/tshark.out" || true)
    row "tshark -Y http" "$WALL" "$RSS" "$TS_REQ req"
fi
echo
echo "targets: >= 1000 MB/s, <= 64 MiB peak RSS (median run; peak RSS = max over runs)"
awk -v s="$SIZE" -v w="$SPINE_WALL" -v r="$SPINE_RSS" 'BEGIN{
    mbs = s/1e6/w; mib = r/1024
    printf "spine:   %.0f MB/s (%s), %.1f MiB peak RSS (%s)  [--no-hash]\n", mbs, (mbs >= 1000 ? "meets target" : "BELOW target"), mib, (mib <= 64 ? "meets target" : "ABOVE target")
}'
awk -v s="$SIZE" -v w="$MED_WALL" -v r="$MAX_RSS" -v sw="$SPINE_WALL" 'BEGIN{
    mbs = s/1e6/w; mib = r/1024
    printf "full:    %.0f MB/s (%s), %.1f MiB peak RSS (%s); hashing every zip costs %.0f%% of the spine'"'"'s speed\n", mbs, (mbs >= 1000 ? "meets target" : "BELOW target"), mib, (mib <= 64 ? "meets target" : "ABOVE target"), (1 - sw/w) * 100
}'

# ground truth: every request the go commands made ("STATUS URL"), from record_large.sh
if [[ -f $CAPTURE.requests ]]; then
    REQS=$(wc -l < "$CAPTURE.requests")
    if command -v jq >/dev/null; then
        jq -r 'select(.type=="exchange") | "\(.status // "-") \(.url)"' "$TMP/events.ndjson" | sort > "$TMP/seen"
    else
        grep '"type":"exchange"' "$TMP/events.ndjson" |
            sed -E 's/.*"url":"([^"]*)".*"status":([0-9a-z]+).*/\2 \1/' | sort > "$TMP/seen"
    fi
    echo "check:   $EVENTS exchange events vs $REQS requests recorded by the go commands (difference $((EVENTS - REQS)))"
    comm -23 "$CAPTURE.requests" "$TMP/seen" > "$TMP/missing"
    comm -13 "$CAPTURE.requests" "$TMP/seen" > "$TMP/extra"
    if [[ -s $TMP/missing || -s $TMP/extra ]]; then
        echo "         $(wc -l < "$TMP/missing") requested but not reported (or with another status), e.g.:"
        head -5 "$TMP/missing" | sed 's/^/           /'
        echo "         $(wc -l < "$TMP/extra") reported but not requested, e.g.:"
        head -5 "$TMP/extra" | sed 's/^/           /'
    else
        echo "         every requested URL (with its status) was reported exactly as often as requested"
    fi
fi

# h1: hashes reported for the modules vs the real ones mkproxy computed when building the tree
if [[ -f $CAPTURE.gosum ]] && command -v jq >/dev/null; then
    jq -r 'select(.type=="module") |
           (if .h1 then "\(.module) \(.version) \(.h1)" else empty end),
           (if .mod_h1 then "\(.module) \(.version)/go.mod \(.mod_h1)" else empty end)' \
        "$TMP/events.ndjson" | sort -u > "$TMP/h1.seen"
    sort -u "$CAPTURE.gosum" | grep . > "$TMP/h1.want" || true
    HAVE=$(wc -l < "$TMP/h1.seen"); WANT=$(wc -l < "$TMP/h1.want")
    BAD=$(comm -23 "$TMP/h1.seen" "$TMP/h1.want" | wc -l)
    echo "h1:      $HAVE hashes reported, $((HAVE - BAD)) equal to mkproxy's ($WANT in the tree), $BAD differ"
    comm -23 "$TMP/h1.seen" "$TMP/h1.want" | head -5 | sed 's/^/           /'
fi

echo
target "spine (--no-hash) throughput" "$(awk -v s="$SIZE" -v w="$SPINE_WALL" 'BEGIN{printf "%.0f", s/1e6/w}')" ">=" 1000 MB/s
target "spine (--no-hash) peak RSS" "$(awk -v r="$SPINE_RSS" 'BEGIN{printf "%.1f", r/1024}')" "<=" 64 MiB
target "full replay throughput" "$(awk -v s="$SIZE" -v w="$MED_WALL" 'BEGIN{printf "%.0f", s/1e6/w}')" ">=" 1000 MB/s
target "full replay peak RSS" "$(awk -v r="$MAX_RSS" 'BEGIN{printf "%.1f", r/1024}')" "<=" 64 MiB
targets_exit
