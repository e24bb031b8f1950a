#!/usr/bin/env bash
# The replica pattern on one machine: 3 `lastrank serve` replicas on loopback ports behind HAProxy
# (deploy/haproxy/haproxy.cfg: health checks, buffered requests, L7 retries with redispatch), a
# bounded closed-loop load (deploy/haproxy/load_client.py) counting every request, and two failures
# in the middle of it:
#   at 1/3 of the run   kill -9 replica r1 (crash); a "supervisor" restarts it 5 s later
#   at 7/12 of the run  SIGTERM replica r2 (rolling restart: drain, exit 0), started again after it exits
# Prints throughput and latency before / during / after and exits 1 if any client request failed or
# the drained replica did not exit 0. Loopback only; bounded in time (DURATION) and requests.
#   bash deploy/haproxy/failover.sh            # tiny fixture model from build/test-models
#   LASTRANK_MODEL=/path/to/jina-reranker-v3 DURATION=120 CONCURRENCY=8 bash deploy/haproxy/failover.sh
# Environment: BIN (build/lastrank), OUT (build/failover), DURATION (120 s), CONCURRENCY (8),
# DOCS (8) and DOC_WORDS (30) per request, THREADS per replica (1), MAXCONN per replica in HAProxy (2).
set -euo pipefail
REPO=$(cd "$(dirname "$0")/../.." && pwd)
HERE=$REPO/deploy/haproxy
BIN=${BIN:-$REPO/build/lastrank}
OUT=${OUT:-$REPO/build/failover}
MODEL=${LASTRANK_MODEL:-$REPO/build/test-models/tiny-gqa2}
DURATION=${DURATION:-120}
CONCURRENCY=${CONCURRENCY:-8}
THREADS=${THREADS:-1}
export LB_MAXCONN=${MAXCONN:-2}
command -v haproxy >/dev/null || { echo "failover: haproxy is not installed (apt-get install haproxy)" >&2; exit 3; }
[ -x "$BIN" ] || { echo "failover: no lastrank binary at $BIN (build first)" >&2; exit 3; }
rm -rf "$OUT"; mkdir -p "$OUT"

free_port() { /usr/bin/env python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
declare -A PORT PID
for r in r1 r2 r3; do PORT[$r]=$(free_port); done
export R1_PORT=${PORT[r1]} R2_PORT=${PORT[r2]} R3_PORT=${PORT[r3]} LB_PORT=$(free_port) LB_STATS_SOCKET=$OUT/haproxy.sock
HAPROXY_PID= LOAD_PID=
cleanup() {
  for r in r1 r2 r3; do [ -n "${PID[$r]:-}" ] && kill -9 "${PID[$r]}" 2>/dev/null || true; done
  [ -n "$HAPROXY_PID" ] && kill "$HAPROXY_PID" 2>/dev/null || true
  [ -n "$LOAD_PID" ] && kill "$LOAD_PID" 2>/dev/null || true
}
trap cleanup EXIT

start_replica() {  # name: starts it and waits until /health answers
  local r=$1
  "$BIN" serve --model "$MODEL" --host 127.0.0.1 --port "${PORT[$r]}" --threads "$THREADS" --quiet \
    >>"$OUT/$r.log" 2>&1 &
  PID[$r]=$!
  for _ in $(seq 3000); do
    curl -sf "http://127.0.0.1:${PORT[$r]}/health" >/dev/null 2>&1 && return 0
    kill -0 "${PID[$r]}" 2>/dev/null || break
    sleep 0.02
  done
  echo "failover: replica $r did not start:" >&2; tail -5 "$OUT/$r.log" >&2; exit 1
}
event() { printf '%s\t%s\n' "$(date +%s.%N)" "$1" >>"$OUT/events.tsv"; echo "failover: $(date -u +%T) $1"; }
at() {  # seconds after the load started: sleep until then
  local left; left=$(python3 -c "import sys,time; print(max(0.0, float(sys.argv[1]) + float(sys.argv[2]) - time.time()))" "$LOAD_T0" "$1")
  sleep "$left"
}

for r in r1 r2 r3; do start_replica $r; done
haproxy -f "$HERE/haproxy.cfg" -db >"$OUT/haproxy.log" 2>&1 &
HAPROXY_PID=$!
for _ in $(seq 500); do curl -sf -o /dev/null "http://127.0.0.1:$LB_PORT/health" && break; sleep 0.02; done
echo "failover: replicas on ${PORT[r1]} ${PORT[r2]} ${PORT[r3]}, HAProxy on 127.0.0.1:$LB_PORT, model $MODEL, ${DURATION} s"

LOAD_T0=$(date +%s.%N)
python3 "$HERE/load_client.py" run --url "http://127.0.0.1:$LB_PORT" --duration "$DURATION" \
  --concurrency "$CONCURRENCY" --docs "${DOCS:-8}" --doc-words "${DOC_WORDS:-30}" --out "$OUT/requests.tsv" &
LOAD_PID=$!

T_KILL=$(python3 -c "print($DURATION / 3)")
T_TERM=$(python3 -c "print($DURATION * 7 / 12)")
at "$T_KILL"
event "kill -9 r1"
kill -9 "${PID[r1]}"; wait "${PID[r1]}" 2>/dev/null || true
sleep 5
start_replica r1
event "r1 restarted and healthy"
at "$T_TERM"
event "SIGTERM r2 (drain)"
kill -TERM "${PID[r2]}"
set +e; wait "${PID[r2]}"; TERM_RC=$?; set -e
event "r2 exited with status $TERM_RC"
start_replica r2
event "r2 restarted and healthy"

set +e; wait "$LOAD_PID"; set -e; LOAD_PID=
python3 - "$LB_STATS_SOCKET" >"$OUT/haproxy-stats.csv" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(b"show stat\n")
print(b"".join(iter(lambda: s.recv(65536), b"")).decode())
PY
RETRIES=$(awk -F, '$1 == "lastrank" && $2 == "BACKEND" { print "retries " $16 ", redispatches " $17 }' "$OUT/haproxy-stats.csv")
set +e
python3 "$HERE/load_client.py" summarize --requests "$OUT/requests.tsv" --events "$OUT/events.tsv" \
  --settle "$(python3 -c "print($DURATION / 12)")" | tee "$OUT/summary.md"
LOAD_RC=${PIPESTATUS[0]}
set -e
echo "HAProxy backend: $RETRIES; r2 exit status after SIGTERM: $TERM_RC; files in $OUT" | tee -a "$OUT/summary.md"
[ "$LOAD_RC" -eq 0 ] && [ "$TERM_RC" -eq 0 ]
