#!/usr/bin/env bash
# One command for the end-to-end benchmark: lastrank and its peers on the same full-size random
# checkpoint (exact jina-reranker-v3 shapes), same run, same machine. On a QUIET machine (load < 0.5), as root:
#
#   tools/ref_env.sh setup && bench/run_bench.sh      # everything (long: ~3 h on 2 cores)
#
# It measures, and writes to bench/results/e2e.md (+ raw JSON lines in e2e.jsonl; the headline of bench/RESULTS.md):
#  1. the machine's fp32 FMA peak at 1 and 2 threads (bench_kernels --only fma), and again at THREADS
#     threads just before each engine's run (recorded in its rows: the host's speed can move);
#  2. realistic workloads (WORKLOADS): seeded rerank requests, lastrank timed as a warm `lastrank serve`
#     request and as a one-shot `lastrank rerank` process (bench/bench_workload.py); the peers as a bare
#     forward over the same number of tokens;
#  3. bare forwards over LENGTHS random token ids (bench_e2e; medians of >= 3 runs).
# Peers (Debian sid reference chroot, tools/ref_env.sh): HF transformers fp32 (PyTorch, OpenBLAS), ONNX
# Runtime fp32 and int8 (graph from tools/onnx_qwen3.py, checked against transformers first), llama.cpp
# BF16 and Q8_0 (llama-bench). Each engine's effective GFLOP/s (model FLOPs / time) is shown beside the peak.
# Peer commands run with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset (set here for old OpenBLAS builds,
# they slow a current one); the BLAS kernel in use is recorded.
#
#   LENGTHS="512 2048" PEERS=0 bench/run_bench.sh
#   PRECISIONS=int8 LENGTHS=512 RUNS=3 OUT=/tmp/x.md bench/run_bench.sh
#   LAYERS=2 RUNS=1 WORKLOAD_RUNS=1 LENGTHS=512 OUT=/tmp/smoke.md bench/run_bench.sh   # smoke test of everything
#
# Knobs (environment): BENCH_DIR (/var/tmp/lastrank-bench: checkpoint + GGUF + ONNX, not committed),
# LENGTHS ("512 2048 8192"; "" skips), PRECISIONS ("fp32 bf16 int8"), LONG_PRECISIONS (precisions at
# lengths >= LONG; default "fp32 bf16 int8"), PEERS (1 | 0 | a list of "hf onnx llamacpp"),
# RUNS (3, timed runs after 1 warm-up), LONG (8192: lengths >= this use the LONG_* run counts),
# LONG_RUNS (3 for lastrank), HF_LONG_RUNS (3, no warm-up; also ONNX Runtime), LLAMA_LONG_RUNS (1, no warm-up),
# WORKLOADS ("a:20:250 b:100:100 c:10:195": name:documents:words per document; "" skips),
# WORKLOAD_PRECISIONS ("fp32 bf16 int8"), WORKLOAD_MODES ("serve cli": how lastrank is timed), WORKLOAD_RUNS (3), WORKLOAD_WARMUP (full | small: the untimed
# warm-up request or CLI process runs the timed request, or its first document only, for ~10K-token lists that take minutes per request on 2 cores), ONNX_INT8 (auto | plain | reduce_range:
# auto takes plain quantize_dynamic when its hidden states pass the check, else reduce_range),
# LAYERS (28: fewer makes a cheaper checkpoint of the same widths, for smoke tests), THREADS (2),
# BUILD_DIR (build-bench), SEED (20251125), OUT (bench/results/e2e.md), LOAD_MAX (0.5), SETTLE_S (120: the
# longest wait, before an engine's run, for the FMA peak to come back to 90 % of the run's first; timed),
# INDEX (bench/RESULTS.md when OUT is the default, else empty: its headline tables are updated).
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
cd "$REPO"
BENCH_DIR=${BENCH_DIR:-/var/tmp/lastrank-bench}
LENGTHS=${LENGTHS-512 2048 8192}
PRECISIONS=${PRECISIONS:-fp32 bf16 int8}
LONG_PRECISIONS=${LONG_PRECISIONS:-fp32 bf16 int8}
PEERS=${PEERS:-1}
RUNS=${RUNS:-3}
LONG=${LONG:-8192}
LONG_RUNS=${LONG_RUNS:-3}
HF_LONG_RUNS=${HF_LONG_RUNS:-3}
LLAMA_LONG_RUNS=${LLAMA_LONG_RUNS:-1}
WORKLOADS=${WORKLOADS-a:20:250 b:100:100 c:10:195}
WORKLOAD_PRECISIONS=${WORKLOAD_PRECISIONS:-fp32 bf16 int8}
WORKLOAD_MODES=${WORKLOAD_MODES:-serve cli}
WORKLOAD_RUNS=${WORKLOAD_RUNS:-3}
WORKLOAD_WARMUP=${WORKLOAD_WARMUP:-full}
ONNX_INT8=${ONNX_INT8:-auto}
LAYERS=${LAYERS:-28}
THREADS=${THREADS:-2}
BUILD_DIR=${BUILD_DIR:-build-bench}
SEED=${SEED:-20251125}
OUT=${OUT:-bench/results/e2e.md}
LOAD_MAX=${LOAD_MAX:-0.5}
SETTLE_S=${SETTLE_S:-120}
if [ "$OUT" = bench/results/e2e.md ]; then INDEX=${INDEX-bench/RESULTS.md}; else INDEX=${INDEX:-}; fi
ROOT=${LASTRANK_SID_ROOT:-/var/cache/lastrank/sid}
MODEL="$BENCH_DIR/full"
[ "$LAYERS" = 28 ] || MODEL="$BENCH_DIR/full-L$LAYERS"
JSONL="${OUT%.md}.jsonl"
RAW="$BENCH_DIR/run-$(date -u +%Y%m%dT%H%M%SZ)"
RESULTS="$RAW/results.jsonl"
CMDS="$RAW/commands.txt"
mkdir -p "$RAW" "$(dirname "$OUT")"
: >"$RESULTS"
: >"$CMDS"

want_peer() { [ "$PEERS" != 0 ] && { [ "$PEERS" = 1 ] || [[ " $PEERS " == *" $1 "* ]]; }; }
log() { echo "[run_bench $(date -u +%H:%M:%S)] $*" >&2; }
# A peer's command: without the OPENBLAS_* tuning this workplace sets for old OpenBLAS builds.
peer() { env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$@"; }
ref() { peer tools/ref_env.sh run "$@"; }
gguf() { echo "$MODEL-$1.gguf"; }
onnx() { echo "$MODEL-onnx-$1/model.onnx"; }

# record NAME TAG CMD... : runs CMD, appends its JSON lines (with "workload": TAG unless TAG is "-").
# With PEAK_NOW set (timed), its lines also get "fma_peak_now": PEAK_NOW and "settled_s": SETTLED_S.
record() {
  local name=$1 tag=$2 pre=""; shift 2
  [ "$tag" = - ] || pre="\"workload\": \"$tag\", "
  [ -z "${PEAK_NOW:-}" ] || pre="$pre\"fma_peak_now\": $PEAK_NOW, \"settled_s\": ${SETTLED_S:-0}, "
  echo "$*" >>"$CMDS"
  log "$name: $*"
  if "$@" >"$RAW/$name.out" 2>"$RAW/$name.err"; then
    grep '^{' "$RAW/$name.out" | sed "s/^{/{$pre/" >>"$RESULTS" || true
    tail -n1 "$RAW/$name.out" >&2
  else
    log "FAILED ($name), see $RAW/$name.err"; tail -n5 "$RAW/$name.err" >&2
    return 1
  fi
}

check_load() {
  local load1; load1=$(cut -d' ' -f1 /proc/loadavg)
  if awk -v l="$load1" -v m="$LOAD_MAX" 'BEGIN{exit !(l > m)}'; then
    log "WARNING: 1-minute load average $load1 > $LOAD_MAX: timings will be noisy (recorded in the results)"
  fi
}

build() {  # Release, no tests; the kernel set is chosen at run time (docs/dispatch.md); ccache: cmake/ccache.cmake
  cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DLASTRANK_TESTS=OFF >/dev/null
  cmake --build "$BUILD_DIR" -j"$(nproc)" --target bench_e2e bench_kernels make_checkpoint lastrank
}

make_model() {  # the full-size random checkpoint (exact jina-reranker-v3 shapes, bf16), once
  [ -f "$MODEL/model.safetensors" ] && return
  log "generating the checkpoint $MODEL ($LAYERS layers, seed $SEED)"
  "$BUILD_DIR/make_checkpoint" --out "$MODEL" --hidden 1024 --layers "$LAYERS" --heads 16 --kv-heads 8 --head-dim 128 \
    --inter 3072 --proj-hidden 512 --proj-out 512 --dtype bf16 --seed "$SEED" --tokenizer-dir "$REPO/.deps/tokenizer"
}

# 3. Peers: the chroot's packages, then each peer's model file once. The bench dir is bind-mounted
# into the chroot at the same path.
setup_peers() {
  [ "$PEERS" != 0 ] || return 0
  tools/ref_env.sh setup
  tools/bench_peer_llamacpp.sh setup
  mkdir -p "$ROOT$BENCH_DIR"
  mountpoint -q "$ROOT$BENCH_DIR" || mount --bind "$BENCH_DIR" "$ROOT$BENCH_DIR"
  if want_peer llamacpp; then
    for t in bf16 q8_0; do
      [ -f "$(gguf "$t")" ] || { log "converting $MODEL to $(gguf "$t")"; tools/make_gguf.sh "$MODEL" "$(gguf "$t")" "$t"; }
    done
  fi
  if want_peer onnx; then setup_onnx; fi
}

# ONNX Runtime: the fp32 graph and both int8 variants, each checked against transformers fp32;
# ONNX_INT8_CHOSEN is the int8 variant the timings use.
setup_onnx() {
  [ -f "$(onnx fp32)" ] || ref python3 tools/onnx_qwen3.py build --model "$MODEL" --out "$(onnx fp32)"
  [ -f "$(onnx int8)" ] || ref python3 tools/onnx_qwen3.py quantize --fp32 "$(onnx fp32)" --out "$(onnx int8)"
  [ -f "$(onnx int8rr)" ] ||
    ref python3 tools/onnx_qwen3.py quantize --fp32 "$(onnx fp32)" --out "$(onnx int8rr)" --reduce-range
  record onnx-check-fp32 - ref python3 tools/onnx_qwen3.py check --model "$MODEL" --onnx "$(onnx fp32)" \
    --tokens 256 --threads "$THREADS" --max-abs 1e-4 --min-cos 0.99999 || true
  record onnx-check-int8 - ref python3 tools/onnx_qwen3.py check --model "$MODEL" --onnx "$(onnx int8)" "$(onnx int8rr)" \
    --tokens 256 --threads "$THREADS" --max-abs 1e9 --min-cos 0.99 || true
  ONNX_INT8_CHOSEN=$(choose_onnx_int8)
  log "ONNX Runtime int8: using ${ONNX_INT8_CHOSEN:-none} (ONNX_INT8=$ONNX_INT8; checks in $RAW/onnx-check-int8.out)"
}

choose_onnx_int8() {  # prints int8 | int8rr | nothing
  local plain_ok; plain_ok=$(grep -c "\"onnx\": \"$(onnx int8)\".*\"pass\": true" "$RAW/onnx-check-int8.out" || true)
  local rr_ok; rr_ok=$(grep -c "\"onnx\": \"$(onnx int8rr)\".*\"pass\": true" "$RAW/onnx-check-int8.out" || true)
  case "$ONNX_INT8" in
    plain) echo int8 ;;
    reduce_range) echo int8rr ;;
    *) if [ "$plain_ok" = 1 ]; then echo int8; elif [ "$rr_ok" = 1 ]; then echo int8rr; fi ;;
  esac
}

fma_peak() { record fma-peak - "$BUILD_DIR/bench_kernels" --only fma --threads 1,2 --reps 3 || true; }

# The GFLOP/s of the fma_peak line at THREADS threads on stdin (empty if there is none).
peak_at_threads() {
  python3 -c '
import json, sys
rows = [json.loads(l) for l in sys.stdin if l.startswith("{") and "fma_peak" in l]
print(next((r["gflops"] for r in rows if r["threads"] == int(sys.argv[1])), ""))' "$THREADS"
}

# The fp32 FMA peak at THREADS threads now, wall GFLOP/s (empty if the probe fails; ~1 s).
peak_now() { "$BUILD_DIR/bench_kernels" --only fma --threads "$THREADS" --reps 3 2>/dev/null | peak_at_threads || true; }

# timed NAME TAG CMD...: record an engine's run with the FMA peak probed just before it in its rows.
# A host's speed can move within a run (a 2-vCPU KVM guest has measured 2 threads at one core's
# peak for minutes, and 68-80 GFLOP/s within hours), so each engine's GFLOP/s is shown beside the
# peak of its own moment, not only the run's first. Settling: while the probe reads under 90 % of
# the run's first (PEAK_START, fma_peak's), it waits and probes again, up to SETTLE_S seconds. On the Zen 1
# firecracker guest the probe right after the 3.8 GB PyTorch process read 52-53 of 77-80 in two
# runs, and the engine timed next ran ~10 % slow (bench/results/e2e-c-zen1-2026-12-02-second.md).
timed() {
  local peak waited=0; peak=$(peak_now)
  while [ -n "$peak" ] && [ -n "${PEAK_START:-}" ] && [ "$waited" -lt "$SETTLE_S" ] &&
    awk -v p="$peak" -v s="$PEAK_START" 'BEGIN { exit !(p < 0.9 * s) }'; do
    sleep 5; waited=$((waited + 5)); peak=$(peak_now)
  done
  log "FMA peak now (${THREADS} threads): ${peak:-not measured} GFLOP/s (waited ${waited} s to settle)"
  PEAK_NOW=$peak SETTLED_S=$waited record "$@"
}

# peers_at PREFIX TAG N: every selected peer, a bare forward over N random token ids (TAG: record's).
peers_at() {
  local pre=$1 tag=$2 n=$3 r=$RUNS w=1 lr=$RUNS
  [ "$n" -ge "$LONG" ] && { r=$HF_LONG_RUNS; w=0; lr=$LLAMA_LONG_RUNS; }
  if want_peer hf; then
    timed "$pre-hf-fp32-$n" "$tag" ref python3 tools/bench_peer_hf.py --model "$MODEL" --tokens "$n" \
      --runs "$r" --warmup "$w" --threads "$THREADS" --dtype fp32 || true
  fi
  if want_peer onnx; then
    for v in fp32 ${ONNX_INT8_CHOSEN:-}; do
      timed "$pre-onnx-$v-$n" "$tag" ref python3 tools/bench_peer_onnx.py --onnx "$(onnx "$v")" --precision "$v" \
        --tokens "$n" --runs "$r" --warmup "$w" --threads "$THREADS" || true
    done
  fi
  if want_peer llamacpp; then
    for t in bf16 q8_0; do
      timed "$pre-llamacpp-$t-$n" "$tag" peer tools/bench_peer_llamacpp.sh bench "$(gguf "$t")" "$n" "$lr" "$THREADS" || true
    done
  fi
}

# 2. Realistic workloads: lastrank's serve and CLI paths, then the peers on the same token count.
workload() {
  local name=${1%%:*} rest=${1#*:}; local docs=${rest%%:*} words=${rest#*:}
  local req="$BENCH_DIR/workload-$name.json" n=""
  python3 bench/make_workload.py --docs "$docs" --words "$words" --seed "$SEED" --out "$req"
  for p in $WORKLOAD_PRECISIONS; do
    for mode in $WORKLOAD_MODES; do
      timed "$name-lastrank-$mode-$p" "$name" python3 bench/bench_workload.py --bin "$BUILD_DIR/lastrank" --model "$MODEL" \
        --request "$req" --mode "$mode" --precision "$p" --threads "$THREADS" --runs "$WORKLOAD_RUNS" \
        --warmup "$WORKLOAD_WARMUP" || true
    done
  done
  n=$(cat "$RAW/$name"-lastrank-*.out 2>/dev/null | python3 -c '
import json, sys
print(next((json.loads(l)["tokens"] for l in sys.stdin if l.startswith("{")), ""))')
  [ -n "$n" ] || { log "workload $name: no lastrank result, peers skipped"; return 0; }
  log "workload $name: $docs documents x ~$words words = $n prompt tokens"
  RUNS=$WORKLOAD_RUNS peers_at "$name" "$name" "$n"
}

# 4. Bare forwards over LENGTHS random token ids: one process per (engine, precision, length).
lengths() {
  local n p r precs
  for n in $LENGTHS; do
    precs=$PRECISIONS r=$RUNS
    [ "$n" -ge "$LONG" ] && { precs=$LONG_PRECISIONS; r=$LONG_RUNS; }
    for p in $precs; do
      timed "lastrank-$p-$n" - "$BUILD_DIR/bench_e2e" --model "$MODEL" --precision "$p" --tokens "$n" \
        --threads "$THREADS" --runs "$r" --warmup 1 || true
    done
    peers_at random - "$n"
  done
}

machine_facts() {
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
  echo "workloads=$WORKLOADS"
  echo "layers=$LAYERS"
  echo "threads=$THREADS"
  echo "seed=$SEED"
  echo "raw=$RAW"
  echo "host_openblas_env=$(env | grep '^OPENBLAS_' | tr '\n' ' ')"
  if [ "$PEERS" != 0 ]; then
    echo "peer_versions=$(chroot "$ROOT" dpkg-query -W -f='${Package} ${Version}, ' python3-torch python3-transformers \
      libopenblas0-openmp python3-onnxruntime python3-onnx llama.cpp-tools libggml0 2>/dev/null)"
  fi
}

check_load
uptime_before=$(uptime)
build
make_model
setup_peers
fma_peak
PEAK_START=$(peak_at_threads <"$RAW/fma-peak.out" || true)  # the peak the report prints, when THREADS is 1 or 2
[ -n "$PEAK_START" ] || PEAK_START=$(peak_now)
for w in $WORKLOADS; do workload "$w"; done
lengths
uptime_after=$(uptime)
cp "$RESULTS" "$JSONL"
machine_facts >"$RAW/machine.txt"
python3 bench/render_e2e.py --results "$JSONL" --machine "$RAW/machine.txt" --commands "$CMDS" \
  --config "$MODEL/config.json" --out "$OUT" ${INDEX:+--index "$INDEX"}
log "wrote $OUT and $JSONL (raw logs in $RAW)"
