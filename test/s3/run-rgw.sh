#!/usr/bin/env bash
# npm run test:rgw: the storage, functional and interoperability suites against Ceph's
# RADOS Gateway (started by rgw.sh, stopped afterwards unless RGW_KEEP=1).
# RGW_SUITES narrows the set (default: all three). The interoperability suite runs its
# curl and Python ftplib files by default (the whole suite takes more than 15 minutes
# against RGW, beyond CI's budget); RGW_INTEROP=all runs every client.
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
    interop)
      # All of it with its matrix (test/interop/run.sh), or two clients without one.
      if [ "${RGW_INTEROP:-}" = all ]; then
        bash test/interop/run.sh || status=1
      else
        node --test --import ./test/support/exit-without-teardown.ts --test-concurrency=1 --test-timeout=600000 test/interop/curl.test.ts test/interop/ftplib.test.ts || status=1
      fi
      ;;
    *) node --test --import ./test/support/exit-without-teardown.ts --test-concurrency=2 --test-timeout=180000 "test/$suite/**/*.test.ts" || status=1 ;;
  esac
done
exit "$status"
