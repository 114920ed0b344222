#!/usr/bin/env bash
# fuzz/minimize.sh [BUDGET_BYTES] — adds what the runs found (fuzz/work/TARGET) to the
# committed corpora, small: per target, libFuzzer's -merge=1 picks the inputs of at most 512
# bytes that add coverage over the committed corpus, and the smallest of them are kept up to
# BUDGET_BYTES (default 16384). Seeds (seed-*) stay. Run after fuzz/run.sh (same build).
set -euo pipefail
cd "$(dirname "$0")"
BUDGET=${1:-16384}
BIN=${CARGO_TARGET_DIR:-$PWD/target}/x86_64-unknown-linux-gnu/release
TMP=$(mktemp -d /tmp/gmw-minimize.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
for src in fuzz_targets/*.rs; do
  t=$(basename "$src" .rs)
  [ -d "work/$t" ] || continue
  mkdir -p "$TMP/$t"
  # Inputs the committed corpus already covers are not taken (merge control: corpus first).
  nice -n 19 "$BIN/$t" -merge=1 -max_len=512 -timeout=10 "$TMP/$t" "corpus/$t" "work/$t" \
    > "$TMP/$t.log" 2>&1 || { tail -20 "$TMP/$t.log" >&2; exit 1; }
  for f in corpus/$t/*; do rm -f "$TMP/$t/$(sha1sum "$f" | cut -c1-40)"; done
  used=0; added=0
  while read -r size f; do
    [ $((used + size)) -le "$BUDGET" ] || break
    cp "$f" "corpus/$t/found-$(basename "$f" | cut -c1-16)"
    used=$((used + size)); added=$((added + 1))
  done < <(find "$TMP/$t" -type f -printf '%s %p\n' | sort -n)
  echo "$t: +$added inputs, $used bytes ($(ls "corpus/$t" | wc -l) in corpus/$t)"
done
