#!/usr/bin/env bash
# Cancellation latency on the full-size model (docs/server.md, "Cancellation"): a forward over an
# ~8K-token prompt is cancelled 1 s in (then 1.37 s, 1.74 s, ... per run, to land at different
# points of a layer); prints how long the compute thread stays busy after the cancel, and how long
# one layer takes (one uncancelled forward, traced). The bound to meet: free within 2 s.
#
#   bench/cancel_latency.sh                      # bf16, 8192 tokens, 2 threads, 5 runs
#   PRECISION=int8 RUNS=3 bench/cancel_latency.sh
#
# Knobs (environment): BENCH_DIR (/var/tmp/lastrank-bench: the seeded full-size checkpoint, shared
# with bench/run_bench.sh, not committed), BUILD_DIR (build), PRECISION (bf16), TOKENS (8192),
# THREADS (2), RUNS (5), WARMUP (0), CANCEL_AFTER (1.0), SEED (20251125: run_bench.sh's checkpoint).
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
cd "$REPO"
BENCH_DIR=${BENCH_DIR:-/var/tmp/lastrank-bench}
BUILD_DIR=${BUILD_DIR:-build}
PRECISION=${PRECISION:-bf16}
TOKENS=${TOKENS:-8192}
THREADS=${THREADS:-2}
RUNS=${RUNS:-5}
WARMUP=${WARMUP:-0}
CANCEL_AFTER=${CANCEL_AFTER:-1.0}
SEED=${SEED:-20251125}
MODEL="$BENCH_DIR/full"

cmake --build "$BUILD_DIR" --target bench_e2e make_checkpoint >/dev/null
if [ ! -f "$MODEL/model.safetensors" ]; then
  echo "generating the full-size checkpoint in $MODEL (seed $SEED)" >&2
  mkdir -p "$BENCH_DIR"
  "$BUILD_DIR/make_checkpoint" --out "$MODEL" --hidden 1024 --layers 28 --heads 16 --kv-heads 8 --head-dim 128 \
    --inter 3072 --proj-hidden 512 --proj-out 512 --dtype bf16 --seed "$SEED" --tokenizer-dir "$REPO/.deps/tokenizer"
fi

echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores; load before: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
OUT=$(mktemp)
trap 'rm -f "$OUT"' EXIT
"$BUILD_DIR/bench_e2e" --model "$MODEL" --precision "$PRECISION" --tokens "$TOKENS" --threads "$THREADS" \
  --runs "$RUNS" --warmup "$WARMUP" --cancel-after "$CANCEL_AFTER" >"$OUT"
cat "$OUT"
python3 - "$OUT" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    j = json.loads(line)
    at = ", ".join("%.2f" % t for t in j["cancelled_at_s"])
    print("%s, %d tokens, %d threads (%s): layer median %.2f s, max %.2f s; cancel -> compute thread free: "
          "median %.3f s, max %.3f s over %d cancels at %s s"
          % (j["precision"], j["tokens"], j["threads"], j["kernel_set"], j["layer_median_s"], j["layer_max_s"],
             j["cancel_latency_median_s"], j["cancel_latency_max_s"], len(j["cancel_latency_s"]), at))
PY
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
