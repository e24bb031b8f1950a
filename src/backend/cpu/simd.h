// Thin SIMD layer for the CPU kernels: one float vector type `Vf` of kLanes lanes and the handful
// of operations the GEMM / attention micro-kernels need. Picked at compile time by the kernel set's
// -m flags (kernel_set.h): AVX-512F (16 lanes) > AVX2+FMA (8 lanes) > AArch64 NEON (8 lanes as two
// float32x4; the neon and neon_dotprod sets) > portable scalar fallback (8 lanes, plain loops).
// Kernel code: included only by the kernel-set TUs, inside their namespace.
// Every op is lane-wise and exactly specified (fma is fused everywhere), so results do not depend
// on which thread runs a tile; they may differ between ISAs by rounding only.
#pragma once
#include <cmath>
#include <cstdint>
#include <cstring>

#ifndef LR_KERNEL_SET
#error "simd.h is kernel code: include it only from a kernel-set TU (built with -DLR_KERNEL_SET=<set>)"
#endif

#if defined(__AVX512F__) || (defined(__AVX2__) && defined(__FMA__))
// GCC 12's AVX-512 headers self-initialize "undefined" vectors (__m512 __Y = __Y), which trips
// -Wuninitialized once inlined; the pattern is intentional, so silence it for these kernels.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#endif
#if !defined(__AVX512F__) && !(defined(__AVX2__) && defined(__FMA__)) && defined(__aarch64__)
#define LR_SIMD_NEON 1
#include <arm_neon.h>
#endif

namespace lastrank::cpu::LR_KERNEL_SET::simd {

#if defined(__AVX512F__)
constexpr int kLanes = 16;
using Vf = __m512;
inline Vf zero() { return _mm512_setzero_ps(); }
inline Vf set1(float a) { return _mm512_set1_ps(a); }
inline Vf load(const float* p) { return _mm512_loadu_ps(p); }
inline void store(float* p, Vf a) { _mm512_storeu_ps(p, a); }
inline Vf bcast(const float* p) { return _mm512_set1_ps(*p); }
inline Vf fma(Vf a, Vf b, Vf c) { return _mm512_fmadd_ps(a, b, c); }
inline Vf add(Vf a, Vf b) { return _mm512_add_ps(a, b); }
inline Vf sub(Vf a, Vf b) { return _mm512_sub_ps(a, b); }
inline Vf mul(Vf a, Vf b) { return _mm512_mul_ps(a, b); }
inline Vf max(Vf a, Vf b) { return _mm512_max_ps(a, b); }
// bf16 (16 x uint16) -> f32, exact.
inline Vf load_bf16(const uint16_t* p) {
  __m256i h = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
  return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
}
#elif defined(__AVX2__) && defined(__FMA__)
constexpr int kLanes = 8;
using Vf = __m256;
inline Vf zero() { return _mm256_setzero_ps(); }
inline Vf set1(float a) { return _mm256_set1_ps(a); }
inline Vf load(const float* p) { return _mm256_loadu_ps(p); }
inline void store(float* p, Vf a) { _mm256_storeu_ps(p, a); }
inline Vf bcast(const float* p) { return _mm256_broadcast_ss(p); }
inline Vf fma(Vf a, Vf b, Vf c) { return _mm256_fmadd_ps(a, b, c); }
inline Vf add(Vf a, Vf b) { return _mm256_add_ps(a, b); }
inline Vf sub(Vf a, Vf b) { return _mm256_sub_ps(a, b); }
inline Vf mul(Vf a, Vf b) { return _mm256_mul_ps(a, b); }
inline Vf max(Vf a, Vf b) { return _mm256_max_ps(a, b); }
inline Vf load_bf16(const uint16_t* p) {
  __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
}
#elif defined(LR_SIMD_NEON)
// ---- AArch64 NEON (every AArch64 CPU has it). Two q registers per vector, so kLanes and every
// tile shape match the AVX2 branch (gemm_kernel.h, attention.cpp: 24 of 32 q registers accumulate).
constexpr int kLanes = 8;
struct Vf {
  float32x4_t lo, hi;
};
inline Vf zero() { return {vdupq_n_f32(0.0f), vdupq_n_f32(0.0f)}; }
inline Vf set1(float a) { return {vdupq_n_f32(a), vdupq_n_f32(a)}; }
inline Vf load(const float* p) { return {vld1q_f32(p), vld1q_f32(p + 4)}; }
inline void store(float* p, Vf a) {
  vst1q_f32(p, a.lo);
  vst1q_f32(p + 4, a.hi);
}
inline Vf bcast(const float* p) {
  const float32x4_t v = vld1q_dup_f32(p);
  return {v, v};
}
inline Vf fma(Vf a, Vf b, Vf c) { return {vfmaq_f32(c.lo, a.lo, b.lo), vfmaq_f32(c.hi, a.hi, b.hi)}; }
inline Vf add(Vf a, Vf b) { return {vaddq_f32(a.lo, b.lo), vaddq_f32(a.hi, b.hi)}; }
inline Vf sub(Vf a, Vf b) { return {vsubq_f32(a.lo, b.lo), vsubq_f32(a.hi, b.hi)}; }
inline Vf mul(Vf a, Vf b) { return {vmulq_f32(a.lo, b.lo), vmulq_f32(a.hi, b.hi)}; }
// a > b ? a : b per lane, like maxps and the scalar branch (fmax would differ on NaN and on -0/+0).
inline float32x4_t max4(float32x4_t a, float32x4_t b) { return vbslq_f32(vcgtq_f32(a, b), a, b); }
inline Vf max(Vf a, Vf b) { return {max4(a.lo, b.lo), max4(a.hi, b.hi)}; }
// bf16 (8 x uint16) -> f32, exact: each 16-bit word becomes the high half of a 32-bit lane.
inline Vf load_bf16(const uint16_t* p) {
  const uint16x8_t h = vld1q_u16(p);
  return {vreinterpretq_f32_u32(vshll_n_u16(vget_low_u16(h), 16)), vreinterpretq_f32_u32(vshll_high_n_u16(h, 16))};
}
#else
constexpr int kLanes = 8;
struct Vf {
  float v[kLanes];
};
inline Vf zero() { return Vf{}; }
inline Vf set1(float a) {
  Vf r;
  for (float& x : r.v) x = a;
  return r;
}
inline Vf load(const float* p) {
  Vf r;
  std::memcpy(r.v, p, sizeof r.v);
  return r;
}
inline void store(float* p, Vf a) { std::memcpy(p, a.v, sizeof a.v); }
inline Vf bcast(const float* p) { return set1(*p); }
#define LR_SIMD_LANEWISE(name, expr)            \
  inline Vf name(Vf a, Vf b) {                  \
    Vf r;                                       \
    for (int i = 0; i < kLanes; ++i) r.v[i] = expr; \
    return r;                                   \
  }
LR_SIMD_LANEWISE(add, a.v[i] + b.v[i])
LR_SIMD_LANEWISE(sub, a.v[i] - b.v[i])
LR_SIMD_LANEWISE(mul, a.v[i] * b.v[i])
LR_SIMD_LANEWISE(max, a.v[i] > b.v[i] ? a.v[i] : b.v[i])
#undef LR_SIMD_LANEWISE
inline Vf fma(Vf a, Vf b, Vf c) {
  Vf r;
  for (int i = 0; i < kLanes; ++i) r.v[i] = std::fma(a.v[i], b.v[i], c.v[i]);
  return r;
}
inline Vf load_bf16(const uint16_t* p) {
  Vf r;
  for (int i = 0; i < kLanes; ++i) {
    uint32_t u = uint32_t(p[i]) << 16;
    std::memcpy(&r.v[i], &u, 4);
  }
  return r;
}
#endif

// Horizontal max / sum helpers (used outside hot loops only; fixed reduction order).
inline float reduce_max(Vf a) {
  float t[kLanes];
  store(t, a);
  float m = t[0];
  for (int i = 1; i < kLanes; ++i) m = t[i] > m ? t[i] : m;
  return m;
}

// exp(x) for x <= 0 (softmax arguments), relative error < 2e-7; x < -87 (and -inf) gives 0.
// Cody-Waite range reduction x = n ln2 + r, |r| <= ln2/2, degree-6 polynomial for e^r, then
// scaling by 2^n through the exponent bits. Same formula in every lane and every ISA branch.
inline Vf exp_neg(Vf x) {
  const Vf lo = set1(-87.0f);
  Vf xc = max(x, lo);
  const Vf log2e = set1(1.44269504088896341f);
  Vf nf;
#if defined(__AVX512F__)
  nf = _mm512_roundscale_ps(mul(xc, log2e), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
#elif defined(__AVX2__) && defined(__FMA__)
  nf = _mm256_round_ps(mul(xc, log2e), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
#elif defined(LR_SIMD_NEON)
  const Vf t = mul(xc, log2e);
  nf = {vrndnq_f32(t.lo), vrndnq_f32(t.hi)};  // round to nearest, ties to even
#else
  const Vf t = mul(xc, log2e);
  for (int i = 0; i < kLanes; ++i) nf.v[i] = std::nearbyint(t.v[i]);
#endif
  Vf r = fma(nf, set1(-0.693145751953125f), xc);  // ln2 split in hi + lo for exact reduction
  r = fma(nf, set1(-1.428606765330187045e-06f), r);
  Vf p = set1(1.0f / 720);
  p = fma(p, r, set1(1.0f / 120));
  p = fma(p, r, set1(1.0f / 24));
  p = fma(p, r, set1(1.0f / 6));
  p = fma(p, r, set1(0.5f));
  p = fma(p, r, set1(1.0f));
  p = fma(p, r, set1(1.0f));
  // 2^n with n in [-126, 0]: exponent bits (n + 127) << 23.
#if defined(__AVX512F__)
  __m512i e = _mm512_slli_epi32(_mm512_add_epi32(_mm512_cvtps_epi32(nf), _mm512_set1_epi32(127)), 23);
  Vf res = mul(p, _mm512_castsi512_ps(e));
  return _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(x, lo, _CMP_GE_OQ), res);
#elif defined(__AVX2__) && defined(__FMA__)
  __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(nf), _mm256_set1_epi32(127)), 23);
  Vf res = mul(p, _mm256_castsi256_ps(e));
  return _mm256_and_ps(res, _mm256_cmp_ps(x, lo, _CMP_GE_OQ));
#elif defined(LR_SIMD_NEON)
  auto scale = [](float32x4_t n) {  // 2^n through the exponent bits (n is integral: cvt is exact)
    return vreinterpretq_f32_s32(vshlq_n_s32(vaddq_s32(vcvtq_s32_f32(n), vdupq_n_s32(127)), 23));
  };
  const Vf res = mul(p, Vf{scale(nf.lo), scale(nf.hi)});
  // x >= -87 keeps the lane, else (and NaN) 0: the same as the other branches.
  auto keep = [&](float32x4_t r, float32x4_t xv) {
    return vreinterpretq_f32_u32(vandq_u32(vreinterpretq_u32_f32(r), vcgeq_f32(xv, lo.lo)));
  };
  return {keep(res.lo, x.lo), keep(res.hi, x.hi)};
#else
  Vf res;
  for (int i = 0; i < kLanes; ++i) {
    uint32_t u = uint32_t(int32_t(nf.v[i]) + 127) << 23;
    float s;
    std::memcpy(&s, &u, 4);
    res.v[i] = x.v[i] >= -87.0f ? p.v[i] * s : 0.0f;
  }
  return res;
#endif
}

}  // namespace lastrank::cpu::LR_KERNEL_SET::simd
