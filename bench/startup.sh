#!/usr/bin/env bash
# One-shot CLI start-up on the full-size checkpoint (bench/results/startup.md): `lastrank rerank` of
# a 3-document request, --threads 2, each precision, RUNS times with the checkpoint in the page
# cache. Prints wall / user / sys seconds of the whole process and the wall and CPU seconds of each
# load phase (the --verbose model_loaded and request_done events), with the 1-minute load average
# before every run, the CPU model, and how much of model.safetensors is still in the page cache after
# a run (a start-up must leave it there for the next one), and what the packed-weight cache did
# and the shared prefix's K/V (docs/model-files.md): the cache lives in $LASTRANK_WEIGHT_CACHE
# (default $DIR/weight-cache, emptied at the start); each precision's first run writes its files
# ("written"), the others hit them.
# LASTRANK_WEIGHT_CACHE=off measures the reference path (packing at every start).
#   [LASTRANK_BIN=path/to/lastrank] bench/startup.sh [BUILD_DIR (default build)] [RUNS (default 3)] [PRECISIONS (default "fp32 bf16 int8")]
# The checkpoint (1.2 GB, seeded random weights, the exact jina-reranker-v3 shapes, bf16) is made
# once under $LASTRANK_FULLSIZE_DIR (default /var/tmp/lastrank-fullsize), never in the repository.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-build}
RUNS=${2:-3}
PRECISIONS=${3:-"fp32 bf16 int8"}
case "$BUILD" in /*) ;; *) BUILD="$REPO/$BUILD" ;; esac
BIN=${LASTRANK_BIN:-$BUILD/lastrank}  # the binary measured (e.g. an older build kept for a before/after)
DIR=${LASTRANK_FULLSIZE_DIR:-/var/tmp/lastrank-fullsize}
MODEL=$DIR/model
REQ=$DIR/request-3docs.json
export LASTRANK_WEIGHT_CACHE=${LASTRANK_WEIGHT_CACHE:-$DIR/weight-cache}
[ "$LASTRANK_WEIGHT_CACHE" = off ] || rm -rf "$LASTRANK_WEIGHT_CACHE"
FLAGS="--hidden 1024 --layers 28 --heads 16 --kv-heads 8 --head-dim 128 --inter 3072 --proj-hidden 512 --proj-out 512 --dtype bf16 --seed 0"

mkdir -p "$DIR"
if [ ! -f "$MODEL/.stamp" ] || [ "$(cat "$MODEL/.stamp")" != "$FLAGS" ]; then
  rm -rf "$MODEL"
  "$BUILD/make_checkpoint" --out "$MODEL" $FLAGS --tokenizer-dir "$REPO/.deps/tokenizer" >/dev/null
  printf '%s' "$FLAGS" >"$MODEL/.stamp"
fi
cat >"$REQ" <<'JSON'
{"model": "jina-reranker-v3", "query": "Which drinks are good for health?",
 "documents": ["Green tea contains catechins, antioxidants that may lower the risk of heart disease.",
               "The Rhine is one of the longest rivers in Europe and flows through Switzerland and Germany.",
               "Coffee is a popular drink across the Arab world and is usually served to guests."]}
JSON

echo "CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(nproc) cores online"
echo "lastrank: $("$BIN" --version | tr '\n' ' ')"
cat "$MODEL/model.safetensors" >/dev/null  # warm page cache
resident() { fincore --bytes --noheadings --output RES "$MODEL/model.safetensors" 2>/dev/null | tr -d ' ' || echo "?"; }
size=$(stat -c %s "$MODEL/model.safetensors")

printf '| precision | run | load avg | wall s | user s | sys s | phases: wall s / cpu s | ckpt cached after |\n'
printf '|---|---|---|---|---|---|---|---|\n'
for p in $PRECISIONS; do
  for r in $(seq 1 "$RUNS"); do
    load=$(cut -d' ' -f1 /proc/loadavg)
    TIMEFORMAT='%R %U %S'
    { time "$BIN" rerank --model "$MODEL" --input "$REQ" --precision "$p" --threads 2 --verbose \
        >"$DIR/out.json" 2>"$DIR/events.txt"; } 2>"$DIR/time.txt"
    read -r wall user sys <"$DIR/time.txt"
    phases=$(python3 - "$DIR/events.txt" <<'PY'
import json, sys
out = []
for line in open(sys.argv[1]):
    try:
        e = json.loads(line)
    except ValueError:
        continue
    if e.get("event") == "model_loaded":
        out += [f'{p["phase"]} {p["seconds"]:.3f}/{p["cpu_seconds"]:.3f}' for p in e.get("phases", [])]
        w = e.get("weight_cache", "n/a")
        out.append("cache " + (w if isinstance(w, str) else " ".join(f'{s["file"]} {s["status"]}' for s in w)))
    if e.get("event") == "request_done":
        out.append(f'rerank ({e["tokens"]} tok) {e["seconds"]:.3f}/{e["cpu_seconds"]:.3f}')
print(", ".join(out))
PY
)
    cached=$(resident)
    pct=$(awk -v c="$cached" -v s="$size" 'BEGIN{ if (c ~ /^[0-9]+$/) printf "%.0f%%", 100*c/s; else print "?" }')
    printf '| %s | %s | %s | %s | %s | %s | %s | %s |\n' "$p" "$r" "$load" "$wall" "$user" "$sys" "$phases" "$pct"
    cat "$MODEL/model.safetensors" >/dev/null  # the next run starts warm whatever this one left
  done
done
