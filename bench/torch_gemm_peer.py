# Peer baseline for bench_kernels: PyTorch fp32 matmul (the GEMM HF transformers runs) on the six
# Qwen3-0.6B linear shapes, same machine and thread count; wall and process-CPU GFLOP/s, JSON lines.
#   tools/ref_env.sh run python3 /repo/bench/torch_gemm_peer.py [threads] [m,m,...] [reps]
import json, sys, time
import torch

threads = int(sys.argv[1]) if len(sys.argv) > 1 else 2
ms = [int(v) for v in (sys.argv[2] if len(sys.argv) > 2 else "512,2048,8192").split(",")]
reps = int(sys.argv[3]) if len(sys.argv) > 3 else 3
torch.set_num_threads(threads)
shapes = [("q", 2048, 1024), ("k", 1024, 1024), ("v", 1024, 1024), ("o", 1024, 2048), ("gate_up", 3072, 1024), ("down", 1024, 3072)]
print(json.dumps({"torch": torch.__version__, "threads": threads, "blas": torch.__config__.show().count("openblas") > 0}))
g = torch.Generator().manual_seed(1)
for name, n, k in shapes:
    w = torch.randn(n, k, generator=g) * 0.02
    for m in ms:
        x = torch.randn(m, k, generator=g)
        torch.nn.functional.linear(x, w)
        walls, cpus = [], []
        for _ in range(reps):
            t0, c0 = time.perf_counter(), time.process_time()
            torch.nn.functional.linear(x, w)
            walls.append(time.perf_counter() - t0); cpus.append(time.process_time() - c0)
        walls.sort(); cpus.sort()
        fl = 2.0 * m * n * k
        print(json.dumps({"kernel": "gemm", "shape": name, "m": m, "prec": "torch_fp32", "threads": threads,
                          "ms": round(walls[len(walls) // 2] * 1e3, 2), "gflops": round(fl / walls[len(walls) // 2] * 1e-9, 1),
                          "gflops_per_cpu_s": round(fl / cpus[len(cpus) // 2] * 1e-9, 1)}), flush=True)
