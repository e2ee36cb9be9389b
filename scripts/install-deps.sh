#!/usr/bin/env bash
# Installs the peers that nettool's interop tests and benchmarks run against
# (dig, kdig, delv, nsd and nsd-checkzone, dnssec-keygen, dnssec-signzone and named-checkzone, unbound, dnsperf, nginx, curl, nmap, fping, ping, ip, nft, jq, hyperfine).
# As root it uses apt-get; otherwise it only says what is missing.
set -euo pipefail
pkgs=(bind9-dnsutils bind9-utils knot-dnsutils nsd unbound openssl dnsperf nginx curl nmap fping iputils-ping iproute2 nftables libcap2-bin util-linux shellcheck jq hyperfine procps time socat traceroute mtr-tiny iputils-tracepath prometheus prometheus-blackbox-exporter)
missing=()
for p in "${pkgs[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
  echo "install-deps: missing ${missing[*]} (run as root with apt-get to install)" >&2
  exit 0
fi
echo "install-deps: apt-get install ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
# Debian's packages start their daemons on install where they can; nettool's
# tests start their own on loopback ports, so keep the defaults from starting.
printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
trap 'rm -f /usr/sbin/policy-rc.d' EXIT
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
