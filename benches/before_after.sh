#!/usr/bin/env bash
# before_after.sh BIN_BEFORE BIN_AFTER [CAPTURE] [RUNS] — two gomodwatch builds: same output, then time.
#
# First the output: benches/same_output.sh BIN_BEFORE BIN_AFTER replays every capture under
# captures/ and tests/data (and the capture_file fuzz corpus, and the command line's help and
# usage errors) with both builds and compares sorted `--json`, `--report` and `--report
# --go-env` byte for byte; the differences are printed.
#
# Then the time: replays CAPTURE (default /var/tmp/gomodwatch-bench.pcap, recorded by
# record_large.sh) with `--json > /dev/null`, with and without `--no-hash`, alternating the
# two binaries RUNS times (default 5) so that both see the same machine load. Prints, per
# binary (by its full path) and mode, the median wall time, CPU time (user+sys: steadier
# than wall time on a shared machine), MB/s by wall and by CPU time, and the peak RSS, then
# the after/before ratios. Samples are filed by side (before, after), never by the binary's
# name, so two builds both called `gomodwatch` are two samples; BA_SAMPLES=DIR keeps them
# there as DIR/{before,after}-{spine,full} ("wall_ms cpu_s rss_kib" per run).
#
# Exit status: 0 if the outputs are identical, 1 if any differs (the timings are still
# printed), 2 on bad usage.
set -euo pipefail
usage="usage: before_after.sh BIN_BEFORE BIN_AFTER [CAPTURE] [RUNS]"
[ -n "${1:-}" ] && [ -n "${2:-}" ] || { echo "$usage" >&2; exit 2; }
A=$(realpath "$1")
B=$(realpath "$2")
[ -x "$A" ] && [ -x "$B" ] || { echo "before_after: both binaries must be executable" >&2; exit 2; }
CAPTURE=${3:-/var/tmp/gomodwatch-bench.pcap}
RUNS=${4:-5}
[ -r "$CAPTURE" ] || { echo "before_after: no capture $CAPTURE (benches/record_large.sh records one)" >&2; exit 2; }
case $RUNS in *[!0-9]*|''|0) echo "$usage" >&2; exit 2 ;; esac
HERE=$(cd "$(dirname "$0")" && pwd)
SIZE=$(stat -L -c %s "$CAPTURE")
TMP=$(mktemp -d /tmp/gmw-ba.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
SAMPLES=${BA_SAMPLES:-$TMP/samples}
mkdir -p "$SAMPLES"

same=0
"$HERE/same_output.sh" "$A" "$B" || same=$?
[ "$same" -le 1 ] || { echo "before_after: same_output.sh failed ($same)" >&2; exit 2; }

# one SIDE BIN MODE: appends "wall_ms cpu_s rss_kib" to $SAMPLES/SIDE-MODE
one() {
    local side=$1 bin=$2 mode=$3 args=()
    [[ $mode == spine ]] && args=(--no-hash)
    local t0 t1
    t0=$(date +%s%N)
    /usr/bin/time -f '%U %S %M' -o "$TMP/t" "$bin" -r "$CAPTURE" --json "${args[@]}" > /dev/null
    t1=$(date +%s%N)
    read -r u s m < "$TMP/t"
    echo "$(( (t1 - t0) / 1000000 )) $(echo "$u + $s" | bc) $m" >> "$SAMPLES/$side-$mode"
}

for mode in spine full; do
    rm -f "$SAMPLES/before-$mode" "$SAMPLES/after-$mode"
    "$A" -r "$CAPTURE" --json --no-hash > /dev/null   # page cache
    for _ in $(seq "$RUNS"); do
        one before "$A" "$mode"
        one after "$B" "$mode"
    done
done

median() { sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
declare -A WALL CPU
for mode in spine full; do
    for side in before after; do
        bin=$A; [ "$side" = after ] && bin=$B
        f="$SAMPLES/$side-$mode"
        wall=$(cut -d' ' -f1 "$f" | median)
        cpu=$(cut -d' ' -f2 "$f" | median)
        rss=$(cut -d' ' -f3 "$f" | sort -n | tail -1)
        # A replay under a millisecond (a tiny capture) is timed as 1 ms.
        [ "$wall" -gt 0 ] || wall=1
        WALL[$side-$mode]=$wall; CPU[$side-$mode]=$cpu
        printf '%-6s %-6s %-40s wall %6d ms (%5.0f MB/s)  cpu %6.2f s (%5.0f MB/s)  peak RSS %5.1f MiB\n' \
            "$mode" "$side" "$bin" "$wall" "$(echo "$SIZE / $wall / 1000" | bc -l)" "$cpu" \
            "$(echo "$SIZE / ($cpu + 0.0001) / 1000000" | bc -l)" "$(echo "$rss / 1024" | bc -l)"
    done
    printf '%-6s after/before: wall %.3f, cpu %.3f\n' "$mode" \
        "$(echo "${WALL[after-$mode]} / ${WALL[before-$mode]}" | bc -l)" \
        "$(echo "(${CPU[after-$mode]} + 0.0001) / (${CPU[before-$mode]} + 0.0001)" | bc -l)"
done
if [ "$same" -ne 0 ]; then
    echo "before_after: the two builds' outputs differ (above): the timings compare different work" >&2
    exit 1
fi
