#!/usr/bin/env bash
# System packages for the tests, the demo and the interop suite (Debian 12). Idempotent.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
need=(iproute2 iputils-ping tcpdump iperf3 strongswan-charon strongswan-swanctl strongswan-pki
      libstrongswan-standard-plugins libstrongswan-extra-plugins libcharon-extra-plugins)
missing=()
for p in "${need[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then echo "install-system-deps: need root to install: ${missing[*]}" >&2; exit 1; fi
  apt-get -o DPkg::Lock::Timeout=600 update
  apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends "${missing[@]}"
fi
