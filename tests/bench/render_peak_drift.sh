#!/usr/bin/env bash
# bench/render_e2e.py puts the FMA peak probed just before each engine's run (bench/run_bench.sh
# `timed`, "fma_peak_now") beside that engine's GFLOP/s, and warns when the peak moved > 10 % within
# the run; a run whose peak held still gets no warning. Synthetic rows, the host's python3 (the
# renderer is standard library only).
#   bash tests/bench/render_peak_drift.sh <source dir>
set -euo pipefail
SRC=${1:?source dir}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cat >"$T/config.json" <<'JSON'
{"hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 4,
 "num_key_value_heads": 2, "head_dim": 16}
JSON
printf 'lscpu_model=test CPU\ncpus=2\nthreads=2\nuptime_before= 01:00:00 up 1 day,  load average: 0.10, 0.10, 0.10\ncommit=0000000\n' >"$T/machine.txt"
: >"$T/commands.txt"
rows() {  # rows PEAK_A PEAK_B: two engines' rows, each with the peak probed before it
  cat <<JSON
{"kernel":"fma_peak","kernel_set":"avx2","prec":"fp32","threads":2,"gflops":80.0}
{"fma_peak_now": $1, "engine": "lastrank", "mode": "forward", "precision": "bf16", "threads": 2, "tokens": 512, "median_s": 2.0, "tok_per_s": 256.0, "runs": [2.0], "warmup": 1, "peak_rss_mb": 100.0}
{"workload": "c", "fma_peak_now": $2, "settled_s": 35, "engine": "hf-transformers", "precision": "fp32", "threads": 2, "tokens": 512, "median_s": 3.0, "tok_per_s": 170.7, "runs": [3.0], "warmup": 1, "peak_rss_mb": 200.0}
JSON
}
render() {  # render NAME PEAK_A PEAK_B -> $T/NAME.md
  rows "$2" "$3" >"$T/$1.jsonl"
  python3 "$SRC/bench/render_e2e.py" --results "$T/$1.jsonl" --machine "$T/machine.txt" --commands "$T/commands.txt" \
    --config "$T/config.json" --out "$T/$1.md"
}
fail() { echo "FAIL: $*"; exit 1; }

render drift 80.0 40.0
grep -q "Probed again just before each engine's run (the engine threads): 40-80 GFLOP/s" "$T/drift.md" || fail "no probe range"
grep -q "the machine's peak moved 50 %" "$T/drift.md" || fail "no drift warning for a peak that halved"
grep -q "GFLOP/s of 40\|[0-9] of 40 GFLOP/s" "$T/drift.md" || fail "the peer's GFLOP/s lacks its own peak (40)"
grep -q "FMA peak just before: 80.0 GFLOP/s)" "$T/drift.md" || fail "the run list lacks lastrank's peak (80)"
grep -q "FMA peak just before: 40.0 GFLOP/s, after waiting 35 s for it to settle" "$T/drift.md" ||
  fail "the run list lacks the peer's settling wait"

render steady 80.0 77.0
grep -q "Probed again just before each engine's run (the engine threads): 77-80 GFLOP/s" "$T/steady.md" || fail "no probe range"
if grep -q "peak moved" "$T/steady.md"; then fail "a drift warning for a peak within 10 %"; fi
echo "render_e2e: each engine's GFLOP/s beside its own peak; drift > 10 % warned, 4 % not"
