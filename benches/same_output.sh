#!/usr/bin/env bash
# same_output.sh BIN_BEFORE BIN_AFTER [OUTDIR] — do two gomodwatch builds say the same thing?
#
# Replays every capture under captures/ and tests/data (pcap, pcapng, and compressed ones)
# with each binary, three times per file: `--json` with its lines sorted (events of one time
# may come in either order across threads; the set must be the same), `--report`, and
# `--report` with the go environment recorded in NAME.json (`--go-env`), when there is one. A capture
# with a NAME.keylog beside it is replayed with `--tls-keylog`. Outputs are compared byte
# for byte and stored under OUTDIR (default: a temporary folder, removed at the end) as
# OUTDIR/{before,after}/PATH.{json,report,goenv}, labelled by the capture's path so that two
# builds of the same name never share a sample.
#
# The capture_file fuzz corpus (fuzz/corpus/capture_file, tests/data/fuzz-regressions/
# capture_file: truncated, damaged and odd capture files, seeded from captures/) is replayed
# too, `--json` sorted and `--report`: it is what the reader's sniffing and damage recovery
# see, which the recordings alone do not.
#
# Last, the command line itself: the help of every command and the usage errors clap gives
# for flags that need another (`--keylog` without `--mitm`, ...), run as `gomodwatch`.
#
# SAME_OUTPUT_ONLY=REGEX compares only the capture files whose path (relative to the
# repository) matches REGEX (grep -E), and the command lines only if it matches "usage"
# (tests/bench_scripts.rs seeds differences on a few captures this way).
#
# Prints one line per capture that differs (with the first differing lines) and a total;
# exits 1 if any output differs, 0 if all are identical, 2 on bad usage.
set -euo pipefail
usage="usage: same_output.sh BIN_BEFORE BIN_AFTER [OUTDIR]"
A=$(realpath "${1:?$usage}")
B=$(realpath "${2:?$usage}")
[ -x "$A" ] && [ -x "$B" ] || { echo "same_output: both binaries must be executable" >&2; exit 2; }
ROOT=$(cd "$(dirname "$0")/.." && pwd)
if [ -n "${3:-}" ]; then
    OUT=$3
    mkdir -p "$OUT"
else
    OUT=$(mktemp -d /tmp/gmw-same.XXXXXX)
    trap 'rm -rf "$OUT"' EXIT
fi
# No ./go.sum in the working directory: gomodwatch would read it by default.
WORK=$(mktemp -d /tmp/gmw-same-cwd.XXXXXX)
trap 'rm -rf "$WORK"; [ -n "${3:-}" ] || rm -rf "$OUT"' EXIT

captures() {
    find "$ROOT/captures" "$ROOT/tests/data" -type f \
        \( -name '*.pcap' -o -name '*.pcapng' -o -name '*.pcap.gz' -o -name '*.pcapng.gz' \
           -o -name '*.pcap.zst' -o -name '*.pcapng.zst' -o -name '*.pcap.xz' -o -name '*.pcapng.xz' \) |
        sort | only
}

# only: the paths on stdin that SAME_OUTPUT_ONLY lets through (all without it).
only() {
    if [ -n "${SAME_OUTPUT_ONLY:-}" ]; then
        sed "s|^$ROOT/||" | { grep -E -- "$SAME_OUTPUT_ONLY" || true; } | sed "s|^|$ROOT/|"
    else
        cat
    fi
}

# Capture files from the fuzz corpus: no extension, no metadata beside them. With
# SAME_OUTPUT_NO_CORPUS=1, only the regressions (tests/data), not fuzz/corpus (about 300 files:
# most of the time of a run; tests/bench_scripts.rs leaves them out in CI).
damaged() {
    local dirs=("$ROOT/tests/data/fuzz-regressions/capture_file")
    [ -n "${SAME_OUTPUT_NO_CORPUS:-}" ] || dirs=("$ROOT/fuzz/corpus/capture_file" "${dirs[@]}")
    find "${dirs[@]}" -type f 2>/dev/null | sort | only
}

# outputs BIN SIDE CAPTURE [KINDS]: writes SIDE/REL.json, SIDE/REL.report and (unless KINDS
# leaves it out) SIDE/REL.goenv
outputs() {
    local bin=$1 side=$2 cap=$3 kinds=${4:-json report goenv}
    local rel=${cap#"$ROOT"/}
    local base=${cap%.gz}; base=${base%.zst}; base=${base%.xz}
    base=${base%.pcapng}; base=${base%.pcap}
    local args=(-r "$cap")
    [ -f "$base.keylog" ] && args+=(--tls-keylog "$base.keylog")
    mkdir -p "$OUT/$side/$(dirname "$rel")"
    (cd "$WORK" && "$bin" "${args[@]}" --json 2>&1 | LC_ALL=C sort) > "$OUT/$side/$rel.json" || true
    (cd "$WORK" && "$bin" "${args[@]}" --report 2>&1) > "$OUT/$side/$rel.report" || true
    [[ $kinds == *goenv* ]] || return 0
    # With the go command's environment from the recording's metadata, as a user who knows
    # it would give it: the judgements that depend on GOPROXY, GOPRIVATE, GOSUMDB run too.
    local env=()
    if [ -f "$base.json" ]; then
        mapfile -t env < <(python3 - "$base.json" <<'PY'
import json, sys
meta = json.load(open(sys.argv[1]))
for k, v in sorted((meta.get("env") or {}).items()):
    if k in ("GOPROXY", "GOPRIVATE", "GONOPROXY", "GONOSUMDB", "GOINSECURE", "GOSUMDB", "GOFLAGS"):
        print(f"--go-env\n{k}={v}")
PY
)
    fi
    (cd "$WORK" && "$bin" "${args[@]}" "${env[@]}" --report 2>&1) > "$OUT/$side/$rel.goenv" || true
}

n=0
outs=0
differ=0
# compare CAPTURE KINDS: both builds' outputs of one capture, each kind byte for byte.
compare() {
    local cap=$1 kinds=$2 kind
    local rel=${cap#"$ROOT"/}
    # The two builds side by side (two cores: half the wall time).
    outputs "$A" before "$cap" "$kinds" &
    local first=$!
    outputs "$B" after "$cap" "$kinds"
    wait "$first"
    for kind in $kinds; do
        outs=$((outs + 1))
        if ! cmp -s "$OUT/before/$rel.$kind" "$OUT/after/$rel.$kind"; then
            differ=$((differ + 1))
            echo "DIFFERS $rel ($kind):"
            # (diff exits 1 here: not the script's end under set -e and pipefail.)
            { diff "$OUT/before/$rel.$kind" "$OUT/after/$rel.$kind" || true; } | head -6 | sed 's/^/    /'
        fi
    done
}
while IFS= read -r cap; do
    compare "$cap" "json report goenv"
    n=$((n + 1))
done < <(captures)
[ "$n" -gt 0 ] || { echo "same_output: no captures found under $ROOT" >&2; exit 2; }
m=0
while IFS= read -r cap; do
    compare "$cap" "json report"
    m=$((m + 1))
done < <(damaged)
# The command line: help texts, and what clap refuses before anything runs (exit status too).
usages=(
    "--help" "-h" "--version" "run --help" "run -h" "ca --help" "ca init --help"
    "ca path --help" "ca show --help" "ca trust --help" "ca untrust --help"
    "--keylog k.log -r none.pcap" "--upstream-proxy http://127.0.0.1:1 -r none.pcap"
    "--upstream-proxy nonsense --mitm" "--mitm-timeouts head=1s -r none.pcap"
    "--mitm-timeouts nonsense --mitm" "--upstream-ca ca.pem -r none.pcap"
    "run" "run --keylog" "--mitm -r none.pcap" "--bogus"
)
# Both called `gomodwatch` (clap names the program after argv[0]); none of these may start
# anything, but a build that did is stopped after 10 s (and differs).
mkdir -p "$WORK/before" "$WORK/after"
ln -s "$A" "$WORK/before/gomodwatch"
ln -s "$B" "$WORK/after/gomodwatch"
u=0
if [ -n "${SAME_OUTPUT_ONLY:-}" ] && ! grep -qE -- "$SAME_OUTPUT_ONLY" <<< usage; then
    usages=()
fi
for args in "${usages[@]}"; do
    u=$((u + 1))
    for side in before after; do
        mkdir -p "$OUT/$side/usage"
        # shellcheck disable=SC2086 # the words of $args are the arguments
        (cd "$WORK" && timeout 10 "$WORK/$side/gomodwatch" $args 2>&1; echo "exit status $?") \
            > "$OUT/$side/usage/$u" || true
    done
    outs=$((outs + 1))
    if ! cmp -s "$OUT/before/usage/$u" "$OUT/after/usage/$u"; then
        differ=$((differ + 1))
        echo "DIFFERS gomodwatch $args:"
        { diff "$OUT/before/usage/$u" "$OUT/after/usage/$u" || true; } | head -6 | sed 's/^/    /'
    fi
done
echo "same_output: $n captures, $m fuzz-corpus capture files and ${#usages[@]} command lines, $outs outputs compared, $differ differ"
[ "$differ" -eq 0 ]
