#!/usr/bin/env bash
# Every test, as CI runs it: system packages, formatting, lints, then the whole test suite
# (the `ci` profile: optimised, as the replay and live-capture tests push real traffic), then the
# README's install and the .deb installed and run (tests/install.sh), then the fuzz
# targets: corpora replayed and 10 s of fuzzing each (tests/fuzz.sh; GMW_FUZZ_SECONDS
# changes it). The live-capture tests need root (they open interfaces and create network
# namespaces).
set -euo pipefail
cd "$(dirname "$0")/.."
tests/deps.sh --test
if [ "$(id -u)" != 0 ]; then
  echo "run-all: live-capture tests need root; re-running under sudo" >&2
  exec sudo -E env "PATH=$PATH" "$0" "$@"
fi
cargo fmt --all --check
cargo clippy --workspace --all-targets --locked -- -D warnings
# fuzz/ is a workspace of its own: formatted and linted as well (its checks share target/).
(cd fuzz && cargo fmt --check && CARGO_TARGET_DIR=../target cargo clippy --locked --bins -- -D warnings)
tests/darwin-check.sh # macOS type-checked, both architectures (cost: see the script)
cargo test --workspace --profile ci --locked "$@"
tests/install.sh
tests/fuzz.sh "${GMW_FUZZ_SECONDS:-10}"
