#!/usr/bin/env bash
# before_after.sh BIN_BEFORE BIN_AFTER [CAPTURE] [RUNS] — two gomodwatch builds on one capture.
#
# Replays CAPTURE (default /var/tmp/gomodwatch-bench.pcap, recorded by record_large.sh) with
# `--json > /dev/null`, with and without `--no-hash`, alternating the two binaries RUNS times
# (default 5) so that both see the same machine load. Prints, per binary and mode, the median
# wall time, CPU time (user+sys: steadier than wall time on a shared machine), MB/s by wall
# and by CPU time, and the peak RSS, then the after/before ratios.
set -euo pipefail
A=${1:?usage: before_after.sh BIN_BEFORE BIN_AFTER [CAPTURE] [RUNS]}
B=${2:?usage: before_after.sh BIN_BEFORE BIN_AFTER [CAPTURE] [RUNS]}
CAPTURE=${3:-/var/tmp/gomodwatch-bench.pcap}
RUNS=${4:-5}
SIZE=$(stat -L -c %s "$CAPTURE")
TMP=$(mktemp -d /tmp/gmw-ba.XXXXXX)
trap 'rm -rf "$TMP"' EXIT

# one BIN MODE: appends "wall cpu rss_kib" to $TMP/BIN-MODE
one() {
    local bin=$1 mode=$2 args=()
    [[ $mode == spine ]] && args=(--no-hash)
    local t0 t1
    t0=$(date +%s%N)
    /usr/bin/time -f '%U %S %M' -o "$TMP/t" "$bin" -r "$CAPTURE" --json "${args[@]}" > /dev/null
    t1=$(date +%s%N)
    read -r u s m < "$TMP/t"
    echo "$(( (t1 - t0) / 1000000 )) $(echo "$u + $s" | bc) $m" >> "$TMP/$(basename "$bin")-$mode"
}

for mode in spine full; do
    "$A" -r "$CAPTURE" --json --no-hash > /dev/null   # page cache
    for _ in $(seq "$RUNS"); do
        one "$A" "$mode"
        one "$B" "$mode"
    done
done

median() { sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
declare -A WALL CPU
for mode in spine full; do
    for bin in "$A" "$B"; do
        f="$TMP/$(basename "$bin")-$mode"
        wall=$(cut -d' ' -f1 "$f" | median)
        cpu=$(cut -d' ' -f2 "$f" | median)
        rss=$(cut -d' ' -f3 "$f" | sort -n | tail -1)
        WALL[$bin-$mode]=$wall; CPU[$bin-$mode]=$cpu
        printf '%-6s %-40s wall %6d ms (%5.0f MB/s)  cpu %6.2f s (%5.0f MB/s)  peak RSS %5.1f MiB\n' \
            "$mode" "$bin" "$wall" "$(echo "$SIZE / $wall / 1000" | bc -l)" "$cpu" \
            "$(echo "$SIZE / $cpu / 1000000" | bc -l)" "$(echo "$rss / 1024" | bc -l)"
    done
    printf '%-6s after/before: wall %.3f, cpu %.3f\n' "$mode" \
        "$(echo "${WALL[$B-$mode]} / ${WALL[$A-$mode]}" | bc -l)" \
        "$(echo "${CPU[$B-$mode]} / ${CPU[$A-$mode]}" | bc -l)"
done
