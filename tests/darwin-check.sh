#!/usr/bin/env bash
# Type-checks the whole workspace for macOS (aarch64-apple-darwin and x86_64-apple-darwin),
# every target (library, binary, tests, benches), with warnings as errors: a change that
# breaks the macOS build fails CI here, on Linux, with no Mac.
#
# How: Debian's rustc-web (1.96, /usr/bin/rustc) ships its standard library's source
# (rust-web-src), so cargo can build std for a darwin target (-Zbuild-std; RUSTC_BOOTSTRAP=1
# unlocks the unstable flag on a stable compiler). `cargo check` stops before code generation
# of our crates and never links, so nothing here needs Apple's SDK or linker.
#
# What has never happened: linking, running, or capturing on a Mac (README, "macOS").
#
# The std build and the dependencies are cached in their own target directory (target/darwin,
# or $GMW_DARWIN_TARGET_DIR), so a second run on the same machine only re-checks what changed.
#
# Cost, measured on a 2-core machine shared with other jobs (CPU time is the firm figure):
# from an empty target/darwin, about 12 CPU-minutes for both targets (aarch64 with the host's
# build scripts and proc-macros 5.9, x86_64 5.1; roughly a third is the host's proc-macros, a
# third checking the dependencies, a tenth building std): an estimated 6-7 minutes on two idle
# cores (wall time here was 19 + 14 min at a load of ~20; no idle machine was measured);
# with target/darwin kept, 3 s when nothing changed and ~16 CPU-seconds after an edit to the
# binary's sources.
set -euo pipefail
cd "$(dirname "$0")/.."

rustc=/usr/bin/rustc
if [ ! -x "$rustc" ] || [ ! -d /usr/lib/rustlib/src/rust/library ]; then
  echo "darwin-check: needs /usr/bin/rustc and its library source (apt-get install rustc-web rust-web-src; tests/deps.sh --test installs them)" >&2
  exit 1
fi
target_dir=${GMW_DARWIN_TARGET_DIR:-$PWD/target/darwin}
stubs=$target_dir/stub-bin
mkdir -p "$stubs"

# Stand-ins for the C compiler and archiver that cc-rs calls from the build scripts of
# dependencies with C or assembly parts (ring). No Apple toolchain exists here, and none is
# needed: `cargo check` never links, so the objects and archives cc-rs asks for are never
# read. The compiler writes an empty file where `-o` says (and succeeds on anything else,
# such as cc-rs's probes); the archiver writes an empty `ar` archive. Real C code is compiled
# only on Linux, by the normal build.
cat >"$stubs/cc" <<'EOF'
#!/bin/sh
# darwin-check's stand-in C compiler (see tests/darwin-check.sh): writes an empty output file.
out=
while [ $# -gt 0 ]; do
  case "$1" in
    -o) out=$2; shift ;;
    -o*) out=${1#-o} ;;
  esac
  shift
done
[ -z "$out" ] || : >"$out"
EOF
cat >"$stubs/ar" <<'EOF'
#!/bin/sh
# darwin-check's stand-in archiver (see tests/darwin-check.sh): `ar FLAGS ARCHIVE [FILES]`
# leaves an empty archive at ARCHIVE.
[ $# -ge 2 ] && printf '!<arch>\n' >"$2"
exit 0
EOF
chmod +x "$stubs/cc" "$stubs/ar"

# No debug info for the host's build scripts and proc-macros, no incremental data: a cold
# check (CI's) compiles less and writes less.
# The pcap crate's build script reads the libpcap version of the machine it runs on to
# decide which functions to declare; here that would be Linux's. 1.10.1 is what macOS 13-15
# ship in their SDK, so the check sees what a Mac build sees.
for target in aarch64-apple-darwin x86_64-apple-darwin; do
  triple=${target//-/_}
  echo "darwin-check: cargo check --target $target" >&2
  env RUSTC="$rustc" RUSTC_BOOTSTRAP=1 RUSTFLAGS="-D warnings" \
    CARGO_TARGET_DIR="$target_dir" LIBPCAP_VER=1.10.1 \
    CARGO_PROFILE_DEV_DEBUG=0 CARGO_INCREMENTAL=0 \
    "CC_$triple=$stubs/cc" "AR_$triple=$stubs/ar" \
    cargo check -Zbuild-std=std,panic_abort --target "$target" \
    --workspace --all-targets --locked --keep-going --quiet
done
echo "darwin-check: both darwin targets type-check" >&2
