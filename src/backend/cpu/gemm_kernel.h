// The register-blocked tiles shared by the packed GEMM and by attention (fp32 FMA and bf16-pair
// vdpbf16ps / bfdot): C[rows, vectors] (+)= A · B with accumulators in registers, k walked strictly in
// order (so every output element has one fixed summation order, independent of tiling across
// threads). Kernel code: included only by the kernel-set TUs, inside their namespace (kernel_table.h).
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <type_traits>

#include "backend/cpu/simd.h"
#include "core/dtype.h"

namespace lastrank::cpu::LR_KERNEL_SET {

// Register tile: kMr rows x kNv vectors. AVX2: 6 x 16 (12 of 16 ymm accumulate);
// AVX-512: 12 x 32 (24 of 32 zmm); NEON: 6 x 16 (24 of 32 q, a vector is two q registers).
#if defined(__AVX512F__)
constexpr int kMr = 12;
#else
constexpr int kMr = 6;
#endif
constexpr int kNv = 2;
constexpr int kNr = kNv * simd::kLanes;  // columns per packed weight panel

// A tile's accumulators: C's rows (load_c) or zero.
template <int R, int NV>
inline void start_tile(simd::Vf (&acc)[R][NV], const float* c, int64_t ldc, bool load_c) {
  using namespace simd;
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) acc[r][v] = load_c ? load(c + r * ldc + v * kLanes) : zero();
}

// Stores a tile's accumulators into C and, when vmax is given (attention's fused row max), folds
// them in: vmax[v] = max(vmax[v], max_r acc[r][v]) lane-wise.
template <int R, int NV>
inline void finish_tile(const simd::Vf (&acc)[R][NV], float* c, int64_t ldc, float* vmax) {
  using namespace simd;
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) store(c + r * ldc + v * kLanes, acc[r][v]);
  if (!vmax) return;
#pragma GCC unroll 4
  for (int v = 0; v < NV; ++v) {
    Vf m = load(vmax + v * kLanes);
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r) m = max(m, acc[r][v]);
    store(vmax + v * kLanes, m);
  }
}

// The register tile every product runs on: C[R rows, NV vectors] (+)= A · B, k in order 0..kc-1.
// A element (r, kk) is a[r * a_rs + kk * a_ks] (broadcast); B row kk is b + kk * ldb (NV whole
// vectors); C row r is c + r * ldc. load_c: start from C's contents (accumulate), else from zero.
// vmax (optional, attention's fused row max): vmax[v] = max(vmax[v], max_r C[r, v]) lane-wise.
template <int R, int NV>
inline void tile_f32(int64_t kc, const float* a, int64_t a_rs, int64_t a_ks, const float* b, int64_t ldb, float* c,
                     int64_t ldc, bool load_c, float* vmax = nullptr) {
  using namespace simd;
  Vf acc[R][NV];
  start_tile(acc, c, ldc, load_c);
  for (int64_t kk = 0; kk < kc; ++kk) {
    Vf bv[NV];
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) bv[v] = load(b + v * kLanes);
    const float* ak = a + kk * a_ks;
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r) {
      Vf av = bcast(ak + r * a_rs);
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) acc[r][v] = fma(av, bv[v], acc[r][v]);
    }
    b += ldb;
  }
  finish_tile(acc, c, ldc, vmax);
}

// The GEMM's fp32 micro-kernel: a kMr-row-max tile of one kNr-column weight panel.
template <int R>
inline void micro_f32(int64_t kc, const float* a, int64_t a_rs, int64_t a_ks, const float* b, int64_t ldb,
                      float* c, int64_t ldc, bool load_c) {
  tile_f32<R, kNv>(kc, a, a_rs, a_ks, b, ldb, c, ldc, load_c);
}

// bf16-pair dot products (tile_bf16): vdpbf16ps (AVX512_BF16) or bfdot (AArch64 FEAT_BF16).
#if defined(__AVX512BF16__) && defined(__AVX512F__)
#define LR_HAVE_DPBF16 1
#elif defined(LR_SIMD_NEON) && defined(__ARM_FEATURE_BF16_VECTOR_ARITHMETIC)
#define LR_HAVE_DPBF16 1
#endif

// The operand word of the bf16 tiles: {bf16(lo) in the low half, bf16(hi) in the high half}, each
// rounded to nearest even.
inline uint32_t bf16_pair(float lo, float hi) {
  return uint32_t(f32_to_bf16(lo)) | (uint32_t(f32_to_bf16(hi)) << 16);
}

// Rows of x as bf16 pair words, row-major: dst[r * kc2 + kk] = bf16_pair(x[r, k0 + 2kk],
// x[r, k0 + 2kk + 1]), kc2 = ceil(kc / 2); a missing odd element is zero. The GEMM packs its
// activations with it (at kKc = 1024 the rows are 2 KB apart, which the L1 holds without
// aliasing), attention its key rows.
inline void pack_a_bf16(const float* x, int64_t ldx, int64_t rows, int64_t k0, int64_t kc, uint32_t* dst) {
  const int64_t kc2 = (kc + 1) / 2;
  for (int64_t r = 0; r < rows; ++r) {
    const float* s = x + r * ldx + k0;
    uint32_t* d = dst + r * kc2;
    int64_t kk = 0;
#if defined(LR_HAVE_DPBF16) && defined(__AVX512F__)
    // 32 floats -> 16 pairs per step: vcvtne2ps2bf16 rounds to nearest even like f32_to_bf16.
    for (; 2 * kk + 32 <= kc; kk += 16) {
      const __m512 lo = _mm512_loadu_ps(s + 2 * kk), hi = _mm512_loadu_ps(s + 2 * kk + 16);
      _mm512_storeu_si512(d + kk, (__m512i)_mm512_cvtne2ps_pbh(hi, lo));
    }
#endif
    for (; kk < kc2; ++kk) d[kk] = bf16_pair(s[2 * kk], 2 * kk + 1 < kc ? s[2 * kk + 1] : 0.0f);
  }
}

#if defined(LR_HAVE_DPBF16) && defined(__AVX512F__)
// tile_f32 over bf16 pairs on vdpbf16ps: C[r, v] (+)= sum_kk dot2(A(r, kk), B[kk, v]) with A(r, kk)
// = a[r * a_rs + kk] (a word of two bf16, broadcast) and B row kk = b + kk * ldb (NV x 16 words of
// two bf16). Products are exact; sums fp32 in k order.
template <int R, int NV>
inline void tile_bf16(int64_t kc2, const uint32_t* a, int64_t a_rs, const uint32_t* b, int64_t ldb, float* c,
                      int64_t ldc, bool load_c, float* vmax = nullptr) {
  simd::Vf acc[R][NV];  // __m512
  start_tile(acc, c, ldc, load_c);
  for (int64_t kk = 0; kk < kc2; ++kk) {
    __m512bh bv[NV];
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) bv[v] = (__m512bh)_mm512_loadu_si512(b + v * 16);
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r) {
      const __m512bh av = (__m512bh)_mm512_set1_epi32(int(a[r * a_rs + kk]));
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) acc[r][v] = _mm512_dpbf16_ps(acc[r][v], av, bv[v]);
    }
    b += ldb;
  }
  finish_tile(acc, c, ldc, vmax);
}
#elif defined(LR_HAVE_DPBF16) && defined(LR_SIMD_NEON)
// The same tile on bfdot (FEAT_BF16): a vector is NV x kLanes (8) words of two bf16, two q
// registers, and each fp32 lane gets acc + (a_lo * b_lo + a_hi * b_hi) per word, as vdpbf16ps. The
// bf16 products are exact in fp32; Arm specifies the pair sum and the accumulation with
// round-to-odd and denormals flushed (without FEAT_EBF16), so sums differ from the x86 ones in the
// last bit now and then: within the fp32 tolerance the tests apply to both.
template <int R, int NV>
inline void tile_bf16(int64_t kc2, const uint32_t* a, int64_t a_rs, const uint32_t* b, int64_t ldb, float* c,
                      int64_t ldc, bool load_c, float* vmax = nullptr) {
  using namespace simd;
  Vf acc[R][NV];
  start_tile(acc, c, ldc, load_c);
  for (int64_t kk = 0; kk < kc2; ++kk) {
    bfloat16x8_t blo[NV], bhi[NV];
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) {
      blo[v] = vreinterpretq_bf16_u32(vld1q_u32(b + v * kLanes));
      bhi[v] = vreinterpretq_bf16_u32(vld1q_u32(b + v * kLanes + 4));
    }
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r) {
      const bfloat16x8_t av = vreinterpretq_bf16_u32(vld1q_dup_u32(a + r * a_rs + kk));
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) {
        acc[r][v].lo = vbfdotq_f32(acc[r][v].lo, av, blo[v]);
        acc[r][v].hi = vbfdotq_f32(acc[r][v].hi, av, bhi[v]);
      }
    }
    b += ldb;
  }
  finish_tile(acc, c, ldc, vmax);
}
#endif

// Calls f(std::integral_constant<int, N>{}) for N = n, 1 <= n <= Max (the tiles are templates on
// their row and vector counts).
template <int Max, int N = 1, typename F>
inline void dispatch_upto(int n, F&& f) {
  if constexpr (N <= Max) {
    if (n == N) f(std::integral_constant<int, N>{});
    else dispatch_upto<Max, N + 1>(n, f);
  }
}
template <typename F>
inline void dispatch_rows(int rows, F&& f) {
  dispatch_upto<kMr>(rows, f);
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

// y[0:n] += a * w[0:n], one fused multiply-add per element (same in every ISA branch): the fp32
// outlier channels of the bf16 and int8 GEMMs.
inline void add_scaled_row(float a, const float* w, float* y, int64_t n) {
  int64_t j = 0;
  const simd::Vf va = simd::set1(a);
  for (; j + simd::kLanes <= n; j += simd::kLanes) simd::store(y + j, simd::fma(va, simd::load(w + j), simd::load(y + j)));
  for (; j < n; ++j) y[j] = std::fma(a, w[j], y[j]);
}

}  // namespace lastrank::cpu::LR_KERNEL_SET
