#!/bin/sh
# Runs several scenario cells one after another in the same kernel (one UML boot for a whole test
# file: booting costs seconds, and the first daemon start on a cold guest page cache costs more).
# $OUT/cells lists cell directories (absolute, under $OUT), one per line; each gets exit-status and
# seconds (wall time of its scenario.sh) files. $OUT/cell-timeout bounds each cell (default 90 s).
set -u
: "${OUT:?}"
here=$(dirname "$0")
limit=$(cat "$OUT/cell-timeout" 2>/dev/null || echo 90)
while read -r cell; do
  [ -n "$cell" ] || continue
  read t0 _ </proc/uptime
  echo "== cell $cell at $t0 s"
  OUT="$cell" timeout -s TERM -k 5 "$limit" sh "$here/scenario.sh" >"$cell/scenario.log" 2>&1
  rc=$?
  read t1 _ </proc/uptime
  echo "$rc" >"$cell/exit-status"
  echo "$t0 $t1" | awk '{ printf "%.2f\n", $2 - $1 }' >"$cell/seconds"
  echo "== cell $cell -> $rc after $(cat "$cell/seconds") s"
done <"$OUT/cells"
exit 0
