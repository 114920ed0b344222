#!/usr/bin/env bash
# tests/fuzz.sh [SECONDS] — the fuzzing CI runs (tests/run-all.sh): every cargo-fuzz target
# built once (cargo-fuzz, libFuzzer; no sanitizer, debug assertions on), its committed corpus
# (fuzz/corpus/TARGET) and fixed crashes (tests/data/fuzz-regressions/TARGET) replayed, then
# SECONDS of fuzzing each (default 10), less when the build left too little of the budget:
# everything, build included, is kept within GMW_FUZZ_BUDGET seconds (default 240; each
# target still gets 2 s). New inputs go to a temporary directory: CI never
# writes the committed corpus. Exit status non-zero on a build failure or on any crash,
# timeout or out-of-memory, whose input is printed (base64) to be committed as a regression.
#
# Works on stable: RUSTC_BOOTSTRAP=1 lets cargo-fuzz's flags through (-Z flags; no sanitizer
# runtime is needed with `-s none`). FUZZ_TARGET_DIR (default fuzz/target) keeps the build
# between runs: cache it in CI to skip most of the build.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SECS=${1:-10}
case $SECS in *[!0-9]*|'') echo "usage: tests/fuzz.sh [SECONDS]" >&2; exit 2 ;; esac
command -v cargo-fuzz >/dev/null || { echo "fuzz.sh: cargo-fuzz missing (tests/deps.sh --test installs it)" >&2; exit 2; }
cd "$ROOT/fuzz"
export CARGO_TARGET_DIR=${FUZZ_TARGET_DIR:-$ROOT/fuzz/target}
# The default (stable) toolchain, as on CI machines, even where a nightly is installed.
export RUSTC_BOOTSTRAP=1
t0=$(date +%s)
cargo fuzz build -O -a -s none
echo "fuzz.sh: built the targets in $(( $(date +%s) - t0 )) s" >&2
BIN=$CARGO_TARGET_DIR/x86_64-unknown-linux-gnu/release
targets=(fuzz_targets/*.rs)
left=$(( ${GMW_FUZZ_BUDGET:-240} - ($(date +%s) - t0) - 5 * ${#targets[@]} ))
per=$(( left / ${#targets[@]} ))
[ "$per" -le "$SECS" ] || per=$SECS
[ "$per" -ge 2 ] || per=2
[ "$per" = "$SECS" ] || echo "fuzz.sh: $per s per target to stay within the budget" >&2
SECS=$per
TMP=$(mktemp -d /tmp/gmw-fuzz.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
fail=0
for src in "${targets[@]}"; do
  t=$(basename "$src" .rs)
  mkdir -p "$TMP/$t" "$TMP/artifacts-$t"
  dirs=("corpus/$t")
  [ -d "$ROOT/tests/data/fuzz-regressions/$t" ] && dirs+=("$ROOT/tests/data/fuzz-regressions/$t")
  opts=(-timeout=10 -rss_limit_mb=2048 -max_len=65536 -artifact_prefix="$TMP/artifacts-$t/")
  if ! "$BIN/$t" "${opts[@]}" -runs=0 "${dirs[@]}" > "$TMP/$t.replay.log" 2>&1 ||
     ! "$BIN/$t" "${opts[@]}" -max_total_time="$SECS" -print_final_stats=1 "$TMP/$t" "${dirs[@]}" \
         > "$TMP/$t.log" 2>&1; then
    fail=1
    echo "fuzz.sh: $t FAILED" >&2
    tail -40 "$TMP/$t.replay.log" "$TMP/$t.log" 2>/dev/null >&2 || true
    for a in "$TMP/artifacts-$t"/*; do
      [ -f "$a" ] || continue
      echo "fuzz.sh: $t input $(basename "$a") (base64; commit it under tests/data/fuzz-regressions/$t/):" >&2
      base64 -w 76 "$a" >&2
    done
    continue
  fi
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$TMP/$t.log" | grep -o '[0-9]*$' || echo '?')
  echo "fuzz.sh: $t ok ($execs executions in ${SECS} s)" >&2
done
echo "fuzz.sh: done in $(( $(date +%s) - t0 )) s" >&2
exit $fail
