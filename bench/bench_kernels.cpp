// Kernel microbenchmark: GFLOP/s of the packed GEMM (fp32 / bf16 / int8) on the six Qwen3-0.6B
// linear shapes and of causal GQA attention (16 q heads, 8 kv heads, d 128), median of --reps
// runs after one warm-up. Prints one JSON line per measurement.
//   bench_kernels [--threads 1,2] [--m 512,2048,8192] [--len 512,2048,8192] [--reps 3]
//                 [--prec fp32,bf16,int8] [--only gemm|attn|fma]
// --only fma: the machine's fp32 FMA peak in wall GFLOP/s at each --threads count (the probe on every
// thread at once, median of --reps), the ceiling bench/run_bench.sh puts beside each engine's rate.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "backend/cpu/attention.h"
#include "backend/cpu/cpu_backend.h"
#include "backend/cpu/gemm.h"
#include "backend/cpu/kernel_dispatch.h"

using namespace lastrank;
using namespace lastrank::cpu;

namespace {

std::vector<int64_t> parse_list(const char* s) {
  std::vector<int64_t> v;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) v.push_back(std::stoll(item));
  return v;
}

double now() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }
double cpu_now() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
}

// Median wall seconds and median process CPU seconds (all threads) of reps runs. On a shared,
// loaded machine the CPU time tells the per-core efficiency of the kernel even when wall time
// is inflated by other processes.
struct Timing {
  double wall, cpu;
};
template <typename F>
Timing measure(int reps, F&& f) {
  f();  // warm-up
  std::vector<double> t, c;
  for (int r = 0; r < reps; ++r) {
    double t0 = now(), c0 = cpu_now();
    f();
    t.push_back(now() - t0);
    c.push_back(cpu_now() - c0);
  }
  std::sort(t.begin(), t.end());
  std::sort(c.begin(), c.end());
  return {t[t.size() / 2], c[c.size() / 2]};
}

struct Shape {
  const char* name;
  int64_t n, k;
};

// fp32 FMA peak of one thread: 12 independent accumulator chains of the kernel set's vectors.
double fma_peak_gflops_per_cpu_s() {
  const KernelTable& kt = active_kernels();
  const int64_t iters = 400'000'000 / kt.vector_lanes;
  const double c0 = cpu_now();
  volatile float sink = kt.fma_chains(iters);
  (void)sink;
  return 2.0 * 12 * kt.vector_lanes * double(iters) / (cpu_now() - c0) * 1e-9;
}

// fp32 FMA peak of `threads` threads running the probe at once, wall GFLOP/s (median of reps).
double fma_peak_gflops(int threads, int reps) {
  const KernelTable& kt = active_kernels();
  const int64_t iters = 400'000'000 / kt.vector_lanes;
  const Timing t = measure(reps, [&] {
    std::vector<std::thread> pool;
    for (int i = 0; i < threads; ++i) pool.emplace_back([&] { volatile float sink = kt.fma_chains(iters); (void)sink; });
    for (auto& th : pool) th.join();
  });
  return 2.0 * 12 * kt.vector_lanes * double(iters) * threads / t.wall * 1e-9;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<int64_t> threads{1, 2}, ms{512, 2048, 8192}, lens{512, 2048, 8192};
  std::vector<std::string> precs{"fp32", "bf16", "int8"};
  int reps = 3;
  std::string only;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--threads")) threads = parse_list(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--m")) ms = parse_list(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--len")) lens = parse_list(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--reps")) reps = std::stoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--only")) only = argv[i + 1];
    else if (!std::strcmp(argv[i], "--prec")) {
      precs.clear();
      std::stringstream ss(argv[i + 1]);
      std::string p;
      while (std::getline(ss, p, ',')) precs.push_back(p);
    } else {
      std::fprintf(stderr, "unknown option %s\n", argv[i]);
      return 2;
    }
  }
  std::mt19937 rng(1);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  const Shape shapes[] = {{"q", 2048, 1024}, {"k", 1024, 1024}, {"v", 1024, 1024},
                          {"o", 1024, 2048}, {"gate_up", 3072, 1024}, {"down", 1024, 3072}};
  if (only == "fma") {
    for (int64_t th : threads)
      std::printf("{\"kernel\":\"fma_peak\",\"kernel_set\":\"%s\",\"prec\":\"fp32\",\"threads\":%lld,\"gflops\":%.1f}\n",
                  kernel_set_name(active_kernel_set()), (long long)th, fma_peak_gflops(int(th), reps));
    return 0;
  }
  std::printf("{\"kernel_set\":\"%s\",\"fma_peak_gflops_per_cpu_s\":%.1f}\n", kernel_set_name(active_kernel_set()),
              fma_peak_gflops_per_cpu_s());
  if (only != "attn") {
    const int64_t mmax = *std::max_element(ms.begin(), ms.end());
    std::vector<float> x(size_t(mmax * 3072)), y(size_t(mmax * 3072));
    for (float& v : x) v = nd(rng);
    for (const Shape& s : shapes) {
      std::vector<uint16_t> wb(size_t(s.n * s.k));
      for (auto& v : wb) v = f32_to_bf16(0.02f * nd(rng));
      TensorView w;
      w.dtype = DType::BF16;
      w.rank = 2;
      w.shape = {s.n, s.k, 0, 0};
      w.data = wb.data();
      w.name = s.name;
      for (const std::string& pn : precs) {
        const double tp0 = now();
        auto packed = pack_matrix(w, pack_format(parse_precision(pn)));  // as the CPU backend packs --precision pn
        std::printf("{\"kernel\":\"pack\",\"shape\":\"%s\",\"prec\":\"%s\",\"ms\":%.1f,\"bytes\":%zu}\n", s.name, pn.c_str(),
                    (now() - tp0) * 1e3, packed->bytes());
        for (int64_t th : threads) {
          ThreadPool pool(static_cast<int>(th));
          Workspace ws;  // kept across the reps, as the backend keeps it across calls
          for (int64_t m : ms) {
            const Timing t = measure(reps, [&] { packed->apply(x.data(), m, y.data(), s.n, pool, ws); });
            const double flops = 2.0 * m * s.n * s.k;
            std::printf("{\"kernel\":\"gemm\",\"shape\":\"%s\",\"n\":%lld,\"k\":%lld,\"m\":%lld,\"prec\":\"%s\",\"threads\":%lld,"
                        "\"ms\":%.2f,\"gflops\":%.1f,\"gflops_per_cpu_s\":%.1f}\n",
                        s.name, (long long)s.n, (long long)s.k, (long long)m, pn.c_str(), (long long)th, t.wall * 1e3,
                        flops / t.wall * 1e-9, flops / t.cpu * 1e-9);
            std::fflush(stdout);
          }
        }
      }
    }
  }
  if (only != "gemm") {
    for (int64_t len : lens) {
      cpu::AttentionShape s{len, 16, 8, 128, 0};
      std::vector<float> q(size_t(len * 16 * 128)), k(size_t(len * 8 * 128)), v(k.size()), o(q.size());
      for (float& e : q) e = nd(rng);
      for (float& e : k) e = nd(rng);
      for (float& e : v) e = nd(rng);
      // Effective flops: QK^T and PV over the causal triangle (incl. diagonal), 2 flops per MAC.
      const double flops = 4.0 * 128 * 16 * (double(len) * (len + 1) / 2);
      for (int64_t th : threads) {
        ThreadPool pool(static_cast<int>(th));
        for (bool bf16 : {false, true}) {  // bf16: the products of --precision bf16 / int8 (vdpbf16ps)
          if (bf16 && !attention_bf16_available()) continue;
          s.bf16 = bf16;
          const Timing t = measure(reps, [&] { attention(s, q.data(), k.data(), v.data(), o.data(), pool); });
          std::printf("{\"kernel\":\"attention\",\"prec\":\"%s\",\"len\":%lld,\"threads\":%lld,\"ms\":%.2f,"
                      "\"gflops\":%.1f,\"gflops_per_cpu_s\":%.1f}\n",
                      bf16 ? "bf16" : "fp32", (long long)len, (long long)th, t.wall * 1e3, flops / t.wall * 1e-9,
                      flops / t.cpu * 1e-9);
          std::fflush(stdout);
        }
      }
    }
  }
  return 0;
}
