// The benches' fp32 FMA peak probe: 12 independent accumulator chains of simd::fma, i.e. what one
// core's FMA units deliver with this kernel set's vectors. Compiled once per kernel set (kernel_table.h).
#include "backend/cpu/kernel_table.h"
#include "backend/cpu/simd.h"

namespace lastrank::cpu::LR_KERNEL_SET {
namespace {

[[gnu::noinline]] float fma_chains(int64_t iters) {
  using namespace simd;
  Vf a0 = set1(0.1f), a1 = set1(0.2f), a2 = set1(0.3f), a3 = set1(0.4f), a4 = set1(0.5f), a5 = set1(0.6f),
     a6 = set1(0.7f), a7 = set1(0.8f), a8 = set1(0.9f), a9 = set1(1.0f), a10 = set1(1.1f), a11 = set1(1.2f);
  const Vf b = set1(0.999999f), c = set1(1e-7f);
  for (int64_t t = 0; t < iters; ++t) {
    a0 = fma(a0, b, c), a1 = fma(a1, b, c), a2 = fma(a2, b, c), a3 = fma(a3, b, c);
    a4 = fma(a4, b, c), a5 = fma(a5, b, c), a6 = fma(a6, b, c), a7 = fma(a7, b, c);
    a8 = fma(a8, b, c), a9 = fma(a9, b, c), a10 = fma(a10, b, c), a11 = fma(a11, b, c);
  }
  return reduce_max(add(add(add(add(a0, a1), add(a2, a3)), add(add(a4, a5), add(a6, a7))), add(add(a8, a9), add(a10, a11))));
}

}  // namespace

void fill_fma_probe(KernelTable& t) {
  t.set = LR_TARGET_KERNEL_SET;
  t.vector_lanes = simd::kLanes;
  t.fma_chains = &fma_chains;
}

}  // namespace lastrank::cpu::LR_KERNEL_SET
