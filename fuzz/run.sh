#!/usr/bin/env bash
# fuzz/run.sh SECONDS [TARGET[:SECONDS]...] — fuzz each target (default: all) for SECONDS (or
# its own), one after another, at the lowest priority. Builds with cargo-fuzz (nightly if installed, else stable
# with RUSTC_BOOTSTRAP=1), no sanitizer (the code under test is safe Rust; panics, hangs,
# runaway memory are what is looked for), debug assertions on (integer overflow panics).
#
# New inputs go to fuzz/work/TARGET (the committed fuzz/corpus/TARGET is read, not written),
# crashes to fuzz/artifacts/TARGET/, libFuzzer's output to fuzz/logs/TARGET.log; a line per
# target (execs, coverage, corpus, crashes) is appended to fuzz/logs/summary.tsv.
set -euo pipefail
cd "$(dirname "$0")"
DEFAULT_SECS=${1:?usage: fuzz/run.sh SECONDS [TARGET[:SECONDS]...]}
shift
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=($(ls fuzz_targets | sed 's/\.rs$//'))
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target}
TOOLCHAIN=()
if rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
  TOOLCHAIN=(+nightly)
else
  export RUSTC_BOOTSTRAP=1
fi
# The build runs at normal priority (it is short next to the runs); the fuzzers at nice 19.
cargo "${TOOLCHAIN[@]}" fuzz build -O -a -s none >/dev/null 2>logs-build.tmp \
  || { cat logs-build.tmp >&2; rm -f logs-build.tmp; exit 1; }
rm -f logs-build.tmp
BIN=$CARGO_TARGET_DIR/x86_64-unknown-linux-gnu/release
mkdir -p logs
for spec in "${TARGETS[@]}"; do
  t=${spec%%:*}
  SECS=$DEFAULT_SECS
  [ "$t" = "$spec" ] || SECS=${spec#*:}
  mkdir -p "work/$t" "artifacts/$t"
  start=$(date -u +%FT%TZ)
  # A crash stops libFuzzer: run again (new inputs kept) until SECS are spent in all.
  : > "logs/$t.log"
  t0=$(date +%s); execs=0; rc=0; runs=0
  while left=$(( SECS - ($(date +%s) - t0) )); [ "$left" -gt 5 ] && [ $runs -lt 8 ]; do
    runs=$((runs + 1))
    set +e
    nice -n 19 "$BIN/$t" "work/$t" "corpus/$t" -max_total_time="$left" -timeout=10 \
      -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 -artifact_prefix="artifacts/$t/" \
      > "logs/$t.run" 2>&1
    r=$?
    set -e
    cat "logs/$t.run" >> "logs/$t.log"
    [ $r = 0 ] || rc=$r
    n=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "logs/$t.run" | grep -o '[0-9]*$' || true)
    execs=$((execs + ${n:-0}))
  done
  rm -f "logs/$t.run"
  secs=$(( $(date +%s) - t0 ))
  last=$(grep -E '^#[0-9]+' "logs/$t.log" | tail -1)
  cov=$(echo "$last" | grep -o 'cov: [0-9]*' | grep -o '[0-9]*' || true)
  ft=$(echo "$last" | grep -o 'ft: [0-9]*' | grep -o '[0-9]*' || true)
  corp=$(echo "$last" | grep -o 'corp: [0-9]*/[0-9]*[a-zA-Z]*' | sed 's/corp: //' || true)
  crashes=$(ls "artifacts/$t" | wc -l)
  printf '%s\t%s\t%ss\truns='"$runs"'\trc=%s\texecs=%s\tcov=%s\tft=%s\tcorpus=%s\tartifacts=%s\n' \
    "$start" "$t" "$secs" "$rc" "$execs" "${cov:-?}" "${ft:-?}" "${corp:-?}" "$crashes" \
    | tee -a logs/summary.tsv
done
