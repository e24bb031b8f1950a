#!/usr/bin/env python3
# Peer benchmark: HF transformers Qwen3Model prefill over N random token ids (< 151669, seeded), the
# PyTorch counterpart of bench/bench_e2e. Runs in the reference chroot (tools/ref_env.sh run ...).
# Prints one JSON line in bench_e2e's schema: {engine, precision, threads, tokens, median_s, tok_per_s,
# runs[], peak_rss_mb, versions, blas}. Run one length per process so peak RSS means something.
# The BLAS that torch's fp32 GEMM runs (OpenBLAS's build config and the core kernel it picked, and any
# OPENBLAS_* variables that steer it) is printed on stderr and recorded under "blas": a peer whose
# BLAS fell back to an old or generic kernel must show.
import argparse
import ctypes
import json
import os
import resource
import statistics
import sys
import time

import torch
import transformers
from transformers import Qwen3Model

kFirstSpecialId = 151669  # ids >= this are the jina special tokens; random prompts stay below


def blas_info() -> dict:
    """torch's BLAS as built, and the library it loaded: OpenBLAS's config and core name when it is OpenBLAS."""
    info = {"torch_blas": sorted({w.strip(" ,") for w in torch.__config__.show().split() if "BLAS" in w}),
            "env": {k: v for k, v in os.environ.items() if k.startswith("OPENBLAS")}}
    try:
        lib = ctypes.CDLL("libblas.so.3")  # already loaded by torch: the alternative in use
        for fn in ("openblas_get_config", "openblas_get_corename"):
            getattr(lib, fn).restype = ctypes.c_char_p
            info[fn] = getattr(lib, fn)().decode()
        info["openblas_num_threads"] = lib.openblas_get_num_threads()
    except (OSError, AttributeError) as e:
        info["openblas"] = f"not OpenBLAS or not found ({e})"
    return info


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--model", required=True, help="HF checkpoint dir (config.json + safetensors)")
    ap.add_argument("--tokens", type=int, required=True)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--dtype", choices=["fp32", "bf16"], default="fp32")
    ap.add_argument("--seed", type=int, default=1234)
    a = ap.parse_args()
    if a.tokens < 1 or a.runs < 1 or a.warmup < 0:
        ap.error("--tokens and --runs must be >= 1, --warmup >= 0")

    torch.set_num_threads(a.threads)
    blas = blas_info()
    print(f"hf: BLAS {json.dumps(blas)}", file=sys.stderr, flush=True)
    dtype = torch.float32 if a.dtype == "fp32" else torch.bfloat16
    t0 = time.perf_counter()
    model = Qwen3Model.from_pretrained(a.model, dtype=dtype).eval()
    load_s = time.perf_counter() - t0
    gen = torch.Generator().manual_seed(a.seed)
    ids = torch.randint(0, kFirstSpecialId, (1, a.tokens), generator=gen)

    runs = []
    with torch.inference_mode():
        for i in range(a.warmup + a.runs):
            t = time.perf_counter()
            out = model(input_ids=ids, use_cache=False).last_hidden_state
            _ = out[0, -1].float().sum().item()  # readout at the last position
            dt = time.perf_counter() - t
            if i >= a.warmup:
                runs.append(dt)
            print(f"hf {a.dtype} N={a.tokens} run {i} ({'warm-up' if i < a.warmup else 'timed'}): {dt:.3f} s",
                  file=sys.stderr, flush=True)
    med = statistics.median(runs)
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(json.dumps({
        "engine": "hf-transformers", "precision": a.dtype, "threads": a.threads, "tokens": a.tokens,
        "median_s": med, "tok_per_s": a.tokens / med, "runs": runs, "warmup": a.warmup,
        "peak_rss_mb": round(rss_mb, 1), "load_s": load_s,
        "attn_implementation": getattr(model.config, "_attn_implementation", None),
        "versions": {"torch": torch.__version__, "transformers": transformers.__version__},
        "blas": blas,
    }), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
