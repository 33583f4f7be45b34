#!/usr/bin/env bash
# System packages for the tests, the demo and the interop suite (Debian 12). Idempotent.
#
# Besides the apt packages, the interop suite needs two packages that are only unpacked, never installed
# (../shared/INTEROP.md §2, §2b): libreswan (it conflicts with strongSwan's packages) and user-mode-linux
# (a Linux 6.1 with esp4/xfrm as an ordinary process, for the scenarios that need kernel ESP). Both go to
# $TSIPSEC_INTEROP_CACHE (default /var/cache/tsipsec-interop): lsroot/ and umlroot/.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
APT=(apt-get -o DPkg::Lock::Timeout=600)
CACHE="${TSIPSEC_INTEROP_CACHE:-/var/cache/tsipsec-interop}"
need=(iproute2 iputils-ping tcpdump iperf3 strongswan-charon strongswan-swanctl strongswan-pki
      libstrongswan-standard-plugins libstrongswan-extra-plugins libcharon-extra-plugins
      socat netcat-openbsd libnss3-tools kmod
      # libreswan's runtime dependencies (it is unpacked with dpkg -x, so apt does not pull them in)
      dns-root-data bind9-host iptables libcurl3-nss libevent-core-2.1-7 libevent-pthreads-2.1-7
      libldns3 libunbound8 libcap-ng0 libnspr4 libnss3 libaudit1 libldap-2.5-0)
missing=()
for p in "${need[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
updated=no
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then echo "install-system-deps: need root to install: ${missing[*]}" >&2; exit 1; fi
  "${APT[@]}" update
  updated=yes
  "${APT[@]}" install -y --no-install-recommends "${missing[@]}"
fi

# unpack <package> <dir> <file that proves it is unpacked>
unpack() {
  local pkg=$1 dir=$2 probe=$3
  [ -e "$dir/$probe" ] && return 0
  if [ "$(id -u)" != 0 ]; then echo "install-system-deps: need root to unpack $pkg into $dir" >&2; exit 1; fi
  mkdir -p "$CACHE/debs"
  if ! ls "$CACHE/debs/${pkg}"_*.deb >/dev/null 2>&1; then
    [ "$updated" = yes ] || { "${APT[@]}" update; updated=yes; }
    (cd "$CACHE/debs" && apt-get download "$pkg")
  fi
  rm -rf "$dir.tmp"
  dpkg -x "$(ls "$CACHE/debs/${pkg}"_*.deb | head -n1)" "$dir.tmp"
  rm -rf "$dir"
  mv "$dir.tmp" "$dir"
}
unpack libreswan "$CACHE/lsroot" usr/libexec/ipsec/pluto
unpack user-mode-linux "$CACHE/umlroot" usr/bin/linux.uml
# pluto forks the hard-coded /usr/libexec/ipsec/addconn: an empty mount point that each pluto instance
# bind-mounts the unpacked directory over in its own mount namespace (INTEROP.md §5).
mkdir -p /usr/libexec/ipsec
