#!/usr/bin/env bash
# instructions.sh BIN_BEFORE BIN_AFTER [CAPTURE...] — replay instruction counts of two builds.
#
# Wall time on this shared machine moves by tens of percent between runs; valgrind's count
# of instructions executed does not (it is the same whatever else runs), so this is how two
# builds are compared for speed: `BIN -r CAPTURE --json > /dev/null` under
# `valgrind --tool=callgrind`, once hashing the zips and once with `--no-hash`, every
# thread's instructions counted ("Collected", Ir). A capture with a NAME.keylog beside it is
# replayed with `--tls-keylog`, as benches/same_output.sh does. Default captures: every one
# under captures/ and tests/data, and the large recorded one
# (/var/tmp/gomodwatch-bench.pcap, benches/record_large.sh) if it exists.
#
# Prints one line per capture and mode (before, after, after/before), then the sum of each
# mode over all captures. Exits 1 if any ratio, or either sum's, is above MAX_RATIO
# (default 1.02: "within 2 % of before"), 0 otherwise, 2 on bad usage or a failed count.
# A ratio below 1/MAX_RATIO is only reported (FASTER), never a failure.
set -euo pipefail
usage="usage: instructions.sh BIN_BEFORE BIN_AFTER [CAPTURE...]"
A=$(realpath "${1:?$usage}")
B=$(realpath "${2:?$usage}")
shift 2
[ -x "$A" ] && [ -x "$B" ] || { echo "instructions.sh: both binaries must be executable" >&2; exit 2; }
MAX_RATIO=${MAX_RATIO:-1.02}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
command -v valgrind >/dev/null || { echo "instructions.sh: valgrind missing (apt-get install valgrind)" >&2; exit 2; }
caps=()
for c in "$@"; do
    caps+=("$(realpath "$c")")   # the replays run in an empty directory
done
if [ ${#caps[@]} -eq 0 ]; then
    mapfile -t caps < <(find "$ROOT/captures" "$ROOT/tests/data" -type f \
        \( -name '*.pcap' -o -name '*.pcapng' -o -name '*.pcap.gz' -o -name '*.pcapng.gz' \
           -o -name '*.pcap.zst' -o -name '*.pcapng.zst' -o -name '*.pcap.xz' -o -name '*.pcapng.xz' \) |
        sort)
    [ -f /var/tmp/gomodwatch-bench.pcap ] && caps+=(/var/tmp/gomodwatch-bench.pcap)
fi
[ ${#caps[@]} -gt 0 ] || { echo "instructions.sh: no captures" >&2; exit 2; }
# An empty working directory: no ./go.sum for gomodwatch to read.
TMP=$(mktemp -d /tmp/gmw-instr.XXXXXX)
trap 'rm -rf "$TMP"' EXIT

# count BIN CAPTURE ARGS...: "INSTRUCTIONS EXIT_STATUS" of one replay (all threads).
count() {
    local bin=$1 cap=$2 status=0
    shift 2
    (cd "$TMP" && valgrind --tool=callgrind --callgrind-out-file="$TMP/out" \
        "$bin" -r "$cap" --json "$@" > /dev/null 2> "$TMP/log") || status=$?
    local n
    n=$(sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$TMP/log")
    [ -n "$n" ] || { echo "instructions.sh: no count for $bin -r $cap $*:" >&2; tail -5 "$TMP/log" >&2; exit 2; }
    echo "$n $status"
}

# verdict BEFORE AFTER: the ratio, and a mark when it is outside the bound.
verdict() {
    awk -v a="$1" -v b="$2" -v max="$MAX_RATIO" 'BEGIN {
        r = b / a
        printf "%.4f%s", r, (r > max ? "  ABOVE" : (r < 1 / max ? "  FASTER" : ""))
    }'
}

printf '%-46s %-8s %13s %13s %s\n' capture mode before after after/before
declare -A SUM_A SUM_B
above=0
for cap in "${caps[@]}"; do
    rel=${cap#"$ROOT"/}
    base=${cap%.gz}; base=${base%.zst}; base=${base%.xz}
    base=${base%.pcapng}; base=${base%.pcap}
    for mode in hashed no-hash; do
        args=()
        [ -f "$base.keylog" ] && args+=(--tls-keylog "$base.keylog")
        [ "$mode" = no-hash ] && args+=(--no-hash)
        r=$(count "$A" "$cap" "${args[@]}")
        read -r a sa <<< "$r"
        r=$(count "$B" "$cap" "${args[@]}")
        read -r b sb <<< "$r"
        # Two builds that end a replay differently did not do the same work: no comparison.
        # (A replay that fails in both, a damaged capture, is compared, and marked.)
        if [ "$sa" != "$sb" ]; then
            echo "instructions.sh: $rel ($mode): exit status $sa before, $sb after" >&2
            exit 2
        fi
        SUM_A[$mode]=$(( ${SUM_A[$mode]:-0} + a ))
        SUM_B[$mode]=$(( ${SUM_B[$mode]:-0} + b ))
        v=$(verdict "$a" "$b")
        [[ $v == *ABOVE ]] && above=$((above + 1))
        [ "$sa" = 0 ] || v="$v  (both exit $sa)"
        printf '%-46s %-8s %13s %13s %s\n' "$rel" "$mode" "$a" "$b" "$v"
    done
done
for mode in hashed no-hash; do
    v=$(verdict "${SUM_A[$mode]}" "${SUM_B[$mode]}")
    [[ $v == *ABOVE ]] && above=$((above + 1))
    printf '%-46s %-8s %13s %13s %s\n' "sum of ${#caps[@]} captures" "$mode" \
        "${SUM_A[$mode]}" "${SUM_B[$mode]}" "$v"
done
echo "instructions.sh: $above of $(( 2 * ${#caps[@]} + 2 )) ratios above $MAX_RATIO"
[ "$above" -eq 0 ]
