#!/usr/bin/env bash
# npm run test:rgw: the storage, functional and interoperability suites against Ceph's
# RADOS Gateway (started by rgw.sh, stopped afterwards unless RGW_KEEP=1).
# RGW_SUITES narrows the set (default: all three).
set -euo pipefail
cd "$(dirname "$0")/../.."
test/s3/rgw.sh install
# shellcheck disable=SC1090
source <(test/s3/rgw.sh start)
if [ "${RGW_KEEP:-}" != 1 ]; then trap 'test/s3/rgw.sh stop' EXIT; fi
npm run build
suites=(${RGW_SUITES:-storage functional interop})
status=0
for suite in "${suites[@]}"; do
  echo "== $suite suite against $TEST_S3_NAME ($TEST_S3_ENDPOINT)"
  case "$suite" in
    interop) node --test --test-concurrency=1 --test-timeout=600000 "test/interop/**/*.test.ts" || status=1 ;;
    *) node --test --test-concurrency=2 --test-timeout=180000 "test/$suite/**/*.test.ts" || status=1 ;;
  esac
done
exit "$status"
