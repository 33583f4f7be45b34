#!/bin/sh
# PID 1 inside user-mode-linux (../shared/INTEROP.md §2b). The guest's / is the host's / (hostfs, read-only).
# Kernel command line words (read from /proc/cmdline):
#   tsu.umlroot=DIR   the unpacked user-mode-linux package (modules under DIR/usr/lib/uml/modules/<ver>)
#   tsu.out=DIR       host directory mounted read-write at the same path (results, captures, exit status)
#   tsu.script=FILE   the scenario script to run (sh FILE); its exit status goes to DIR/exit-status
#   tsu.repo=DIR      the tsipsec checkout (scripts, dist/, node_modules); mounted again from the host
#                     when the tmpfs mounts below hide it (a clone under /tmp, as CI may make)
# Everything the scenario writes elsewhere lives on the guest's tmpfs and vanishes at poweroff.
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export PATH
mount -t proc proc /proc
mount -t sysfs sysfs /sys
read T_INIT _ </proc/uptime
for d in /run /tmp /var/tmp /var/log /var/lib /root; do mount -t tmpfs tmpfs "$d"; done
# The kernel mounts devtmpfs on /dev itself (CONFIG_DEVTMPFS_MOUNT); mount one only if it did not.
[ -e /dev/null ] || mount -t devtmpfs devtmpfs /dev 2>/dev/null || mount -t tmpfs tmpfs /dev
mkdir -p /dev/pts /dev/shm /dev/net
mount -t devpts devpts /dev/pts 2>/dev/null
mount -t tmpfs tmpfs /dev/shm
# Without devtmpfs in this kernel, /dev is a bare tmpfs: make the nodes the daemons open.
for n in "null 1 3" "zero 1 5" "full 1 7" "random 1 8" "urandom 1 9" "tty 5 0" "net/tun 10 200"; do
  set -- $n
  [ -e "/dev/$1" ] || mknod -m 666 "/dev/$1" c "$2" "$3"
done
mount -t tmpfs tmpfs /var/run 2>/dev/null
arg() { tr ' ' '\n' </proc/cmdline | sed -n "s/^$1=//p" | tail -n1; }
UMLROOT=$(arg tsu.umlroot)
OUT=$(arg tsu.out)
SCRIPT=$(arg tsu.script)
REPO=$(arg tsu.repo)
if [ -n "$REPO" ] && [ ! -d "$REPO" ]; then
  mkdir -p "$REPO"
  mount -t hostfs -o "$REPO" none "$REPO"
fi
mkdir -p "$OUT"
mount -t hostfs -o "$OUT" none "$OUT"
# The host has no /lib/modules to mount over (and / is read-only): give modprobe a root of its own.
ver=$(uname -r)
mkdir -p "/run/modroot/lib/modules/$ver"
mount -t hostfs -o "$UMLROOT/usr/lib/uml/modules/$ver" none "/run/modroot/lib/modules/$ver"
# Modules the kernel requests on demand (crypto templates, xfrm types) come from the same place.
printf '#!/bin/sh\nexec /sbin/modprobe -d /run/modroot "$@"\n' >/run/modprobe
chmod +x /run/modprobe
echo /run/modprobe >/proc/sys/kernel/modprobe
modprobe -d /run/modroot -a ipv6 bridge veth tun xfrm_user xfrm_algo esp4 ah4 xfrm4_tunnel tunnel4 gcm ghash_generic seqiv \
  echainiv ctr authenc authencesn cbc hmac sha256_generic sha512_generic chacha20poly1305 af_key 2>>"$OUT/guest-modprobe.log"
ip link set lo up
read T_MOD _ </proc/uptime
hostname tsu-guest 2>/dev/null
{
  echo "guest: $(uname -r), init started at $T_INIT s, modules loaded at $T_MOD s (uptime)"
  cd "$OUT" && OUT="$OUT" sh "$SCRIPT"
  echo $? >"$OUT/exit-status.tmp"
} >"$OUT/guest.log" 2>&1
mv "$OUT/exit-status.tmp" "$OUT/exit-status"
sync
poweroff -f
