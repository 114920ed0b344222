#!/usr/bin/env bash
# record.sh [--out DIR] [--gmw BIN] [--list] [--keep-going] [FILTER...]
# Records the go-command matrix into captures/matrix/ (root: network namespaces, tcpdump).
# See tests/matrix/README.md. FILTER: a glob or substring of case names (`--list` shows them).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [ "$(id -u)" != 0 ] && [[ " $* " != *" --list "* ]]; then
  exec sudo -E env "PATH=$PATH" "$0" "$@"
fi
exec python3 "$here/recorder/matrix.py" "$@"
