// The fp32 register-blocked micro-kernel shared by the packed GEMM (fp32 and bf16 weights) and by
// attention: C[rows, kNr] (+)= A[rows, kc] · B[kc, kNr], with rows <= kMr, accumulators in
// registers, k walked strictly in order (so every output element has one fixed summation order,
// independent of tiling across threads).
#pragma once
#include <algorithm>
#include <cstdint>

#include "backend/cpu/simd.h"

namespace lastrank::cpu {

// Register tile: kMr rows x kNv vectors. AVX2: 6 x 16 (12 of 16 ymm accumulate);
// AVX-512: 12 x 32 (24 of 32 zmm).
#if defined(__AVX512F__)
constexpr int kMr = 12;
#else
constexpr int kMr = 6;
#endif
constexpr int kNv = 2;
constexpr int kNr = kNv * simd::kLanes;  // columns per packed weight panel

// A element (r, kk) is a[r * a_rs + kk * a_ks]; B row kk is b + kk * ldb (kNr valid floats);
// C row r is c + r * ldc. load_c: start from C's contents (accumulate), else from zero.
template <int R>
inline void micro_f32(int64_t kc, const float* a, int64_t a_rs, int64_t a_ks, const float* b, int64_t ldb,
                      float* c, int64_t ldc, bool load_c) {
  using namespace simd;
  Vf acc[R][kNv];
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
    for (int v = 0; v < kNv; ++v) acc[r][v] = load_c ? load(c + r * ldc + v * kLanes) : zero();
  for (int64_t kk = 0; kk < kc; ++kk) {
    Vf bv[kNv];
#pragma GCC unroll 4
    for (int v = 0; v < kNv; ++v) bv[v] = load(b + v * kLanes);
    const float* ak = a + kk * a_ks;
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r) {
      Vf av = bcast(ak + r * a_rs);
#pragma GCC unroll 4
      for (int v = 0; v < kNv; ++v) acc[r][v] = fma(av, bv[v], acc[r][v]);
    }
    b += ldb;
  }
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
    for (int v = 0; v < kNv; ++v) store(c + r * ldc + v * kLanes, acc[r][v]);
}

// Dispatch on the row count (1..kMr) and handle a partial column panel (cols < kNr) through a
// small staging tile, so the kernel itself always works on full vectors.
inline void micro_f32_any(int rows, int cols, int64_t kc, const float* a, int64_t a_rs, int64_t a_ks,
                          const float* b, int64_t ldb, float* c, int64_t ldc, bool load_c) {
  float stage[kMr * kNr];
  float* cc = c;
  int64_t lc = ldc;
  if (cols < kNr) {
    cc = stage;
    lc = kNr;
    std::fill(stage, stage + kMr * kNr, 0.0f);
    if (load_c)
      for (int r = 0; r < rows; ++r) std::copy(c + r * ldc, c + r * ldc + cols, stage + r * kNr);
  }
  switch (rows) {
#define LR_MICRO_CASE(R) \
  case R: micro_f32<R>(kc, a, a_rs, a_ks, b, ldb, cc, lc, load_c); break;
    LR_MICRO_CASE(1) LR_MICRO_CASE(2) LR_MICRO_CASE(3) LR_MICRO_CASE(4) LR_MICRO_CASE(5) LR_MICRO_CASE(6)
#if defined(__AVX512F__)
    LR_MICRO_CASE(7) LR_MICRO_CASE(8) LR_MICRO_CASE(9) LR_MICRO_CASE(10) LR_MICRO_CASE(11) LR_MICRO_CASE(12)
#endif
#undef LR_MICRO_CASE
    default: break;
  }
  if (cols < kNr)
    for (int r = 0; r < rows; ++r) std::copy(stage + r * kNr, stage + r * kNr + cols, c + r * ldc);
}

}  // namespace lastrank::cpu
