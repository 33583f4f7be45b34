#!/usr/bin/env bash
# Runs the core suites (vectors, ESP, crypto, exchanges, in-memory end to end, CLI demo) on Node 22 and 24,
# fetched from the npm registry into a scratch directory, so the package is checked beyond the host's Node 20.
set -euo pipefail
cd "$(dirname "$0")/.."
scratch="${TSIPSEC_NODE_DIR:-/tmp/tsipsec-node-versions}"
for v in ${TSIPSEC_NODE_VERSIONS:-22 24}; do
  dir="$scratch/node$v"
  if [ ! -x "$dir/node_modules/node/bin/node" ]; then
    mkdir -p "$dir"
    (cd "$dir" && npm init -y >/dev/null && npm install --no-audit --no-fund "node@$v" >/dev/null)
  fi
  node_bin="$dir/node_modules/node/bin/node"
  echo "== Node $("$node_bin" --version): core suites"
  "$node_bin" node_modules/vitest/vitest.mjs run test/vectors test/unit/esp test/unit/crypto test/exchange test/e2e/memory-tunnel.test.ts
  if [ "$(id -u)" = 0 ] && command -v tcpdump >/dev/null; then
    echo "== Node $("$node_bin" --version): tsipsec demo"
    "$node_bin" dist/src/cli/main.js demo --pings 2 --bytes 100000
  fi
done
