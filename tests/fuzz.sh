#!/usr/bin/env bash
# tests/fuzz.sh [SECONDS] — the fuzzing CI runs (tests/run-all.sh): every cargo-fuzz target
# built once (cargo-fuzz, libFuzzer; no sanitizer, debug assertions on), its committed corpus
# (fuzz/corpus/TARGET) and fixed crashes (tests/data/fuzz-regressions/TARGET) replayed, then
# SECONDS of fuzzing each (default 10). New inputs go to a temporary directory: CI never
# writes the committed corpus. Exit status non-zero on a build failure or on any crash,
# timeout or out-of-memory, whose input is printed (base64) to be committed as a regression.
#
# Works on stable: without a nightly toolchain, RUSTC_BOOTSTRAP=1 lets cargo-fuzz's flags
# through. FUZZ_TARGET_DIR (default fuzz/target) keeps the build between runs.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SECS=${1:-10}
case $SECS in *[!0-9]*|'') echo "usage: tests/fuzz.sh [SECONDS]" >&2; exit 2 ;; esac
command -v cargo-fuzz >/dev/null || { echo "fuzz.sh: cargo-fuzz missing (tests/deps.sh --test installs it)" >&2; exit 2; }
cd "$ROOT/fuzz"
export CARGO_TARGET_DIR=${FUZZ_TARGET_DIR:-$ROOT/fuzz/target}
TOOLCHAIN=()
if rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
  TOOLCHAIN=(+nightly)
else
  export RUSTC_BOOTSTRAP=1
fi
t0=$(date +%s)
cargo "${TOOLCHAIN[@]}" fuzz build -O -a -s none
echo "fuzz.sh: built the targets in $(( $(date +%s) - t0 )) s" >&2
BIN=$CARGO_TARGET_DIR/x86_64-unknown-linux-gnu/release
TMP=$(mktemp -d /tmp/gmw-fuzz.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
fail=0
for src in fuzz_targets/*.rs; do
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
