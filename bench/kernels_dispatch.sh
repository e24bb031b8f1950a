#!/usr/bin/env bash
# Dispatched (portable) kernels vs a -march=native build, A/B interleaved: builds bench_kernels in
# a LASTRANK_NATIVE=ON tree and in the default portable tree, runs both alternately for ROUNDS
# rounds (native, portable, native, ...) and prints a markdown table for bench/results/kernels.md:
# the median GFLOP per CPU-second of each (kernel, shape, precision, m / len, threads) over the
# rounds, and portable / native. The goal (docs/dispatch.md): dispatched within 3 % of native.
# Run on a quiet machine; it names the CPU and the kernel set each build runs.
#   bash bench/kernels_dispatch.sh [ROUNDS (3)] [bench_kernels args (--threads 1 --m 2048 --len 2048 --reps 3)]
# Build trees: LASTRANK_NATIVE_DIR (build-native), LASTRANK_PORTABLE_DIR (build-portable).
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
ROUNDS=${1:-3}
shift || true
ARGS=("$@")
[ ${#ARGS[@]} -gt 0 ] || ARGS=(--threads 1 --m 2048 --len 2048 --reps 3)
NATIVE=${LASTRANK_NATIVE_DIR:-$REPO/build-native}
PORTABLE=${LASTRANK_PORTABLE_DIR:-$REPO/build-portable}
JOBS=${LASTRANK_BUILD_JOBS:-$(nproc)}
OUT=$(mktemp -d); trap 'rm -rf "$OUT"' EXIT

for tree in "$NATIVE:ON" "$PORTABLE:OFF"; do  # an existing tree is reused (it must be of the right kind)
  dir=${tree%:*} native=${tree##*:}
  [ -f "$dir/CMakeCache.txt" ] ||
    cmake -S "$REPO" -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DLASTRANK_NATIVE="$native" -DLASTRANK_TESTS=OFF >/dev/null
  grep -q "^LASTRANK_NATIVE:BOOL=$native\$" "$dir/CMakeCache.txt" || { echo "$dir is not a LASTRANK_NATIVE=$native tree" >&2; exit 2; }
  grep -q "^CMAKE_BUILD_TYPE:STRING=Release\$" "$dir/CMakeCache.txt" || { echo "$dir is not a Release tree" >&2; exit 2; }
  cmake --build "$dir" -j"$JOBS" --target bench_kernels >/dev/null
done

for r in $(seq 1 "$ROUNDS"); do
  for v in native portable; do
    if [ $v = native ]; then dir=$NATIVE; else dir=$PORTABLE; fi
    echo "round $r/$ROUNDS: $v" >&2
    "$dir/bench_kernels" "${ARGS[@]}" >"$OUT/$v.$r.jsonl"
  done
done

CPU=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
python3 - "$OUT" "$ROUNDS" "$CPU" "$(git -C "$REPO" rev-parse --short HEAD)" "${ARGS[*]}" <<'PY'
import json, statistics, sys, os, datetime
out, rounds, cpu, commit, args = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
runs = {}   # variant -> key -> [gflops_per_cpu_s]
sets = {}
for v in ("native", "portable"):
    runs[v] = {}
    for r in range(1, rounds + 1):
        for line in open(os.path.join(out, f"{v}.{r}.jsonl")):
            j = json.loads(line)
            if "kernel_set" in j:
                sets[v] = j["kernel_set"]
                continue
            if j.get("kernel") not in ("gemm", "attention"):
                continue
            key = (j["kernel"], j.get("shape", "-"), j["prec"], j.get("m", j.get("len")), j["threads"])
            runs[v].setdefault(key, []).append(j["gflops_per_cpu_s"])
load = os.getloadavg()[0]
print(f"### Dispatched vs native kernels ({datetime.datetime.utcnow():%Y-%m-%d %H:%M} UTC, {commit})\n")
print(f"CPU: {cpu}; kernel set: native build {sets.get('native', '?')}, portable build {sets.get('portable', '?')}; "
      f"load average {load:.1f} at the end.\n")
print(f"`bash bench/kernels_dispatch.sh {rounds} {args}`: median over {rounds} interleaved rounds of GFLOP per CPU-second.\n")
print("| kernel | shape | precision | m / len | threads | native | portable | portable / native |")
print("|---|---|---|---:|---:|---:|---:|---:|")
ratios = []
for key in runs["native"]:
    if key not in runs["portable"]:
        continue
    a, b = statistics.median(runs["native"][key]), statistics.median(runs["portable"][key])
    ratios.append(b / a)
    print(f"| {key[0]} | {key[1]} | {key[2]} | {key[3]} | {key[4]} | {a:.1f} | {b:.1f} | {b / a:.3f} |")
if ratios:
    print(f"\nportable / native: geometric mean {statistics.geometric_mean(ratios):.3f}, worst {min(ratios):.3f}")
PY
