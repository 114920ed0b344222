#!/usr/bin/env bash
# The fleet benchmark: memory and speed of a replay of 1 000 000 distinct modules, and the
# end-of-run time for thousands of modules that failed everywhere (the module merge).
#
#   benches/fleet.sh                      # build, generate the captures if missing, measure
#   MODULES=200000 benches/fleet.sh       # a smaller run
#   BEFORE=/path/to/old/gomodwatch benches/fleet.sh   # also time an older build
#
# Captures go to ${FLEET_DIR:-/var/tmp/gomodwatch-fleet} (the 1M capture is about 1.1 GB).
# It prints peak RSS (/usr/bin/time -v) and MB/s (capture bytes / wall time, page cache
# warm, output to /dev/null). It fails only if a build or a run fails.
set -euo pipefail
cd "$(dirname "$0")/.."
MODULES=${MODULES:-1000000}
DIR=${FLEET_DIR:-/var/tmp/gomodwatch-fleet}
mkdir -p "$DIR"
nice cargo build --release --bin gomodwatch --example fleet_pcap >&2
BIN=target/release/gomodwatch
GEN=target/release/examples/fleet_pcap

big="$DIR/modules-$MODULES.pcap"
if [ ! -s "$big" ]; then
  echo "generating $big ($MODULES modules, every 10th not found)" >&2
  "$GEN" "$big" "$MODULES" --fail-every 10
fi
for n in 2000 20000; do
  f="$DIR/failed-$n.pcap"
  [ -s "$f" ] || "$GEN" "$f" "$n" --all-fail --proxies 2
done

measure() { # label, then the command; prints "label wall_s peak_MiB"
  local label=$1; shift
  local t; t=$(mktemp)
  /usr/bin/time -v "$@" > /dev/null 2> "$t" || { cat "$t" >&2; rm -f "$t"; return 1; }
  local wall rss
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,a,":"); s=0; for(i=1;i<=n;i++) s=s*60+a[i]; print s}' "$t")
  rss=$(awk -F': ' '/Maximum resident set size/ {printf "%.1f", $2/1024}' "$t")
  rm -f "$t"
  echo "$label $wall $rss"
}

size=$(stat -c %s "$big")
cat "$big" > /dev/null  # page cache
echo
echo "capture: $big, $size bytes, $MODULES modules"
printf '%-44s %9s %9s %12s\n' run wall_s MB/s peak_MiB
for args in "--json" "--json --no-hash" "--report" "--json --max-modules 100000"; do
  read -r _ wall rss < <(measure x "$BIN" -r "$big" $args)
  mbs=$(awk -v b="$size" -v s="$wall" 'BEGIN { printf "%.0f", b / 1e6 / s }')
  printf '%-44s %9s %9s %12s\n' "-r 1M $args" "$wall" "$mbs" "$rss"
done
echo
echo "end of run with modules not found at either of two proxies (--report):"
printf '%-44s %9s %12s\n' run wall_s peak_MiB
for n in 2000 20000; do
  f="$DIR/failed-$n.pcap"
  read -r _ wall rss < <(measure x "$BIN" -r "$f" --report --max-modules 50000)
  printf '%-44s %9s %12s\n' "this build, $n failed" "$wall" "$rss"
  if [ -n "${BEFORE:-}" ]; then
    read -r _ wall rss < <(measure x "$BEFORE" -r "$f" --report)
    printf '%-44s %9s %12s\n' "BEFORE, $n failed" "$wall" "$rss"
  fi
done
