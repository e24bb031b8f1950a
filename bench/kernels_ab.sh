#!/usr/bin/env bash
# A/B of bench_kernels variants, interleaved round by round (v1, v2, ..., v1, v2, ...), as a
# markdown table for bench/results/kernels.md: the median GFLOP (int8: GOP) per CPU-second of each
# (kernel, shape, precision, m / len, threads) over the rounds, and each variant / the first. A
# variant is LABEL=BINARY[@SET]: that bench_kernels binary under LASTRANK_ISA=SET (docs/dispatch.md).
# Run it on a quiet machine; it prints the CPU and the load average before and after.
#   bash bench/kernels_ab.sh ROUNDS VARIANT... [-- bench_kernels args (--only gemm --threads 1 --m 2048 --reps 3)]
#   bash bench/kernels_ab.sh 3 old=build-old/bench_kernels@avx2 new=build/bench_kernels@avx2 -- --prec int8,fp32
set -euo pipefail
ROUNDS=$1
shift
VARIANTS=()
while [ $# -gt 0 ] && [ "$1" != -- ]; do VARIANTS+=("$1"); shift; done
[ $# -gt 0 ] && shift
ARGS=("$@")
[ ${#ARGS[@]} -gt 0 ] || ARGS=(--only gemm --threads 1 --m 2048 --reps 3)
[ ${#VARIANTS[@]} -ge 1 ] || { echo "usage: $0 ROUNDS LABEL=BINARY[@SET]... [-- bench_kernels args]" >&2; exit 2; }
OUT=$(mktemp -d); trap 'rm -rf "$OUT"' EXIT
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
for r in $(seq 1 "$ROUNDS"); do
  for v in "${VARIANTS[@]}"; do
    label=${v%%=*} spec=${v#*=}
    bin=${spec%@*} set=""
    [[ "$spec" == *@* ]] && set=${spec##*@}
    echo "round $r/$ROUNDS: $label" >&2
    if [ -n "$set" ]; then LASTRANK_ISA=$set "$bin" "${ARGS[@]}" >"$OUT/$label.$r.jsonl"
    else "$bin" "${ARGS[@]}" >"$OUT/$label.$r.jsonl"; fi
  done
done
LOAD1=$(cut -d' ' -f1-3 /proc/loadavg)
CPU=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
labels=()
for v in "${VARIANTS[@]}"; do labels+=("${v%%=*}"); done
python3 - "$OUT" "$ROUNDS" "$CPU" "$LOAD0" "$LOAD1" "${ARGS[*]}" "${VARIANTS[*]}" "${labels[@]}" <<'PY'
import json, os, statistics, sys
out, rounds, cpu, load0, load1, args, variants = sys.argv[1:8]
labels = sys.argv[8:]
rounds = int(rounds)
runs, sets = {}, {}
for v in labels:
    runs[v] = {}
    for r in range(1, rounds + 1):
        for line in open(os.path.join(out, f"{v}.{r}.jsonl")):
            j = json.loads(line)
            if "kernel_set" in j:
                sets[v] = f"{j['kernel_set']}, FMA peak {j['fma_peak_gflops_per_cpu_s']:.0f}"
                continue
            if j.get("kernel") not in ("gemm", "attention"):
                continue
            key = (j["kernel"], j.get("shape", "-"), j["prec"], j.get("m", j.get("len")), j["threads"])
            runs[v].setdefault(key, []).append(j["gflops_per_cpu_s"])
print(f"CPU: {cpu}; load average {load0} before, {load1} after.\n")
print(f"`bash bench/kernels_ab.sh {rounds} {variants} -- {args}`: median over {rounds} interleaved rounds of "
      "GFLOP (int8: GOP) per CPU-second; kernel set and fp32 FMA peak (GFLOP/cpu-s) per variant: "
      + "; ".join(f"{v}: {sets.get(v, '?')}" for v in labels) + ".\n")
head = "| kernel | shape | precision | m / len | threads | " + " | ".join(labels)
head += "".join(f" | {v} / {labels[0]}" for v in labels[1:]) + " |"
print(head)
print("|" + "---|" * 5 + "---:|" * (2 * len(labels) - 1))
for key in runs[labels[0]]:
    if not all(key in runs[v] for v in labels):
        continue
    med = [statistics.median(runs[v][key]) for v in labels]
    row = f"| {key[0]} | {key[1]} | {key[2]} | {key[3]} | {key[4]} | " + " | ".join(f"{x:.1f}" for x in med)
    row += "".join(f" | {x / med[0]:.2f}" for x in med[1:]) + " |"
    print(row)
PY
