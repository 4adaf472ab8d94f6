#!/usr/bin/env bash
# npm run test:abuse: the load-and-abuse suite, one file at a time, then its report
# (write-figures.ts: the table and results/figures.json of this run's cases), which runs
# even when a test failed. Exits non-zero if either did.
set -uo pipefail
cd "$(dirname "$0")/../.."
export TEST_RUN_ID="abuse-$$"
status=0
node --test --import ./test/support/exit-without-teardown.ts --test-concurrency=1 --test-timeout=300000 "test/abuse/**/*.test.ts" || status=1
node test/abuse/write-figures.ts || status=1
exit "$status"
