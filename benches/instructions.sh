#!/usr/bin/env bash
# instructions.sh BIN_BEFORE BIN_AFTER [CAPTURE...] — replay instruction counts of two builds.
#
# Wall time on this shared machine moves by tens of percent between runs; valgrind's count
# of instructions executed does not (it is the same whatever else runs), so this is how two
# builds are compared for speed: `BIN -r CAPTURE --json > /dev/null` under
# `valgrind --tool=callgrind`, once hashing the zips and once with `--no-hash`, every
# thread's instructions counted. Default captures: the three largest under captures/, and
# the large recorded one (/var/tmp/gomodwatch-bench.pcap, benches/record_large.sh) if it
# exists. Prints one line per capture and mode: before, after, and the change in percent.
set -euo pipefail
usage="usage: instructions.sh BIN_BEFORE BIN_AFTER [CAPTURE...]"
A=$(realpath "${1:?$usage}")
B=$(realpath "${2:?$usage}")
shift 2
ROOT=$(cd "$(dirname "$0")/.." && pwd)
command -v valgrind >/dev/null || { echo "instructions.sh: valgrind missing (apt-get install valgrind)" >&2; exit 2; }
caps=("$@")
if [ ${#caps[@]} -eq 0 ]; then
    mapfile -t caps < <(ls -S "$ROOT"/captures/*.pcap "$ROOT"/captures/*.pcapng | head -3)
    [ -f /var/tmp/gomodwatch-bench.pcap ] && caps+=(/var/tmp/gomodwatch-bench.pcap)
fi
TMP=$(mktemp -d /tmp/gmw-instr.XXXXXX)
trap 'rm -rf "$TMP"' EXIT

# count BIN CAPTURE ARGS...: instructions of one replay (all threads).
count() {
    local bin=$1 cap=$2
    shift 2
    (cd "$TMP" && valgrind --tool=callgrind --callgrind-out-file="$TMP/out" \
        "$bin" -r "$cap" --json "$@" > /dev/null 2> "$TMP/log")
    sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$TMP/log"
}

printf '%-40s %-9s %15s %15s %8s\n' capture mode before after change
for cap in "${caps[@]}"; do
    for mode in hashed no-hash; do
        args=()
        [ "$mode" = no-hash ] && args=(--no-hash)
        a=$(count "$A" "$cap" "${args[@]}")
        b=$(count "$B" "$cap" "${args[@]}")
        printf '%-40s %-9s %15s %15s %+7.2f%%\n' "$(basename "$cap")" "$mode" "$a" "$b" \
            "$(echo "scale=4; ($b - $a) * 100 / $a" | bc)"
    done
done
