#!/usr/bin/env bash
# The upload-integrity tests, the end of PROT P uploads (tls-close-notify.test.ts, with
# Debian's commons-net on OpenJDK) and the vanish matrix (vanish-matrix.test.ts), once per
# supported Node major, with the bridge under test running on it: 24 (node_modules/.bin/node, the `node` dev dependency) and 22
# (npm's `node` package at the version pinned in node22/package-lock.json, installed once
# here with npm ci). The test runner itself stays on Node 24. VANISH_TRIALS repeats each vanish case.
set -euo pipefail
cd "$(dirname "$0")/../.."

node22_dir=test/integrity/node22
wanted="v$(node -p "require('./$node22_dir/package-lock.json').packages['node_modules/node'].version")"
if [ "$("$node22_dir/node_modules/.bin/node" --version 2>/dev/null || true)" != "$wanted" ]; then
  npm ci --prefix "$node22_dir" --no-audit --no-fund
fi

for binary in node_modules/.bin/node "$node22_dir/node_modules/.bin/node"; do
  echo "Upload integrity with the bridge on Node $("$binary" --version)"
  INTEGRITY_NODE="$(realpath "$binary")" node --test --import ./test/support/exit-without-teardown.ts --test-concurrency=1 --test-timeout=300000 \
    test/integrity/tls-close-notify.test.ts test/integrity/vanish-matrix.test.ts
done
