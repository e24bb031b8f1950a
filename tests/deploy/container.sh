#!/usr/bin/env bash
# The container image end to end (opt-in: LASTRANK_CONTAINER_TEST=1; several minutes the first time).
# No base image can be pulled, so deploy/docker/base_image.sh debootstraps bookworm from apt's own
# mirror and imports it (cached under <build>/docker); the Dockerfile then compiles lastrank from
# this tree inside the image. The image runs with host networking on 127.0.0.1 only:
#   1. the model from a mounted Hugging Face cache (LASTRANK_MODEL=jinaai/jina-reranker-v3), read-only
#      root filesystem, no capabilities; /health, the HEALTHCHECK, the non-root user, the API key;
#   2. the model from a mounted directory (LASTRANK_MODEL=/model);
#   each reranks like the host's `lastrank rerank` (fp32 on both sides; the image's portable build
#   runs other kernels, so scores agree to 1e-4, rankings exactly); `docker stop` drains: exit 0.
# Prints the image size, the build time and start-to-ready times. Without a container engine that
# can run here it prints why and exits 77 (skipped). Args: LASTRANK_BIN MODELS_DIR SOURCE_DIR
set -u
BIN=$1 MODELS=$2 SRC=$3
MODEL=$MODELS/tiny-gqa2
CACHE=$(cd "$(dirname "$BIN")" && pwd)/docker
IMAGE=lastrank:container-test
BASE=lastrank-base:bookworm
skip() { echo "SKIP: $*"; exit 77; }
[ "${LASTRANK_CONTAINER_TEST:-0}" = 1 ] || skip "opt-in: set LASTRANK_CONTAINER_TEST=1 (builds a bookworm rootfs and the image; minutes)"
[ -f "$MODEL/tokenizer.json" ] || skip "$MODEL has no tokenizer (run scripts/setup.sh)"
command -v docker >/dev/null || skip "no docker client (apt-get install docker.io)"
export DOCKER_BUILDKIT=0  # the classic builder: Debian's docker.io has no buildx

TMP=$(mktemp -d)
DOCKERD_PID= CIDS=()
cleanup() {
  for c in "${CIDS[@]}"; do docker rm -f "$c" >/dev/null 2>&1; done
  [ -n "$DOCKERD_PID" ] && kill "$DOCKERD_PID" 2>/dev/null && wait "$DOCKERD_PID" 2>/dev/null
  rm -rf "$TMP"
}
trap cleanup EXIT
mkdir -p "$CACHE"

# A running engine: the one there is, or a dockerd started here (root only), stopped again at exit.
if ! docker info >/dev/null 2>&1; then
  [ "$(id -u)" = 0 ] && command -v dockerd >/dev/null || skip "no running docker engine and cannot start dockerd (not root or not installed)"
  dockerd >"$CACHE/dockerd.log" 2>&1 &
  DOCKERD_PID=$!
  for _ in $(seq 60); do docker info >/dev/null 2>&1 && break; kill -0 "$DOCKERD_PID" 2>/dev/null || break; sleep 0.5; done
  docker info >/dev/null 2>&1 || { DOCKERD_PID=; skip "dockerd cannot run here: $(tail -3 "$CACHE/dockerd.log" | tr '\n' ' ')"; }
fi

fails=0 passes=0
pass() { passes=$((passes+1)); }
fail() { echo "FAIL $*"; fails=$((fails+1)); }
now() { date +%s.%N; }
secs() { python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.2f}')" "$1" "$2"; }

bash "$SRC/deploy/docker/base_image.sh" "$CACHE" "$BASE"; rc=$?
[ $rc -eq 3 ] && skip "debootstrap is not installed (apt-get install debootstrap)"
[ $rc -eq 0 ] || { echo "FAIL: base image"; exit 1; }
t0=$(now)
docker build --network host --build-arg BASE_IMAGE="$BASE" -t "$IMAGE" "$SRC" >"$CACHE/build.log" 2>&1 ||
  { tail -30 "$CACHE/build.log"; echo "FAIL: docker build (log: $CACHE/build.log)"; exit 1; }
BUILD_S=$(secs "$t0" "$(now)")
SIZE=$(docker image inspect -f '{{.Size}}' "$IMAGE")
echo "image $IMAGE: $((SIZE / 1000000)) MB, built in ${BUILD_S} s (cached layers count as built)"

# The host's reference scores, fp32 (the exact path on both sides).
cat >"$TMP/req.json" <<'JSON'
{"query": "What is the capital of France?",
 "documents": ["Paris is the capital of France.", "Berlin ist die Hauptstadt.", "東京は日本の首都です。", "", "The Seine"]}
JSON
"$BIN" rerank --model "$MODEL" --precision fp32 --input "$TMP/req.json" >"$TMP/ref.json" || { echo "FAIL host rerank"; exit 1; }
same_scores() {  # response file: ranking equal to the reference, scores within 1e-4
  python3 - "$TMP/ref.json" "$1" <<'PY'
import json, sys
ref, got = (json.load(open(p))["results"] for p in sys.argv[1:3])
ok = [r["index"] for r in ref] == [r["index"] for r in got] and \
     all(abs(a["relevance_score"] - b["relevance_score"]) <= 1e-4 for a, b in zip(ref, got)) and len(ref) == len(got) == 5
sys.exit(0 if ok else 1)
PY
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
KEY=container-test-key

run_case() {  # name, docker run arguments...: starts the image, waits for /health, reranks, stops it
  local name=$1; shift
  local port; port=$(free_port)
  local t0; t0=$(now)
  local cid
  cid=$(docker run -d --network host --read-only --cap-drop ALL --security-opt no-new-privileges \
        -e LASTRANK_HOST=127.0.0.1 -e LASTRANK_PORT="$port" -e LASTRANK_API_KEY=$KEY -e LASTRANK_PRECISION=fp32 \
        "$@" "$IMAGE") || { fail "$name: docker run"; return; }
  CIDS+=("$cid")
  local ready=0
  for _ in $(seq 1200); do
    curl -sf "http://127.0.0.1:$port/health" >/dev/null 2>&1 && { ready=1; break; }
    [ "$(docker inspect -f '{{.State.Running}}' "$cid")" = true ] || break
    sleep 0.05
  done
  if [ $ready -eq 0 ]; then fail "$name: never ready"; docker logs "$cid" 2>&1 | tail -5; return; fi
  echo "$name: start to ready $(secs "$t0" "$(now)") s"
  pass
  curl -s -H "Authorization: Bearer $KEY" "http://127.0.0.1:$port/v1/rerank" --data-binary @"$TMP/req.json" >"$TMP/$name.json"
  if same_scores "$TMP/$name.json"; then pass; else fail "$name: scores differ from the host's"; cat "$TMP/$name.json"; fi
  local code; code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/v1/rerank" --data-binary @"$TMP/req.json")
  if [ "$code" = 401 ]; then pass; else fail "$name: no key gave $code, expected 401"; fi
  if [ "$(docker exec "$cid" id -u)" = 10001 ]; then pass; else fail "$name: not running as uid 10001"; fi
  if [ "$name" = hf-cache ]; then  # the image's HEALTHCHECK (first probe after its 10 s interval)
    local health=
    for _ in $(seq 40); do
      health=$(docker inspect -f '{{.State.Health.Status}}' "$cid"); [ "$health" = healthy ] && break; sleep 0.5
    done
    if [ "$health" = healthy ]; then pass; else fail "$name: HEALTHCHECK status $health"; fi
  fi
  docker stop -t 30 "$cid" >/dev/null
  local exit_code; exit_code=$(docker inspect -f '{{.State.ExitCode}}' "$cid")
  if [ "$exit_code" = 0 ] && docker logs "$cid" 2>&1 | grep -q '"event":"stopped"'; then pass; else
    fail "$name: docker stop: exit $exit_code"; docker logs "$cid" 2>&1 | tail -3; fi
}

bash "$SRC/tests/make_hf_cache.sh" "$MODEL" "$TMP/hf/hub" jinaai/jina-reranker-v3 >/dev/null
chmod -R a+rX "$TMP/hf"
run_case hf-cache -v "$TMP/hf:/data:ro"
run_case model-dir -v "$(cd "$MODEL" && pwd):/model:ro" -e LASTRANK_MODEL=/model

echo "$passes passed, $fails failed"
[ $fails -eq 0 ]
