#!/usr/bin/env bash
# One command for the end-to-end benchmark (issue #4): lastrank at each --precision and the peers
# (HF transformers fp32 in the reference chroot, llama.cpp llama-bench on a BF16 GGUF) on the same
# full-size random checkpoint, at 512/2048/8192 tokens; medians of >= 3 runs; writes
# bench/results/e2e.md (+ the raw JSON lines in bench/results/e2e.jsonl).
#
#   bench/run_bench.sh                       # everything (long: ~1 h on 2 cores)
#   LENGTHS="512 2048" PEERS=0 bench/run_bench.sh
#   PRECISIONS=int8 LENGTHS=512 RUNS=3 OUT=/tmp/x.md bench/run_bench.sh
#
# Knobs (environment): BENCH_DIR (/var/tmp/lastrank-bench: checkpoint + GGUF, not committed),
# LENGTHS ("512 2048 8192"), PRECISIONS ("fp32 bf16 int8"), LONG_PRECISIONS (precisions at
# lengths >= LONG; default "fp32 bf16 int8"), PEERS (1 | 0 | "hf" | "llamacpp"),
# RUNS (3, timed runs after 1 warm-up), LONG (8192: lengths >= this use the LONG_* run counts),
# LONG_RUNS (3 for lastrank), HF_LONG_RUNS (3, no warm-up), LLAMA_LONG_RUNS (1, no warm-up),
# THREADS (2), BUILD_DIR (build-bench), SEED (20251125), OUT (bench/results/e2e.md), LOAD_MAX (0.5),
# INDEX (bench/RESULTS.md when OUT is the default, else empty: its headline table is updated).
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
cd "$REPO"
BENCH_DIR=${BENCH_DIR:-/var/tmp/lastrank-bench}
LENGTHS=${LENGTHS:-512 2048 8192}
PRECISIONS=${PRECISIONS:-fp32 bf16 int8}
LONG_PRECISIONS=${LONG_PRECISIONS:-fp32 bf16 int8}
PEERS=${PEERS:-1}
RUNS=${RUNS:-3}
LONG=${LONG:-8192}
LONG_RUNS=${LONG_RUNS:-3}
HF_LONG_RUNS=${HF_LONG_RUNS:-3}
LLAMA_LONG_RUNS=${LLAMA_LONG_RUNS:-1}
THREADS=${THREADS:-2}
BUILD_DIR=${BUILD_DIR:-build-bench}
SEED=${SEED:-20251125}
OUT=${OUT:-bench/results/e2e.md}
LOAD_MAX=${LOAD_MAX:-0.5}
if [ "$OUT" = bench/results/e2e.md ]; then INDEX=${INDEX-bench/RESULTS.md}; else INDEX=${INDEX:-}; fi
ROOT=${LASTRANK_SID_ROOT:-/var/cache/lastrank/sid}
MODEL="$BENCH_DIR/full"
GGUF="$BENCH_DIR/full-bf16.gguf"
JSONL="${OUT%.md}.jsonl"
RAW="$BENCH_DIR/run-$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$RAW" "$(dirname "$OUT")"

want_peer() { [ "$PEERS" = 1 ] || [[ " $PEERS " == *" $1 "* ]]; }
log() { echo "[run_bench $(date -u +%H:%M:%S)] $*" >&2; }

load1=$(cut -d' ' -f1 /proc/loadavg)
if awk -v l="$load1" -v m="$LOAD_MAX" 'BEGIN{exit !(l > m)}'; then
  log "WARNING: 1-minute load average $load1 > $LOAD_MAX: timings will be noisy (recorded in the results)"
fi
uptime_before=$(uptime)

# 1. Build (Release, -march=native, no tests).
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DLASTRANK_TESTS=OFF >/dev/null
cmake --build "$BUILD_DIR" -j"$(nproc)" --target bench_e2e make_checkpoint

# 2. The full-size random checkpoint (exact jina-reranker-v3 shapes, bf16), once.
if [ ! -f "$MODEL/model.safetensors" ]; then
  log "generating the full-size checkpoint in $MODEL (seed $SEED)"
  "$BUILD_DIR/make_checkpoint" --out "$MODEL" --hidden 1024 --layers 28 --heads 16 --kv-heads 8 --head-dim 128 \
    --inter 3072 --proj-hidden 512 --proj-out 512 --dtype bf16 --seed "$SEED" --tokenizer-dir "$REPO/.deps/tokenizer"
fi

# 3. Peers: sid packages and the BF16 GGUF, once. The bench dir is bind-mounted into the chroot at the same path.
if [ "$PEERS" != 0 ]; then
  tools/bench_peer_llamacpp.sh setup
  mkdir -p "$ROOT$BENCH_DIR"
  mountpoint -q "$ROOT$BENCH_DIR" || mount --bind "$BENCH_DIR" "$ROOT$BENCH_DIR"
  if want_peer llamacpp && [ ! -f "$GGUF" ]; then
    log "converting $MODEL to $GGUF"
    tools/make_gguf.sh "$MODEL" "$GGUF" bf16
  fi
fi

# 4. Measurements: one process per (engine, precision, length) so peak RSS is per cell.
: >"$RAW/results.jsonl"
CMDS="$RAW/commands.txt"
: >"$CMDS"
record() {  # record NAME CMD... : runs CMD, appends its JSON lines to results.jsonl
  local name=$1; shift
  echo "$*" >>"$CMDS"
  log "$name: $*"
  if "$@" >"$RAW/$name.out" 2>"$RAW/$name.err"; then
    grep '^{' "$RAW/$name.out" >>"$RAW/results.jsonl" || true
    tail -n1 "$RAW/$name.out" >&2
  else
    log "FAILED ($name), see $RAW/$name.err"; tail -n5 "$RAW/$name.err" >&2
  fi
}
for n in $LENGTHS; do
  long=0; [ "$n" -ge "$LONG" ] && long=1
  precs=$PRECISIONS; [ $long = 1 ] && precs=$LONG_PRECISIONS
  for p in $precs; do
    r=$RUNS; [ $long = 1 ] && r=$LONG_RUNS
    record "lastrank-$p-$n" "$BUILD_DIR/bench_e2e" --model "$MODEL" --precision "$p" --tokens "$n" \
      --threads "$THREADS" --runs "$r" --warmup 1
  done
  if [ "$PEERS" != 0 ] && want_peer hf; then
    r=$RUNS w=1; [ $long = 1 ] && { r=$HF_LONG_RUNS; w=0; }
    record "hf-fp32-$n" tools/ref_env.sh run python3 tools/bench_peer_hf.py --model "$MODEL" --tokens "$n" \
      --runs "$r" --warmup "$w" --threads "$THREADS" --dtype fp32
  fi
  if [ "$PEERS" != 0 ] && want_peer llamacpp; then
    r=$RUNS; [ $long = 1 ] && r=$LLAMA_LONG_RUNS
    record "llamacpp-bf16-$n" tools/bench_peer_llamacpp.sh bench "$GGUF" "$n" "$r" "$THREADS"
  fi
done
uptime_after=$(uptime)

# 5. The results file.
cp "$RAW/results.jsonl" "$JSONL"
{
  echo "lscpu_model=$(lscpu | sed -n 's/^Model name: *//p')"
  echo "cpus=$(nproc)"
  echo "flags=$(grep -m1 '^flags' /proc/cpuinfo | tr ' ' '\n' | grep -E '^(avx2|fma|avx512f|avx512bw|avx512_vnni|avx512_bf16|avx_vnni|amx_tile|amx_bf16|avx512_fp16)$' | tr '\n' ' ')"
  echo "mem=$(free -g | awk '/^Mem:/{print $2" GiB"}')"
  echo "kernel=$(uname -r)"
  echo "os=$(. /etc/os-release; echo "$PRETTY_NAME")"
  echo "cxx=$(c++ --version | head -n1)"
  echo "commit=$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src bench tools || echo ' (+ uncommitted changes)')"
  echo "uptime_before=$uptime_before"
  echo "uptime_after=$uptime_after"
  echo "lengths=$LENGTHS"
  echo "threads=$THREADS"
  echo "seed=$SEED"
  echo "raw=$RAW"
  if [ "$PEERS" != 0 ]; then
    echo "peer_versions=$(chroot "$ROOT" dpkg-query -W -f='${Package} ${Version}, ' python3-torch python3-transformers \
      libopenblas0-openmp llama.cpp-tools libggml0 2>/dev/null)"
  fi
} >"$RAW/machine.txt"
python3 bench/render_e2e.py --results "$JSONL" --machine "$RAW/machine.txt" --commands "$CMDS" --out "$OUT" \
  ${INDEX:+--index "$INDEX"}
log "wrote $OUT and $JSONL (raw logs in $RAW)"
