#!/usr/bin/env python3
"""Peer benchmark: ONNX Runtime (CPUExecutionProvider) prefill of N seeded random token ids through the
Qwen3 graph of tools/onnx_qwen3.py (fp32, or its quantize_dynamic int8 copy): the bare forward, like
tools/bench_peer_hf.py. Session: intra-op THREADS, inter-op 1, sequential, ORT_ENABLE_ALL.
Runs in the reference chroot (tools/ref_env.sh run ...). Prints the ORT version and providers on
stderr and one JSON line in bench_e2e's schema: {engine, precision, threads, tokens, median_s,
tok_per_s, runs[], warmup, peak_rss_mb, load_s, versions, providers}. One length per process.
"""
import argparse
import json
import os
import resource
import statistics
import sys
import time

import onnxruntime as ort

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import onnx_qwen3  # noqa: E402  (same directory)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--onnx", required=True, help="model.onnx written by tools/onnx_qwen3.py")
    ap.add_argument("--precision", required=True, help="label of the model: fp32 | int8 | int8-rr (reduce_range)")
    ap.add_argument("--tokens", type=int, required=True)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1234)
    a = ap.parse_args()
    if a.tokens < 1 or a.runs < 1 or a.warmup < 0:
        ap.error("--tokens and --runs must be >= 1, --warmup >= 0")

    t0 = time.perf_counter()
    sess = onnx_qwen3.session(a.onnx, a.threads)
    load_s = time.perf_counter() - t0
    print(f"onnxruntime {ort.__version__}; available providers {ort.get_available_providers()}; "
          f"session providers {sess.get_providers()}", file=sys.stderr, flush=True)
    ids = onnx_qwen3.random_ids(a.tokens, 1 << 30, a.seed)
    runs = []
    for i in range(a.warmup + a.runs):
        t = time.perf_counter()
        out = onnx_qwen3.run(sess, ids)
        _ = float(out[0, -1].sum())  # readout at the last position
        dt = time.perf_counter() - t
        if i >= a.warmup:
            runs.append(dt)
        print(f"onnxruntime {a.precision} N={a.tokens} run {i} ({'warm-up' if i < a.warmup else 'timed'}): {dt:.3f} s",
              file=sys.stderr, flush=True)
    med = statistics.median(runs)
    print(json.dumps({
        "engine": "onnxruntime", "precision": a.precision, "threads": a.threads, "tokens": a.tokens,
        "median_s": med, "tok_per_s": a.tokens / med, "runs": runs, "warmup": a.warmup,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 1), "load_s": load_s,
        "versions": {"onnxruntime": ort.__version__}, "providers": sess.get_providers(),
    }), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
