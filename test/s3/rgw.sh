#!/usr/bin/env bash
# A single-node Ceph with the RADOS Gateway (RGW) on 127.0.0.1, for running the test
# suites against a production S3 implementation (see docs/testing.md, "S3 implementations").
#
#   test/s3/rgw.sh install   apt-get install Debian's radosgw, ceph-mon, ceph-osd, ceph-common
#   test/s3/rgw.sh start     start one monitor, one bluestore OSD and radosgw in $RGW_DIR,
#                            create an S3 user, wait until RGW answers; writes $RGW_DIR/env
#   test/s3/rgw.sh env       print the TEST_S3_* variables of the running gateway
#   test/s3/rgw.sh stop      stop the daemons and delete $RGW_DIR
#
# Debian 12 ships Ceph 16, which has no dbstore backend, so RGW needs a real RADOS
# cluster: one monitor and one OSD whose block device is a sparse file. What makes it
# start quickly on one machine: no cephx (auth ... required = none); the messenger
# modes "crc secure" on the client side, or radosgw waits 300 s for auth; the bluestore
# block file outside the OSD's data folder (mkfs wants that folder empty); pool size 1.
set -euo pipefail

RGW_DIR="${RGW_DIR:-${TMPDIR:-/tmp}/ftp-s3-bridge-rgw}"
RGW_PORT="${RGW_PORT:-7480}"
MON_PORT="${RGW_MON_PORT:-6789}"
ACCESS_KEY="${RGW_ACCESS_KEY:-ftpbridgetestkey}"
SECRET_KEY="${RGW_SECRET_KEY:-ftpbridgetestsecret}"
CONF="$RGW_DIR/ceph.conf"

log() { echo "rgw.sh: $*" >&2; }

install() {
  local packages=(radosgw ceph-mon ceph-osd ceph-common)
  local missing=()
  for package in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed'; then
      missing+=("$package")
    fi
  done
  if [ "${#missing[@]}" -eq 0 ]; then
    log "already installed: ${packages[*]}"
    return
  fi
  local sudo_cmd=()
  if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi
  log "installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get update
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y --no-install-recommends "${missing[@]}"
}

write_conf() {
  cat >"$CONF" <<EOF
[global]
fsid = $1
mon host = v1:127.0.0.1:$MON_PORT
mon initial members = a
public network = 127.0.0.0/8
auth cluster required = none
auth service required = none
auth client required = none
auth supported = none
ms mon client mode = crc secure
ms client mode = crc secure
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd crush chooseleaf type = 0
mon allow pool size one = true
mon allow pool delete = true
mon warn on pool no redundancy = false
mon max pg per osd = 1000
run dir = $RGW_DIR/run
admin socket = $RGW_DIR/run/\$name.asok
log file = $RGW_DIR/log/\$name.log
pid file = $RGW_DIR/run/\$name.pid
keyring = /dev/null

[mon]
mon data = $RGW_DIR/mon/\$id

[osd]
osd data = $RGW_DIR/osd/\$id
osd objectstore = bluestore
# Added to the CRUSH map by this script; at start the OSD may ask the monitor before it
# knows the cluster fsid ("wrong fsid"), which stops it.
osd crush update on start = false
osd class update on start = false
bluestore block path = $RGW_DIR/block/\$id
bluestore block create = true
bluestore block size = 21474836480
bluestore block db create = false
bluestore block wal create = false
osd memory target = 1073741824
bluestore cache size = 268435456

[client.rgw.a]
rgw frontends = beast endpoint=127.0.0.1:$RGW_PORT
rgw data = $RGW_DIR/rgw
rgw dns name = 127.0.0.1
rgw thread pool size = 64
EOF
}

# Polls `command...` once a second for at most $1 seconds.
wait_for() {
  local seconds="$1" what="$2"
  shift 2
  for _ in $(seq "$seconds"); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 1
  done
  log "$what: not ready after ${seconds} s; logs in $RGW_DIR/log"
  return 1
}

rgw_answers() {
  curl -fsS -o /dev/null "http://127.0.0.1:$RGW_PORT/"
}

start() {
  for tool in ceph-mon ceph-osd radosgw radosgw-admin monmaptool ceph; do
    command -v "$tool" >/dev/null || { log "$tool is missing: run '$0 install' first"; exit 1; }
  done
  if [ -f "$RGW_DIR/env" ] && rgw_answers; then
    log "already running on 127.0.0.1:$RGW_PORT"
    cat "$RGW_DIR/env"
    return
  fi
  stop_daemons
  rm -rf "$RGW_DIR"
  mkdir -p "$RGW_DIR"/{run,log,mon/a,osd/0,block,rgw}
  local fsid
  fsid="$(cat /proc/sys/kernel/random/uuid)"
  write_conf "$fsid"

  log "monitor on 127.0.0.1:$MON_PORT"
  monmaptool --create --fsid "$fsid" --addv a "[v1:127.0.0.1:$MON_PORT]" "$RGW_DIR/monmap" >/dev/null
  ceph-mon -c "$CONF" --mkfs -i a --monmap "$RGW_DIR/monmap"
  ceph-mon -c "$CONF" -i a
  wait_for 60 "monitor" ceph -c "$CONF" mon stat

  log "OSD (bluestore on a sparse file)"
  local id osd_uuid
  osd_uuid="$(cat /proc/sys/kernel/random/uuid)"
  id="$(ceph -c "$CONF" osd create "$osd_uuid")"
  ceph-osd -c "$CONF" -i "$id" --mkfs --osd-uuid "$osd_uuid" 2>>"$RGW_DIR/log/osd-mkfs.log"
  ceph -c "$CONF" osd crush add "osd.$id" 1.0 host=localhost root=default >/dev/null
  ceph-osd -c "$CONF" -i "$id"
  wait_for 120 "OSD" bash -c "ceph -c '$CONF' osd dump | grep -q '^osd.$id up'"

  log "radosgw on 127.0.0.1:$RGW_PORT"
  radosgw -c "$CONF" -n client.rgw.a
  wait_for 300 "radosgw" rgw_answers
  radosgw-admin -c "$CONF" user create --uid=ftp-s3-bridge-test --display-name="ftp-s3-bridge tests" \
    --access-key="$ACCESS_KEY" --secret-key="$SECRET_KEY" >/dev/null
  cat >"$RGW_DIR/env" <<EOF
export TEST_S3_ENDPOINT=http://127.0.0.1:$RGW_PORT
export TEST_S3_ACCESS_KEY_ID=$ACCESS_KEY
export TEST_S3_SECRET_ACCESS_KEY=$SECRET_KEY
export TEST_S3_NAME=rgw
EOF
  log "ready: $(ceph -c "$CONF" health 2>/dev/null || true)"
  cat "$RGW_DIR/env"
}

stop_daemons() {
  local pid_file pid
  for pid_file in "$RGW_DIR"/run/*.pid; do
    [ -f "$pid_file" ] || continue
    pid="$(cat "$pid_file")"
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 30); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
    kill -9 "$pid" 2>/dev/null || true
  done
}

stop() {
  stop_daemons
  rm -rf "$RGW_DIR"
  log "stopped"
}

case "${1:-}" in
  install) install ;;
  start) start ;;
  env) cat "$RGW_DIR/env" ;;
  stop) stop ;;
  *) echo "usage: $0 install|start|env|stop" >&2; exit 2 ;;
esac
