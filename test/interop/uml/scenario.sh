#!/bin/sh
# One kernel-ESP interop cell (../shared/INTEROP.md §2b-§5, §9): runs inside user-mode-linux (guest-init.sh
# starts it) or directly on a host kernel that has ESP. It only ACTS and RECORDS; the vitest side
# (test/interop/harness/kernel-scenario.ts) prepared the configs in $OUT and checks the records.
#
#   netns $P-a  tsipsec      198.18.10.1  (LAN 198.19.1.1 on lo)  a.ipx.test
#   netns $P-w  bridge ${P}br, tcpdump here (the wire)
#   netns $P-b  charon (kernel-netlink) or pluto   198.18.10.2 (LAN 198.19.2.1)  b.ipx.test
#
# Input: $OUT/scenario.env (P PEER INITIATOR MODE RUN REPO NODE LSROOT AUTH), $OUT/ts/ (swanctl.conf,
# x509/...), $OUT/peer/ (strongSwan: etc/strongswan.conf, etc/swanctl/...; libreswan: ipsec.conf,
# ipsec.secrets, ca.pem, b.p12), $OUT/payload.bin (TCP payload).
# Output in $OUT: steps (one "name rc" line per step), ts-status*.json, peer-*.txt, ping-*.txt,
# recv-*.bin, wire.pcap, tcpdump.txt, ts-keys/, ts.log, peer logs.
# Every wait is bounded; daemons are stopped and namespaces removed at the end (trap), whatever failed.
# $OUT/timeline: "name seconds" (guest uptime) for every step and sub-step, to see where a cell's time goes.
# Inside UML each process start and page fault is costly (one CPU, syscalls trapped by the UML kernel), so
# the script starts few processes and overlaps what can overlap: capture, tsipsec and the peer start
# together; status snapshots run beside the traffic; pings and the TCP transfers run both ways at once.
set -u
: "${OUT:?OUT must name the scenario directory}"
. "$OUT/scenario.env"
A=198.18.10.1 B=198.18.10.2 LAN_A=198.19.1.1 LAN_B=198.19.2.1
NA=$P-a NB=$P-b NW=$P-w BR=${P}br
MARKER_HEX=6970786d61726b21   # "ipxmark!": must never be seen on the wire
TS_CLI="$NODE $REPO/dist/src/cli/main.js"
TSD=$RUN/ts PD=$RUN/peer
TS_PID= PEER_PID= CAP_PID=
LSW="$LSROOT/usr/libexec/ipsec/whack --rundir $PD/run"
if [ "$MODE" = transport ]; then SRC_A=$A DST_B=$B; else SRC_A=$LAN_A DST_B=$LAN_B; fi

# mark NAME: a timestamp in $OUT/timeline (guest uptime, no process started).
mark() { read -r now _ </proc/uptime; echo "$1 $now" >>"$OUT/timeline"; }
# step NAME RC: records a step; returns RC, so `step x $? || exit 1` ends a cell whose later steps cannot pass.
step() { echo "$1 $2" >>"$OUT/steps"; read -r now _ </proc/uptime; echo "$1 $now" >>"$OUT/timeline"; echo "== step $1 -> $2 at $now s"; return "$2"; }
# wait_until SECONDS COMMAND...: polls every 0.05 s, bounded by the guest's clock (not by counting polls:
# a poll that starts processes can itself take longer than the interval here).
wait_until() {
  read -r w0 _ </proc/uptime; dl=$(( ${w0%.*} + $1 )); shift
  while :; do
    "$@" >/dev/null 2>&1 && return 0
    read -r w _ </proc/uptime; [ "${w%.*}" -lt "$dl" ] || return 1
    sleep 0.05
  done
}
stop_pids() { # stop_pids SECONDS PID...: SIGTERM to all at once, SIGKILL to those still there after SECONDS
  lim=$1; shift
  for p in "$@"; do kill -TERM "$p" 2>/dev/null; done
  n=$(( lim * 20 ))
  for p in "$@"; do
    while [ "$n" -gt 0 ] && kill -0 "$p" 2>/dev/null; do sleep 0.05; n=$((n - 1)); done
    kill -KILL "$p" 2>/dev/null; wait "$p" 2>/dev/null
  done
  return 0
}

cleanup() {
  trap - EXIT INT TERM
  [ -n "$CAP_PID" ] && { kill -INT "$CAP_PID" 2>/dev/null; wait "$CAP_PID" 2>/dev/null; }
  # Both daemons stop at once (charon alone takes ~2 s on SIGTERM); nothing is checked after this.
  if [ "$PEER" = libreswan ] && [ -n "$PEER_PID" ]; then timeout 5 $LSW --shutdown >/dev/null 2>&1 & fi
  stop_pids 5 $TS_PID $PEER_PID
  wait
  cp "$TSD/out.log" "$OUT/ts.log" 2>/dev/null
  cp -r "$TSD/keys" "$OUT/ts-keys" 2>/dev/null
  cp "$RUN/wire.pcap" "$OUT/wire.pcap" 2>/dev/null
  cp "$RUN/tcpdump.err" "$OUT/tcpdump.txt" 2>/dev/null
  cp "$PD/log/charon.log" "$OUT/charon.log" 2>/dev/null
  cp "$PD/log/pluto.log" "$OUT/pluto.log" 2>/dev/null
  for n in "$NA" "$NB" "$NW"; do ip netns delete "$n" 2>/dev/null; done
  [ "${KEEP_RUN:-}" = 1 ] || rm -rf "$RUN"
  mark teardown
}
trap cleanup EXIT
trap 'exit 1' INT TERM

mark start
rm -rf "$RUN" && mkdir -p "$TSD" "$PD" && cp -r "$OUT/ts/." "$TSD/" && cp -r "$OUT/peer/." "$PD/" || { step prepare 1; exit 1; }
mkdir -p "$PD/run" "$PD/log" "$TSD/keys"

# --- topology (test/interop/harness/topology.ts in shell): one `ip -batch` per namespace ---
topo() {
  printf 'netns add %s\nnetns add %s\nnetns add %s\n' "$NA" "$NB" "$NW" | ip -batch - || return 1
  for n in "$NA" "$NB" "$NW"; do
    ip netns exec "$n" sh -c 'echo 1 >/proc/sys/net/ipv6/conf/all/disable_ipv6' || return 1
  done
  ip -n "$NW" -batch - <<EOT || return 1
link set lo up
link add $BR type bridge
link set $BR up
link add ${P}wa type veth peer name ${P}a0 netns $NA
link add ${P}wb type veth peer name ${P}b0 netns $NB
link set ${P}wa master $BR up
link set ${P}wb master $BR up
EOT
  # gso_max_segs 1: the endpoints' veths take no GSO super-packets, the stack cuts them first, so the
  # bridge (the wire) sees each datagram as a real wire would. Otherwise tsipsec's UDP GSO batches (several
  # ESP packets or IKE fragments of one size) cross the veth and land in the capture as one datagram.
  for s in a b; do
    if [ $s = a ]; then ns=$NA addr=$A lan=$LAN_A; else ns=$NB addr=$B lan=$LAN_B; fi
    printf 'link set lo up\nlink set %s gso_max_segs 1\naddr add %s/24 dev %s\nlink set %s up\naddr add %s/32 dev lo\n' \
      "${P}${s}0" "$addr" "${P}${s}0" "${P}${s}0" "$lan" | ip -n "$ns" -batch - || return 1
  done
}
topo; step topology $? || exit 1

ip netns exec "$NW" tcpdump -i "$BR" -U -n -s 0 -w "$RUN/wire.pcap" 'ip and not igmp' 2>"$RUN/tcpdump.err" &
CAP_PID=$!

# tsipsec starts while the peer (and tcpdump) do: Node's start-up is the slowest in UML. UV_THREADPOOL_SIZE
# set here spares `up` its re-exec (it sets the variable and execve()s itself when it is unset: a second
# Node start-up).
UV_THREADPOOL_SIZE=16 ip netns exec "$NA" $TS_CLI up --config "$TSD/swanctl.conf" --socket "$TSD/ts.sock" --keylog "$TSD/keys" \
  --tun 'tsipx%d' --log-level debug >"$TSD/out.log" 2>&1 &
TS_PID=$!

# --- the peer ---
if [ "$PEER" = strongswan ]; then
  ip netns exec "$NB" unshare -m --propagation private sh -c \
    "mount --bind $PD/run /run && exec env STRONGSWAN_CONF=$PD/etc/strongswan.conf /usr/lib/ipsec/charon" >"$PD/log/charon.out" 2>&1 &
  PEER_PID=$!
  swanctl() { STRONGSWAN_CONF=$PD/etc/strongswan.conf SWANCTL_DIR=$PD/etc/swanctl command swanctl "$@" --uri "unix://$PD/run/charon.vici"; }
  wait_until 15 test -S "$PD/run/charon.vici" && swanctl --load-all --file "$PD/etc/swanctl/swanctl.conf" >"$OUT/peer-load.txt" 2>&1
  step peer-start $? || exit 1
  peer_sas() { swanctl --list-sas; }
else
  # NSS database (pluto needs one even for PSK), then the CA and our PKCS#12 for certificates (§5).
  # prepareCell builds the NSS database on the host (NSS tools start slowly here); build it only if absent.
  mkdir -p "$PD/etc/ipsec.d"
  [ -f "$PD/nss/cert9.db" ] || {
    mkdir -p "$PD/nss" &&
    certutil -N -d "sql:$PD/nss" --empty-password &&
    if [ "$AUTH" = cert ]; then
      certutil -A -d "sql:$PD/nss" -n "tsipsec interop CA" -t CT,, -a -i "$PD/ca.pem" &&
      pk12util -d "sql:$PD/nss" -i "$PD/b.p12" -W "" &&
      certutil -M -d "sql:$PD/nss" -n "tsipsec interop CA" -t CT,,
    fi
  } >"$OUT/peer-nss.txt" 2>&1
  rc=$?
  ip netns exec "$NB" unshare -m --propagation private sh -c \
    "mount --bind $LSROOT/usr/libexec/ipsec /usr/libexec/ipsec && exec env PATH=$LSROOT/usr/sbin:\$PATH \
     IPSEC_EXECDIR=$LSROOT/usr/libexec/ipsec IPSEC_CONF=$PD/ipsec.conf IPSEC_RUNDIR=$PD/run IPSEC_NSSDIR=$PD/nss \
     $LSROOT/usr/libexec/ipsec/pluto --nofork --config $PD/ipsec.conf --rundir $PD/run --nssdir $PD/nss \
       --secretsfile $PD/ipsec.secrets --ipsecdir $PD/etc/ipsec.d --logfile $PD/log/pluto.log --no-dnssec" >"$PD/log/pluto.out" 2>&1 &
  PEER_PID=$!
  # addconn --autoall loads auto=add connections; wait until pluto lists ours (status to a file: §10.6).
  conn_loaded() { $LSW --status >"$RUN/whack-status" 2>&1; grep -q '"ipx"' "$RUN/whack-status"; }
  [ $rc = 0 ] && wait_until 15 test -S "$PD/run/pluto.ctl" && wait_until 15 conn_loaded
  step peer-start $? || exit 1
  peer_sas() { $LSW --trafficstatus; echo '--- status'; $LSW --status; }
fi

wait_until 20 test -S "$TSD/ts.sock"; step tsipsec-start $? || exit 1
ts_status() { $TS_CLI status --json --socket "$TSD/ts.sock"; }
wait_until 5 grep -q 'listening on' "$RUN/tcpdump.err"; step capture $? || exit 1

# --- bring the SA up ---
if [ "$INITIATOR" = tsipsec ]; then
  $TS_CLI initiate ipx --socket "$TSD/ts.sock" --timeout 25 >"$OUT/initiate.txt" 2>&1
elif [ "$PEER" = strongswan ]; then
  swanctl --initiate --child ipx --timeout 25 >"$OUT/initiate.txt" 2>&1
else
  timeout 30 $LSW --name ipx --initiate >"$OUT/initiate.txt" 2>&1
fi
step initiate $? || exit 1
# tsipsec logs "CHILD SA installed" when the child is in its SAD (polling `tsipsec status` would start
# Node every time); ts-status.json below is the record the checks read.
ts_child_up() { grep -q '"msg":"CHILD SA installed"' "$TSD/out.log"; }
peer_xfrm_up() { [ "$(ip -n "$NB" xfrm state | grep -c '^src')" -ge 2 ]; }
wait_until 15 ts_child_up && wait_until 15 peer_xfrm_up; step sa-up $? || exit 1
if [ "$MODE" = transport ]; then route_up() { ip -n "$NA" route show table all | grep -q "$B dev tsipx"; }
else route_up() { ip -n "$NA" route get "$LAN_B" | grep -q tsipx; }; fi
wait_until 10 route_up; step routes $?

# Snapshots of the SA state, taken beside the traffic below (no rekey can happen meanwhile).
ts_status >"$OUT/ts-status.json" 2>&1 &
SNAP_TS=$!
{
  ip -n "$NB" -s xfrm state >"$OUT/peer-xfrm-state.txt" 2>&1
  ip -n "$NB" xfrm policy >"$OUT/peer-xfrm-policy.txt" 2>&1
  peer_sas >"$OUT/peer-sas.txt" 2>&1
  ip -n "$NA" rule >"$OUT/ts-rules.txt" 2>&1; ip -n "$NA" route show table all >>"$OUT/ts-rules.txt" 2>&1
} &
SNAP_PEER=$!

# --- traffic: ping both ways (the marker in every payload), then TCP both ways; each pair at once ---
# -w 10, not -W: once one reply is in, ping -W waits only two RTTs after its last request, and on a busy
# guest a later reply can take longer than that (seen: all replies on the wire and written to tsipsec's
# TUN, ping gone already). With -w ping runs until 3 replies are in (at most 10 s; while a reply is late
# it sends more requests); the check wants icmp_seq 1, 2 and 3 each answered.
ip netns exec "$NA" ping -n -c 3 -i 0.2 -w 10 -p "$MARKER_HEX" -I "$SRC_A" "$DST_B" >"$OUT/ping-ab.txt" 2>&1 &
PING_AB=$!
ip netns exec "$NB" ping -n -c 3 -i 0.2 -w 10 -p "$MARKER_HEX" -I "$DST_B" "$SRC_A" >"$OUT/ping-ba.txt" 2>&1
rc=$?
wait $PING_AB; step ping-ab $?
step ping-ba $rc
# tcp NAME FROM_NS TO_NS TO_ADDR FROM_ADDR: sends payload.bin over TCP, the receiver writes recv-NAME.bin
tcp() {
  ip netns exec "$3" timeout 30 socat -u "TCP-LISTEN:5001,bind=$4,reuseaddr" "OPEN:$RUN/recv-$1.bin,creat,trunc" 2>"$RUN/socat-$1.err" &
  l=$!
  # The sender retries its connect until the listener is up (20 tries, 0.1 s apart).
  ip netns exec "$2" timeout 20 socat -u "OPEN:$OUT/payload.bin" "TCP:$4:5001,bind=$5,retry=20,interval=0.1" 2>>"$RUN/socat-$1.err"
  rc=$?
  [ $rc = 0 ] || kill "$l" 2>/dev/null
  wait "$l"; rc2=$?
  cp "$RUN/recv-$1.bin" "$OUT/recv-$1.bin" 2>/dev/null
  cp "$RUN/socat-$1.err" "$OUT/socat-$1.txt" 2>/dev/null
  [ $rc = 0 ] && [ $rc2 = 0 ]
}
mark traffic-tcp
tcp ab "$NA" "$NB" "$DST_B" "$SRC_A" &
TCP_AB=$!
tcp ba "$NB" "$NA" "$SRC_A" "$DST_B"
rc=$?
wait $TCP_AB; step tcp-ab $?
step tcp-ba $rc
wait $SNAP_TS $SNAP_PEER
mark snapshots
sleep 0.3

ts_status >"$OUT/ts-status-after.json" 2>&1 &
SNAP_TS=$!
ip -n "$NB" -s xfrm state >"$OUT/peer-xfrm-state-after.txt" 2>&1
peer_sas >"$OUT/peer-sas-after.txt" 2>&1
wait $SNAP_TS
# tcpdump can lag behind on a busy guest: stop it only once it has written every packet its filter took
# (SIGUSR1 makes it print "N packets captured / M packets received by filter"); bounded.
cap_drained() {
  kill -USR1 "$CAP_PID" 2>/dev/null || return 0
  sleep 0.05
  set -- $(grep -E 'packets (captured|received by filter)' "$RUN/tcpdump.err" | tail -n 2 | cut -d' ' -f1)
  [ "$#" = 2 ] && [ "$1" = "$2" ]
}
wait_until 5 cap_drained; mark capture-drained
kill -INT "$CAP_PID" 2>/dev/null; wait "$CAP_PID" 2>/dev/null; CAP_PID=
step done 0
exit 0
