#!/usr/bin/env bash
# npm run test:interop: the interoperability suite (or the test files given as
# arguments), one file at a time, then its report (write-matrix.ts: the compatibility
# matrix of this run in results/matrix.json and matrix.md), which runs even when a test
# failed. Exits non-zero if either did.
set -uo pipefail
cd "$(dirname "$0")/../.."
export TEST_RUN_ID="interop-$$"
files=("$@")
if [ "${#files[@]}" -eq 0 ]; then files=("test/interop/**/*.test.ts"); fi
status=0
node --test --import ./test/support/exit-without-teardown.ts --test-concurrency=1 --test-timeout=600000 "${files[@]}" || status=1
node test/interop/write-matrix.ts || status=1
exit "$status"
