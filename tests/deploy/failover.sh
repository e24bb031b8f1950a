#!/usr/bin/env bash
# A 20-second run of deploy/haproxy/failover.sh on the tiny model: 3 replicas behind HAProxy, one
# kill -9'd and restarted, one drained by SIGTERM (must exit 0) and restarted, under a closed-loop
# load on loopback; every client request must succeed (HAProxy health checks + L7 retries).
# Skips without haproxy. Args: LASTRANK_BIN MODELS_DIR SOURCE_DIR
set -u
BIN=$1 MODELS=$2 SRC=$3
command -v haproxy >/dev/null || { echo "SKIP: haproxy is not installed (apt-get install haproxy)"; exit 77; }
TMP=$(mktemp -d); trap 'rm -rf "$TMP"' EXIT
BIN=$BIN OUT=$TMP/out LASTRANK_MODEL=$MODELS/tiny-gqa2 DURATION=20 CONCURRENCY=6 \
  bash "$SRC/deploy/haproxy/failover.sh"; rc=$?
[ $rc -eq 3 ] && { echo "SKIP: failover.sh prerequisites missing"; exit 77; }
[ $rc -eq 0 ] || { echo "FAIL: failed client requests or an unclean drain (above)"; for f in "$TMP"/out/*.log; do echo "== $f"; tail -5 "$f"; done; }
exit $rc
