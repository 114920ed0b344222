#!/usr/bin/env bash
# hostile.sh [SMALL [LARGE]] — time and memory of replaying hostile captures at two sizes.
#
# Generates the captures of tests/hostile.rs (its `generate_captures` test) at SMALL
# and LARGE items each (default 100000 and 1000000: SYNs, half-open flows, pipelined
# requests, flows holding state and out-of-order bytes), replays each with
# `gomodwatch -r FILE --json > /dev/null` under /usr/bin/time, and prints wall seconds, peak
# RSS, microseconds per item and the LARGE/SMALL time ratio. Linear time shows as a ratio
# close to LARGE/SMALL (10 by default); bounded memory as the same RSS at both sizes.
#
# The captures go to a temporary directory (about 1.8 GB at the default sizes) and are
# deleted at the end. Exit status: non-zero if the build, the generator or a replay fails.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
SMALL=${1:-100000}
LARGE=${2:-1000000}
case $SMALL$LARGE in *[!0-9]*) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;; esac
[[ -x /usr/bin/time ]] || { echo "hostile.sh: /usr/bin/time missing (apt-get install time)" >&2; exit 2; }

TMP=$(mktemp -d /tmp/gmw-hostile.XXXXXX)
trap 'rm -rf "$TMP"' EXIT

echo "building: cargo build --release (in $ROOT)" >&2
if ! (cd "$ROOT" && cargo build --release && cargo test --release --no-run --test hostile) \
    > "$TMP/build.log" 2>&1; then
    cat "$TMP/build.log" >&2; echo "hostile.sh: build failed" >&2; exit 1
fi
BIN=$ROOT/target/release/gomodwatch

for n in "$SMALL" "$LARGE"; do
    echo "generating captures with $n items each" >&2
    if ! (cd "$ROOT" && GMW_HOSTILE_DIR="$TMP" GMW_HOSTILE_SCALE=$n \
        cargo test --release --test hostile -- --exact generate_captures) \
        > "$TMP/gen.log" 2>&1; then
        cat "$TMP/gen.log" >&2; echo "hostile.sh: generating captures failed" >&2; exit 1
    fi
done

# replay FILE: sets SECS (wall seconds) and RSS (KiB).
replay() {
    local t0 t1
    t0=$(date +%s%N)
    if ! /usr/bin/time -f %M -o "$TMP/rss" "$BIN" -r "$1" --json > /dev/null 2> "$TMP/stderr"; then
        cat "$TMP/stderr" >&2; echo "hostile.sh: replay of $1 failed" >&2; exit 1
    fi
    t1=$(date +%s%N)
    SECS=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", (b - a) / 1e9 }')
    RSS=$(tail -1 "$TMP/rss")
}

printf '%-14s %9s %8s %9s %8s %7s\n' capture items seconds 'RSS MiB' 'µs/item' ratio
for s in syn-const syn-back syn-spread half-open pipelined everything out-of-order; do
    small_secs=
    for n in "$SMALL" "$LARGE"; do
        replay "$TMP/$s-$n.pcap"
        per=$(awk -v t="$SECS" -v n="$n" 'BEGIN { printf "%.2f", t * 1e6 / n }')
        ratio=-
        if [[ -n $small_secs ]]; then
            ratio=$(awk -v a="$small_secs" -v b="$SECS" 'BEGIN { printf "%.1f", (a > 0 ? b / a : 0) }')
        fi
        printf '%-14s %9d %8s %9.1f %8s %7s\n' "$s" "$n" "$SECS" "$(awk -v k="$RSS" 'BEGIN { print k / 1024 }')" "$per" "$ratio"
        small_secs=$SECS
    done
done
echo "(ratio: time at $LARGE over time at $SMALL; linear is about $((LARGE / SMALL)))"
