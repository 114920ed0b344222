#!/usr/bin/env bash
# mutants.sh [MINUTES] [OUTDIR] — mutation check of the core with cargo-mutants; not part of CI.
#
# Mutates (replaces a function's body with a default, flips a comparison, swaps an operator)
# the code the project's verdicts and reassembly stand on, one mutant at a time, and runs the
# mutated crate's own tests (unit tests and proptests) against each:
#
#   wire:  crates/wire/src/decode/tcp/flow.rs (a TCP connection followed through its
#          segments: handshake, both directions, segments held across directions, FIN, RST)
#   model: crates/model/src/gomod/verdict.rs (a module's outcome and problem from its
#          attempts)
#
# MUTANTS_WIRE / MUTANTS_MODEL (space-separated files) change the scope, e.g. to add
# crates/wire/src/decode/reassembly.rs or crates/model/src/gomod/judgement.rs;
# MUTANTS_SHARD=K/N tests every N-th mutant only (cargo-mutants --shard: 72 + 70 mutants in
# the default scope, 30-60 s each on a shared 2-core machine).
#
# A mutant no test fails on "survives": listed in OUTDIR/mutants.out/missed.txt (and
# benches/README.md, "Mutation check"). Builds use the dev profile (incremental: each
# mutant rebuilds one crate in seconds; debug assertions and overflow checks on). The whole
# run is cut at MINUTES (default 30) with whatever was tested so far reported; each test
# run is cut at 120 s (a mutant that hangs counts as caught, "timeout").
#
# Exit status: 0 when every tested mutant was caught, 2 when some survived (cargo-mutants'
# own), 4 when the time budget ran out first, 1 on a failure to build or run.
set -euo pipefail
cd "$(dirname "$0")/.."
MINUTES=${1:-30}
OUT=${2:-/tmp/gmw-mutants}
case $MINUTES in *[!0-9]*|'') echo "usage: benches/mutants.sh [MINUTES] [OUTDIR]" >&2; exit 2 ;; esac
command -v cargo-mutants >/dev/null || cargo install --locked cargo-mutants
mkdir -p "$OUT"
started=$(date +%s)
left() { echo $(( MINUTES * 60 - ($(date +%s) - started) )); }
rc=0
mutate() { # NAME PACKAGE FILE...
    local name=$1 package=$2; shift 2
    local files=()
    for f in "$@"; do files+=(--file "$f"); done
    local budget; budget=$(left)
    [ "$budget" -gt 60 ] || { echo "mutants.sh: no time left for $name" >&2; rc=4; return; }
    local r=0 shard=()
    [ -z "${MUTANTS_SHARD:-}" ] || shard=(--shard "$MUTANTS_SHARD" --sharding round-robin)
    timeout "$budget" cargo mutants "${shard[@]}" --cap-lints true --package "$package" "${files[@]}" --timeout 120 \
        --build-timeout 600 --jobs 1 --output "$OUT/$name" --no-shuffle || r=$?
    case $r in
        0) ;;
        2|3) [ "$rc" -ne 0 ] || rc=2 ;;
        124) echo "mutants.sh: $name cut at the time budget" >&2; rc=4 ;;
        *) echo "mutants.sh: cargo mutants failed for $name ($r)" >&2; exit 1 ;;
    esac
    for kind in caught missed timeout unviable; do
        printf '%-6s %-9s %s\n' "$name" "$kind" "$(wc -l < "$OUT/$name/mutants.out/$kind.txt" 2>/dev/null || echo 0)"
    done
}
# shellcheck disable=SC2086 # the variables are lists of files
mutate wire gomodwatch-wire ${MUTANTS_WIRE:-crates/wire/src/decode/tcp/flow.rs}
# shellcheck disable=SC2086
mutate model gomodwatch-model ${MUTANTS_MODEL:-crates/model/src/gomod/verdict.rs}
echo "mutants.sh: $(( ($(date +%s) - started) / 60 )) min; surviving mutants: $OUT/*/mutants.out/missed.txt"
exit $rc
