// The fp32 register-blocked micro-kernel shared by the packed GEMM (fp32 and bf16 weights) and by
// attention: C[rows, kNr] (+)= A[rows, kc] · B[kc, kNr], with rows <= kMr, accumulators in
// registers, k walked strictly in order (so every output element has one fixed summation order,
// independent of tiling across threads).
#pragma once
#include <algorithm>
#include <cstdint>
#include <type_traits>

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

// Calls f(std::integral_constant<int, R>{}) for R = rows, 1 <= rows <= kMr (the micro-kernels
// are templates on their row count).
template <int R = 1, typename F>
inline void dispatch_rows(int rows, F&& f) {
  if constexpr (R <= kMr) {
    if (rows == R) f(std::integral_constant<int, R>{});
    else dispatch_rows<R + 1>(rows, f);
  }
}

// Runs kernel(c', ldc') on the rows x kNr tile of C; for a partial column panel (cols < kNr) the
// kernel works on a zero-padded kMr x kNr staging tile (loaded from C if load_c) whose first cols
// columns are copied back, so kernels always work on full vectors.
template <typename K>
inline void on_c_tile(int rows, int cols, float* c, int64_t ldc, bool load_c, K&& kernel) {
  if (cols >= kNr) return kernel(c, ldc);
  float stage[kMr * kNr];
  std::fill(stage, stage + kMr * kNr, 0.0f);
  if (load_c)
    for (int r = 0; r < rows; ++r) std::copy(c + r * ldc, c + r * ldc + cols, stage + r * kNr);
  kernel(stage, int64_t(kNr));
  for (int r = 0; r < rows; ++r) std::copy(stage + r * kNr, stage + r * kNr + cols, c + r * ldc);
}

// micro_f32 for any row count (1..kMr) and a possibly partial column panel.
inline void micro_f32_any(int rows, int cols, int64_t kc, const float* a, int64_t a_rs, int64_t a_ks,
                          const float* b, int64_t ldb, float* c, int64_t ldc, bool load_c) {
  on_c_tile(rows, cols, c, ldc, load_c, [&](float* cc, int64_t lc) {
    dispatch_rows(rows, [&](auto R) { micro_f32<R>(kc, a, a_rs, a_ks, b, ldb, cc, lc, load_c); });
  });
}

}  // namespace lastrank::cpu
