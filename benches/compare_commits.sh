#!/usr/bin/env bash
# compare_commits.sh [--runs N] OLD_COMMIT [CAPTURE] — an older commit against today's tree,
# interleaved on one capture.
#
# Builds OLD_COMMIT (a git worktree of it under $BENCH_DIR, default /tmp/gmw-bench, with its own
# target dir) and the working tree this script is in (its own target/, uncommitted changes
# included), both `cargo build --release --locked`; copies the two binaries aside, so a rebuild
# during the run cannot swap one; then replays CAPTURE (default /var/tmp/gomodwatch-bench.pcap,
# recorded by benches/record_large.sh) with `-r CAPTURE --json > /dev/null`, hashed (the default)
# and with `--no-hash`, N times each (default 9), in pairs whose order alternates (old,new then
# new,old) so that both builds see the same machine load. Before timing, one run of each build
# checks that both report the same `hash` events (sorted, exchange + h1 + error).
#
# Prints, per mode, the median wall time (ms), CPU time (user+sys, s), system time (s), peak RSS
# (MiB, median of the runs) and MB/s (file bytes / median wall, 1 MB = 10^6 bytes) of each
# build, and the new/old ratios of the medians of wall, CPU and peak RSS.
#
# Targets (environment; a target set to 0 is not checked):
#   MAX_RATIO=1.0        hashed: new/old median wall time at most this
#   MAX_RATIO_NOHASH=0   --no-hash: new/old median wall time at most this
#   MIN_MBPS=0           hashed: today's MB/s (by median wall) at least this
#   MAX_RSS_MIB=0        hashed: today's median peak RSS at most this
# Exit status: 0 when every target is met; 3 when one is missed (each is printed MET/MISSED);
# 2 on bad usage, a failed build, a failed replay or different hashes.
set -euo pipefail
usage() { echo "usage: compare_commits.sh [--runs N] OLD_COMMIT [CAPTURE]" >&2; exit 2; }
RUNS=9
while [[ ${1:-} == --* ]]; do
    case $1 in
        --runs) RUNS=${2:?}; shift 2 ;;
        *) usage ;;
    esac
done
OLD=${1:-}; [[ -n $OLD ]] || usage
CAPTURE=${2:-/var/tmp/gomodwatch-bench.pcap}
MAX_RATIO=${MAX_RATIO:-1.0}
MAX_RATIO_NOHASH=${MAX_RATIO_NOHASH:-0}
MIN_MBPS=${MIN_MBPS:-0}
MAX_RSS_MIB=${MAX_RSS_MIB:-0}
BENCH_DIR=${BENCH_DIR:-/tmp/gmw-bench}
[[ -r $CAPTURE ]] || { echo "compare_commits.sh: cannot read $CAPTURE (record it with benches/record_large.sh)" >&2; exit 2; }
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || usage

REPO=$(cd "$(dirname "$0")/.." && pwd)
SHA=$(git -C "$REPO" rev-parse --verify --quiet "$OLD^{commit}") || { echo "compare_commits.sh: no commit $OLD" >&2; exit 2; }
SHORT=${SHA:0:8}
mkdir -p "$BENCH_DIR"
TMP=$(mktemp -d "$BENCH_DIR/run.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
log() { printf '[compare_commits %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }

# ---------------------------------------------------------------- builds
OLD_TREE=$BENCH_DIR/$SHORT
if [[ ! -d $OLD_TREE ]]; then
    git -C "$REPO" worktree add --detach "$OLD_TREE" "$SHA" >/dev/null 2>&1 \
        || { echo "compare_commits.sh: git worktree add $OLD_TREE failed" >&2; exit 2; }
fi
[[ $(git -C "$OLD_TREE" rev-parse HEAD) == "$SHA" ]] || { echo "compare_commits.sh: $OLD_TREE is not at $SHA" >&2; exit 2; }
log "building $SHORT in $OLD_TREE (release)"
(cd "$OLD_TREE" && cargo build --release --locked --bin gomodwatch -q) || { echo "compare_commits.sh: build of $SHORT failed" >&2; exit 2; }
log "building today's tree in $REPO (release)"
(cd "$REPO" && cargo build --release --locked --bin gomodwatch -q) || { echo "compare_commits.sh: build of today's tree failed" >&2; exit 2; }
cp "$OLD_TREE/target/release/gomodwatch" "$TMP/old"
cp "$REPO/target/release/gomodwatch" "$TMP/new"
NEW_DESC="$(git -C "$REPO" rev-parse --short=8 HEAD)$(git -C "$REPO" diff --quiet HEAD -- . 2>/dev/null || echo +dirty)"

# ---------------------------------------------------------------- same hashes
hashes() {   # hashes BIN OUT: sorted hash events (exchange, h1, error) of one replay
    "$1" -r "$CAPTURE" --json | grep '"type":"hash"' \
        | sed -E 's/.*("exchange":[0-9]+).*("h1":(null|"[^"]*")).*("error":(null|"[^"]*")).*/\1 \2 \4/' \
        | sort > "$2" || { echo "compare_commits.sh: replay with $1 failed" >&2; exit 2; }
}
hashes "$TMP/old" "$TMP/old.hashes"
hashes "$TMP/new" "$TMP/new.hashes"
if ! cmp -s "$TMP/old.hashes" "$TMP/new.hashes"; then
    echo "compare_commits.sh: the two builds report different hashes:" >&2
    diff "$TMP/old.hashes" "$TMP/new.hashes" | head -20 >&2
    exit 2
fi
log "same hash events from both builds: $(wc -l < "$TMP/new.hashes") ($(grep -c '"h1":"' "$TMP/new.hashes" || true) with an h1)"

# ---------------------------------------------------------------- timed runs
one() {   # one BUILD MODE: appends "wall_ms cpu_s sys_s rss_kib" to $TMP/BUILD-MODE
    local build=$1 mode=$2 args=() t0 t1 u s m
    [[ $mode == nohash ]] && args=(--no-hash)
    t0=$(date +%s%N)
    /usr/bin/time -f '%U %S %M' -o "$TMP/t" "$TMP/$build" -r "$CAPTURE" --json "${args[@]}" > /dev/null \
        || { echo "compare_commits.sh: $build $mode replay failed" >&2; exit 2; }
    t1=$(date +%s%N)
    read -r u s m < "$TMP/t"
    echo "$(( (t1 - t0) / 1000000 )) $(echo "$u + $s" | bc) $s $m" >> "$TMP/$build-$mode"
}
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
log "timing: $RUNS interleaved pairs per mode on $CAPTURE"
for i in $(seq "$RUNS"); do
    for mode in hash nohash; do
        if (( i % 2 )); then one old $mode; one new $mode; else one new $mode; one old $mode; fi
    done
done

# ---------------------------------------------------------------- report
SIZE=$(stat -L -c %s "$CAPTURE")
median() { sort -g | awk '{v[NR]=$1} END {if (NR % 2) print v[(NR+1)/2]; else print (v[NR/2]+v[NR/2+1])/2}'; }
col() { cut -d' ' -f"$2" "$TMP/$1" | median; }
declare -A M
echo "capture $CAPTURE ($SIZE bytes), $RUNS interleaved pairs per mode; old = $SHORT, new = $NEW_DESC"
# Wall times mean little on a busy machine: say how busy it was ($(nproc) cores).
echo "load average before $LOAD_BEFORE, after $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) cores)"
for mode in hash nohash; do
    for build in old new; do
        f=$build-$mode
        M[$f-wall]=$(col "$f" 1); M[$f-cpu]=$(col "$f" 2); M[$f-sys]=$(col "$f" 3); M[$f-rss]=$(col "$f" 4)
        M[$f-mbps]=$(echo "$SIZE / ${M[$f-wall]} / 1000" | bc -l)
        printf '%-7s %-4s wall %7.1f ms  %6.0f MB/s   cpu %6.3f s (sys %6.3f s)   peak RSS %6.1f MiB\n' \
            "$mode" "$build" "${M[$f-wall]}" "${M[$f-mbps]}" "${M[$f-cpu]}" "${M[$f-sys]}" \
            "$(echo "${M[$f-rss]} / 1024" | bc -l)"
    done
    printf '%-7s new/old: wall %.3f×  cpu %.3f×  peak RSS %.3f×\n' "$mode" \
        "$(echo "${M[new-$mode-wall]} / ${M[old-$mode-wall]}" | bc -l)" \
        "$(echo "${M[new-$mode-cpu]} / ${M[old-$mode-cpu]}" | bc -l)" \
        "$(echo "${M[new-$mode-rss]} / ${M[old-$mode-rss]}" | bc -l)"
done

# The verdict through benches/targets.sh, as every script stating a target (exit 3 on a miss).
source "$(dirname "$0")/targets.sh"
num() { printf '%.4f' "$(echo "$1" | bc -l)"; }   # bc writes .85; targets.sh wants 0.8500
[[ $MAX_RATIO != 0 ]] && target "hashed wall new/old" "$(num "${M[new-hash-wall]} / ${M[old-hash-wall]}")" '<=' "$MAX_RATIO"
[[ $MAX_RATIO_NOHASH != 0 ]] && target "--no-hash wall new/old" "$(num "${M[new-nohash-wall]} / ${M[old-nohash-wall]}")" '<=' "$MAX_RATIO_NOHASH"
[[ $MIN_MBPS != 0 ]] && target "hashed MB/s (new)" "$(num "${M[new-hash-mbps]}")" '>=' "$MIN_MBPS"
[[ $MAX_RSS_MIB != 0 ]] && target "hashed peak RSS MiB (new)" "$(num "${M[new-hash-rss]} / 1024")" '<=' "$MAX_RSS_MIB"
targets_exit
