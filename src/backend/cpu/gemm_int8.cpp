// int8 GEMM: symmetric int8 weights and dynamic int8 activations, both with one scale per k-group
// of kInt8Group input channels; exact int32 dot products per group, combined in fp32 (the contract
// is in gemm_internal.h). With VNNI (vpdpbusd: zmm on avx512_vnni, ymm on avx2_vnni) activations
// are stored as u8 = q + 128 so the u8 x s8 instruction applies, and each group's accumulators
// start at -128 * (that group's weight column sum), which removes the offset exactly. Plain AVX2
// stores q itself (s8) and multiplies |w| (u8) by sign(w) * q (s8, vpsignb) with vpmaddubsw; with
// 63 weight levels a pair sum is at most 2 * 63 * 127 = 16002, so two k steps add in int16
// (vpaddw, at most 32004) before one vpmaddwd widens them: 3 multiplies per 64 products instead of
// 4, and the multiply port is what bounds AVX2 int8 (docs/perf.md). On AArch64 the products are
// s8 x s8 (smmla, sdot, or widening multiplies without dotprod), activations are q's bytes too.
// Every path computes the same exact integer sums (offset 0: accumulators start at 0). Weight
// panel layout: [kp/kKs steps][kNr8 columns][kKs consecutive k], activation tiles
// [steps][kMr8 rows][kKs]: kKs = 4 for the dot-product instructions (one 32/64-byte load gives 4 k
// values of 8/16 columns, one 4-byte broadcast a row's), 8 for smmla (16 bytes are the 2 x 8
// operand of two columns or two rows).
// Every y element is computed by one thread in a fixed order, so results are bit-identical for any
// thread count. Compiled once per kernel set (kernel_table.h); the scalar reference and the outlier
// rule are in gemm_int8_ref.cpp.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "backend/cpu/gemm_internal.h"
#include "backend/cpu/gemm_kernel.h"
#include "backend/cpu/kernel_table.h"
#include "backend/cpu/packed_store.h"
#include "core/error.h"

namespace lastrank::cpu::LR_KERNEL_SET {
namespace {

#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VNNI__)
#define LR_INT8_VNNI512 1
constexpr int kQMaxW = 127;
constexpr int kMr8 = 8;  // 8 x 32: 16 accumulators; 12 x 32 (24) measured no faster
constexpr int kLanes32 = 16;
#elif defined(__AVX2__) && defined(__AVXVNNI__)
#define LR_INT8_VNNI256 1
constexpr int kQMaxW = 127;
constexpr int kMr8 = 6;  // 6 x 16: 12 of 16 ymm accumulate, 2 panel vectors, 1 broadcast
constexpr int kLanes32 = 8;
#elif defined(__AVX2__)
#define LR_INT8_AVX2 1
constexpr int kQMaxW = 63;  // two k steps of |w| * q pair sums add in int16 (2 * 2 * 63 * 127 < 32767)
constexpr int kMr8 = 4;  // 8 accumulators, 4 |w| vectors, the vpmaddwd ones and the broadcasts
constexpr int kLanes32 = 8;
#elif defined(LR_SIMD_NEON)
// ---- AArch64: smmla (+i8mm: a 2 x 8 by 8 x 2 s8 product per instruction), sdot
// (armv8.2-a+dotprod) or, on baseline armv8-a, s8 x s8 -> s16 widening multiplies summed pairwise
// into s32. None saturates (a pair sum is at most 2 * 127 * 127 < 32767), so weights keep 127
// levels: the integer sums equal the VNNI path's.
#if defined(__ARM_FEATURE_MATMUL_INT8)
#define LR_INT8_SMMLA 1
#elif defined(__ARM_FEATURE_DOTPROD)
#define LR_INT8_SDOT 1
#else
#define LR_INT8_NEON_WIDEN 1
#endif
constexpr int kQMaxW = 127;
#if defined(LR_INT8_SMMLA)
constexpr int kMr8 = 4;  // 4 x 16: 2 row pairs x 8 column pairs, 16 of 32 q registers accumulate
#else
constexpr int kMr8 = 4;  // 4 x 16: 16 of 32 q registers accumulate
#endif
constexpr int kLanes32 = 8;
#else
constexpr int kQMaxW = 63;
constexpr int kMr8 = 4;
constexpr int kLanes32 = 8;
#endif
// What an activation byte holds: q + kActOffset (VNNI's u8 x s8 products), or q's own bytes (plain
// AVX2's sign trick, AArch64).
#if defined(LR_SIMD_NEON) || defined(LR_INT8_AVX2)
constexpr int kActOffset = 0;
#else
constexpr int kActOffset = 128;
#endif
#if defined(LR_INT8_SMMLA)
constexpr int kKs = 8;  // k bytes per column (and per row) in one step of the panels
#else
constexpr int kKs = 4;
#endif
constexpr int kNv8 = 2;
constexpr int kNr8 = kNv8 * kLanes32;  // columns per int8 panel
constexpr int64_t kG = kInt8Group;     // k columns per scale group
static_assert(kG % kKs == 0, "groups must hold whole k steps");
constexpr int64_t kMc8 = 96 / kMr8 * kMr8;  // rows per L2 block (a multiple of kMr8)
static_assert(kMc8 % kMr8 == 0);
constexpr int64_t kBlockBytes8 = 192 * 1024;

constexpr size_t kScratchBytes = size_t(32) << 20;  // activation tiles kept in the Workspace

int64_t round_up_steps(int64_t k) { return (k + kKs - 1) / kKs * kKs; }
int64_t groups_of(int64_t k) { return (k + kG - 1) / kG; }

// Per group g: scale = max |x[g]| / 127, q = round_half_even(x * 127 / max); byte = q + kActOffset
// (padding up to kp: q = 0).
void quantize_row_bytes(const float* x, int64_t k, int64_t kp, uint8_t* out, float* scale) {
  for (int64_t g0 = 0, g = 0; g0 < k; g0 += kG, ++g) {
    const int64_t g1 = std::min(k, g0 + kG);
    float amax = 0;
    int64_t c = g0;
#if defined(__AVX512F__)
    __m512 vm = _mm512_setzero_ps();
    for (; c + 16 <= g1; c += 16) vm = _mm512_max_ps(vm, _mm512_abs_ps(_mm512_loadu_ps(x + c)));
    amax = _mm512_reduce_max_ps(vm);
#elif defined(__AVX2__)
    const __m256 abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
    __m256 vm = _mm256_setzero_ps();
    for (; c + 8 <= g1; c += 8) vm = _mm256_max_ps(vm, _mm256_and_ps(abs_mask, _mm256_loadu_ps(x + c)));
    __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(vm), _mm256_extractf128_ps(vm, 1));
    m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
    m4 = _mm_max_ss(m4, _mm_movehdup_ps(m4));
    amax = _mm_cvtss_f32(m4);
#endif
    for (; c < g1; ++c) amax = std::max(amax, std::fabs(x[c]));
    const float inv = amax > 0 ? 127.0f / amax : 0.0f;
    scale[g] = amax / 127.0f;
    c = g0;
#if defined(__AVX512F__)
    const __m512 vinv = _mm512_set1_ps(inv);
    const __m512i off = _mm512_set1_epi32(kActOffset);
    for (; c + 16 <= g1; c += 16) {
      const __m512i q = _mm512_add_epi32(_mm512_cvtps_epi32(_mm512_mul_ps(_mm512_loadu_ps(x + c), vinv)), off);
      _mm_storeu_si128(reinterpret_cast<__m128i*>(out + c), _mm512_cvtepi32_epi8(q));
    }
#elif defined(__AVX2__)
    // cvtps rounds half to even (MXCSR default), like nearbyint; q + 128 is in [1, 255] (unsigned
    // packs) and q in [-127, 127] (signed packs), so the saturating packs are exact.
    const __m256 vinv = _mm256_set1_ps(inv);
    const __m256i off = _mm256_set1_epi32(kActOffset);
    for (; c + 8 <= g1; c += 8) {
      const __m256i q = _mm256_add_epi32(_mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + c), vinv)), off);
      const __m128i lo = _mm256_castsi256_si128(q), hi = _mm256_extracti128_si256(q, 1);
      const __m128i w16 = kActOffset ? _mm_packus_epi32(lo, hi) : _mm_packs_epi32(lo, hi);
      _mm_storel_epi64(reinterpret_cast<__m128i*>(out + c), kActOffset ? _mm_packus_epi16(w16, w16) : _mm_packs_epi16(w16, w16));
    }
#endif
    for (; c < g1; ++c) out[c] = uint8_t(int(std::nearbyint(x[c] * inv)) + kActOffset);
  }
  for (int64_t c = k; c < kp; ++c) out[c] = kActOffset;
}

#if defined(LR_INT8_VNNI512)
using Vi = __m512i;
using Vf = __m512;
inline Vi vload_i(const void* p) { return _mm512_loadu_si512(p); }
inline Vi vbroadcast4(const uint8_t* p) {
  int32_t a4;
  std::memcpy(&a4, p, 4);
  return _mm512_set1_epi32(a4);
}
// vpdpbusd through inline asm: with the intrinsic GCC 12 copies every accumulator through a second
// register (and spills some) each iteration; "+v" ties the accumulator to its register.
inline Vi vdot(Vi acc, Vi a, Vi b) {
  asm("vpdpbusd %2, %1, %0" : "+v"(acc) : "v"(a), "v"(b));
  return acc;
}
inline Vf vcvt(Vi v) { return _mm512_cvtepi32_ps(v); }
inline Vf vload_f(const float* p) { return _mm512_loadu_ps(p); }
inline void vstore_f(float* p, Vf v) { _mm512_storeu_ps(p, v); }
inline Vf vset1_f(float v) { return _mm512_set1_ps(v); }
inline Vf vmul(Vf a, Vf b) { return _mm512_mul_ps(a, b); }
inline Vf vfma(Vf a, Vf b, Vf c) { return _mm512_fmadd_ps(a, b, c); }
#elif defined(LR_INT8_VNNI256) || defined(LR_INT8_AVX2)
using Vi = __m256i;
using Vf = __m256;
inline Vi vload_i(const void* p) { return _mm256_loadu_si256(static_cast<const __m256i*>(p)); }
inline Vi vbroadcast4(const uint8_t* p) {
  int32_t a4;
  std::memcpy(&a4, p, 4);
  return _mm256_set1_epi32(a4);
}
#if defined(LR_INT8_VNNI256)
// AVX-VNNI vpdpbusd (VEX, ymm): inline asm like the zmm one; "%{vex%}" asks the assembler for the
// VEX encoding (the mnemonic is shared with AVX512_VNNI, which this set must not need).
inline Vi vdot(Vi acc, Vi a, Vi b) {
  asm("%{vex%} vpdpbusd %2, %1, %0" : "+x"(acc) : "x"(a), "x"(b));
  return acc;
}
#else
// a: s8 activations, b: s8 weights, wabs = |b|: |b| * (sign(b) * a) = a * b per byte (vpsignb
// zeroes a where b is 0; |a| <= 127, so negating it is exact). One k step (only a group's odd last
// step): the int16 pair sums widened at once.
inline Vi vdot(Vi acc, Vi a, Vi b) {
  return _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_abs_epi8(b), _mm256_sign_epi8(a, b)),
                                                 _mm256_set1_epi16(1)));
}
// Two k steps (a0 with b0, a1 with b1): their int16 pair sums added before one widening.
inline Vi vdot2(Vi acc, Vi a0, Vi b0, Vi wabs0, Vi a1, Vi b1, Vi wabs1) {
  const Vi p = _mm256_add_epi16(_mm256_maddubs_epi16(wabs0, _mm256_sign_epi8(a0, b0)),
                                _mm256_maddubs_epi16(wabs1, _mm256_sign_epi8(a1, b1)));
  return _mm256_add_epi32(acc, _mm256_madd_epi16(p, _mm256_set1_epi16(1)));
}
#endif
inline Vf vcvt(Vi v) { return _mm256_cvtepi32_ps(v); }
inline Vf vload_f(const float* p) { return _mm256_loadu_ps(p); }
inline void vstore_f(float* p, Vf v) { _mm256_storeu_ps(p, v); }
inline Vf vset1_f(float v) { return _mm256_set1_ps(v); }
inline Vf vmul(Vf a, Vf b) { return _mm256_mul_ps(a, b); }
inline Vf vfma(Vf a, Vf b, Vf c) { return _mm256_fmadd_ps(a, b, c); }
#elif defined(LR_SIMD_NEON)
// kLanes32 = 8 int32 lanes in two q registers; as bytes, each q register is 4 columns x 4 k.
struct Vi {
  int32x4_t lo, hi;
};
using Vf = simd::Vf;
inline Vi vload_i(const void* p) {
  const int32_t* q = static_cast<const int32_t*>(p);
  return {vld1q_s32(q), vld1q_s32(q + 4)};
}
inline Vi vbroadcast4(const uint8_t* p) {
  int32_t a4;
  std::memcpy(&a4, p, 4);
  const int32x4_t v = vdupq_n_s32(a4);
  return {v, v};
}
#if defined(LR_INT8_SDOT)
// acc[i] += sum_{e<4} a[4i + e] * b[4i + e], s8 x s8 (sdot).
inline int32x4_t dot4(int32x4_t acc, int32x4_t a, int32x4_t b) {
  return vdotq_s32(acc, vreinterpretq_s8_s32(a), vreinterpretq_s8_s32(b));
}
#else
// The same sum from s8 x s8 -> s16 products: pairwise add (|sum| <= 2 * 127 * 127, no overflow),
// then pairwise add-accumulate into s32.
inline int32x4_t dot4(int32x4_t acc, int32x4_t a, int32x4_t b) {
  const int8x16_t a8 = vreinterpretq_s8_s32(a), b8 = vreinterpretq_s8_s32(b);
  const int16x8_t lo = vmull_s8(vget_low_s8(a8), vget_low_s8(b8)), hi = vmull_high_s8(a8, b8);
  return vpadalq_s16(acc, vpaddq_s16(lo, hi));
}
#endif
inline Vi vdot(Vi acc, Vi a, Vi b) { return {dot4(acc.lo, a.lo, b.lo), dot4(acc.hi, a.hi, b.hi)}; }
inline Vf vcvt(Vi v) { return {vcvtq_f32_s32(v.lo), vcvtq_f32_s32(v.hi)}; }
inline Vf vload_f(const float* p) { return simd::load(p); }
inline void vstore_f(float* p, Vf v) { simd::store(p, v); }
inline Vf vset1_f(float v) { return simd::set1(v); }
inline Vf vmul(Vf a, Vf b) { return simd::mul(a, b); }
inline Vf vfma(Vf a, Vf b, Vf c) { return simd::fma(a, b, c); }
#if defined(LR_INT8_SMMLA)
// smmla: acc += A · B^T for the 2 x 8 s8 matrices A (two rows' 8 k) and B (two columns' 8 k);
// acc is the 2 x 2 int32 result row-major: {r0 c0, r0 c1, r1 c0, r1 c1}.
inline int32x4_t mmla(int32x4_t acc, int8x16_t a, int8x16_t b) { return vmmlaq_s32(acc, a, b); }
// Two accumulators of adjacent column pairs (c0, c1 and c2, c3) as row vectors: lo = row 0's four
// columns, hi = row 1's.
inline int32x4_t rows_lo(int32x4_t a, int32x4_t b) {
  return vreinterpretq_s32_s64(vzip1q_s64(vreinterpretq_s64_s32(a), vreinterpretq_s64_s32(b)));
}
inline int32x4_t rows_hi(int32x4_t a, int32x4_t b) {
  return vreinterpretq_s32_s64(vzip2q_s64(vreinterpretq_s64_s32(a), vreinterpretq_s64_s32(b)));
}
#endif
#endif

// One kMr8 x kNr8 tile over all of k. Activations of the tile are packed [step][kMr8][kKs], so
// every row's broadcast (or row pair's smmla operand) is a load at an immediate offset. Per group g
// (steps q0..q1):
//   acc[r][col] = -kActOffset * colsum_g[col] + sum_steps <x bytes[r, step], s8 w[col, step]>   (= exact int dot)
//   out[r][col] = fma(float(acc), sx[r, g] * sw[col, g], out[r][col])
// then y[r, 0:cols] = out[r] for r < rows (rows past m are zero padding). sx rows have stride ng;
// panel scale/bias are [ng][kNr8]. The accumulators are named variables (an array made GCC copy
// and spill them).
#define LR_ROWS(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11)
static_assert(kMr8 <= 12 && kNv8 == 2, "micro_int8 names at most 12 x 2 accumulators");
void micro_int8(int64_t steps, int64_t ng, const uint8_t* xt, const int8_t* panel, const float* sx, const float* sw,
                const int32_t* bias, float* y, int64_t ldy, int rows, int cols) {
  alignas(64) float out[kMr8][kNr8];
#if defined(LR_INT8_VNNI512) || defined(LR_INT8_VNNI256) || defined(LR_INT8_AVX2) || defined(LR_SIMD_NEON)
  for (int64_t g = 0; g < ng; ++g) {
    const int64_t q0 = g * (kG / kKs), q1 = std::min(steps, q0 + kG / kKs);
    const int8_t* pq = panel + q0 * kNr8 * kKs;
    const uint8_t* xg = xt + q0 * kMr8 * kKs;
#if defined(LR_INT8_SMMLA)
    // m<p>_<c>: rows 2p, 2p + 1 x columns 2c, 2c + 1 (smmla's 2 x 2 layout); a step is one 16-byte
    // operand per row pair and per column pair. Then c<r>_0/1 = row r's 16 columns, as below.
    static_assert(kActOffset == 0 && kMr8 % 2 == 0 && kNr8 == 16, "smmla: s8 activations, row pairs, 8 column pairs");
    (void)bias;  // all zero (kActOffset == 0)
#define LR_PAIRS(X) X(0) X(1) X(2) X(3) X(4) X(5)
#define LR_COLS_OF(X, p) X(p, 0) X(p, 1) X(p, 2) X(p, 3) X(p, 4) X(p, 5) X(p, 6) X(p, 7)
#define LR_DECL1(p, c) [[maybe_unused]] int32x4_t m##p##_##c = vdupq_n_s32(0);
#define LR_DECL(p) LR_COLS_OF(LR_DECL1, p)
    LR_PAIRS(LR_DECL)
#undef LR_DECL
#undef LR_DECL1
    for (int64_t q = q0; q < q1; ++q, pq += kNr8 * kKs, xg += kMr8 * kKs) {
      const int8_t* xs = reinterpret_cast<const int8_t*>(xg);
#define LR_LOAD_A(p) [[maybe_unused]] const int8x16_t a##p = kMr8 / 2 > p ? vld1q_s8(xs + (p) * 16) : vdupq_n_s8(0);
      LR_PAIRS(LR_LOAD_A)
#undef LR_LOAD_A
#define LR_MMLA(p, c) \
  if constexpr (kMr8 / 2 > p) m##p##_##c = mmla(m##p##_##c, a##p, b);
#define LR_COL(c)                                      \
  {                                                    \
    const int8x16_t b = vld1q_s8(pq + (c) * 16);       \
    LR_MMLA(0, c) LR_MMLA(1, c) LR_MMLA(2, c) LR_MMLA(3, c) LR_MMLA(4, c) LR_MMLA(5, c) \
  }
      LR_COL(0) LR_COL(1) LR_COL(2) LR_COL(3) LR_COL(4) LR_COL(5) LR_COL(6) LR_COL(7)
#undef LR_COL
#undef LR_MMLA
    }
#define LR_DECL(r) [[maybe_unused]] Vi c##r##_0, c##r##_1;
    LR_ROWS(LR_DECL)
#undef LR_DECL
#define LR_UNZIP(p, e, o)                                                                       \
  if constexpr (kMr8 / 2 > p) {                                                                 \
    c##e##_0 = {rows_lo(m##p##_0, m##p##_1), rows_lo(m##p##_2, m##p##_3)};                      \
    c##e##_1 = {rows_lo(m##p##_4, m##p##_5), rows_lo(m##p##_6, m##p##_7)};                      \
    c##o##_0 = {rows_hi(m##p##_0, m##p##_1), rows_hi(m##p##_2, m##p##_3)};                      \
    c##o##_1 = {rows_hi(m##p##_4, m##p##_5), rows_hi(m##p##_6, m##p##_7)};                      \
  }
    LR_UNZIP(0, 0, 1) LR_UNZIP(1, 2, 3) LR_UNZIP(2, 4, 5) LR_UNZIP(3, 6, 7) LR_UNZIP(4, 8, 9) LR_UNZIP(5, 10, 11)
#undef LR_UNZIP
#undef LR_COLS_OF
#undef LR_PAIRS
#else
    const Vi z0 = vload_i(bias + g * kNr8), z1 = vload_i(bias + g * kNr8 + kLanes32);
#define LR_DECL(r) [[maybe_unused]] Vi c##r##_0 = z0, c##r##_1 = z1;
    LR_ROWS(LR_DECL)
#undef LR_DECL
    int64_t q = q0;
#if defined(LR_INT8_AVX2)
    // Two k steps per iteration (vdot2); a group's odd last step, below, alone (vdot).
    for (; q + 1 < q1; q += 2, pq += 2 * kNr8 * kKs, xg += 2 * kMr8 * kKs) {
      const Vi b0 = vload_i(pq), b1 = vload_i(pq + kLanes32 * 4);
      const Vi d0 = vload_i(pq + kNr8 * kKs), d1 = vload_i(pq + kNr8 * kKs + kLanes32 * 4);
      const Vi m0 = _mm256_abs_epi8(b0), m1 = _mm256_abs_epi8(b1), n0 = _mm256_abs_epi8(d0), n1 = _mm256_abs_epi8(d1);
#define LR_STEP2(r)                                                   \
  if constexpr (kMr8 > r) {                                           \
    const Vi a = vbroadcast4(xg + (r) * 4);                           \
    const Vi e = vbroadcast4(xg + kMr8 * kKs + (r) * 4);              \
    c##r##_0 = vdot2(c##r##_0, a, b0, m0, e, d0, n0);                 \
    c##r##_1 = vdot2(c##r##_1, a, b1, m1, e, d1, n1);                 \
  }
      LR_ROWS(LR_STEP2)
#undef LR_STEP2
    }
#endif
    for (; q < q1; ++q, pq += kNr8 * kKs, xg += kMr8 * kKs) {
      const Vi b0 = vload_i(pq), b1 = vload_i(pq + kLanes32 * 4);
#define LR_STEP(r)                               \
  if constexpr (kMr8 > r) {                      \
    const Vi a = vbroadcast4(xg + (r) * 4);      \
    c##r##_0 = vdot(c##r##_0, a, b0);            \
    c##r##_1 = vdot(c##r##_1, a, b1);            \
  }
      LR_ROWS(LR_STEP)
#undef LR_STEP
    }
#endif
    const Vf s0 = vload_f(sw + g * kNr8), s1 = vload_f(sw + g * kNr8 + kLanes32);
#define LR_FOLD(r)                                                                              \
  if constexpr (kMr8 > r) {                                                                     \
    const Vf sr = vset1_f(sx[(r) * ng + g]);                                                    \
    float* o = out[r];                                                                          \
    const Vf p0 = g == 0 ? vset1_f(0.0f) : vload_f(o), p1 = g == 0 ? vset1_f(0.0f) : vload_f(o + kLanes32); \
    vstore_f(o, vfma(vcvt(c##r##_0), vmul(sr, s0), p0));                                        \
    vstore_f(o + kLanes32, vfma(vcvt(c##r##_1), vmul(sr, s1), p1));                             \
  }
    LR_ROWS(LR_FOLD)
#undef LR_FOLD
  }
#else
  static_assert(kActOffset == 128, "the portable loop reads activation bytes as u8 = q + 128");
  for (int r = 0; r < kMr8; ++r)
    for (int c = 0; c < kNr8; ++c) {
      float o = 0.0f;
      for (int64_t g = 0; g < ng; ++g) {
        const int64_t q0 = g * (kG / kKs), q1 = std::min(steps, q0 + kG / kKs);
        int32_t acc = bias[g * kNr8 + c];
        for (int64_t q = q0; q < q1; ++q)
          for (int e = 0; e < kKs; ++e)
            acc += int32_t(xt[(q * kMr8 + r) * kKs + e]) * panel[(q * kNr8 + c) * kKs + e];
        o = std::fma(float(acc), sx[r * ng + g] * sw[g * kNr8 + c], o);
      }
      out[r][c] = o;
    }
#endif
  for (int r = 0; r < rows; ++r) std::copy(out[r], out[r] + cols, y + r * ldy);
}
#undef LR_ROWS

class Int8Matrix final : public PackedMatrix {
 public:
  explicit Int8Matrix(const TensorView& w)
      : n_(w.shape[0]), k_(w.shape[1]), kp_(round_up_steps(k_)), ng_(groups_of(k_)), panels_((n_ + kNr8 - 1) / kNr8) {
    w_.assign(size_t(panels_ * kp_ * kNr8), 0);
    scale_.assign(size_t(panels_ * ng_ * kNr8), 0.0f);
    bias_.assign(size_t(panels_ * ng_ * kNr8), 0);
    float* const scale = scale_.mutable_data();
    int32_t* const bias = bias_.mutable_data();
    std::vector<float> row(static_cast<size_t>(k_));
    for (int64_t j = 0; j < n_; ++j) {
      weight_row(w, j, row.data());
      const int64_t p = j / kNr8, col = j % kNr8;
      int8_t* panel = w_.mutable_data() + p * kp_ * kNr8;
      for (int64_t g = 0; g < ng_; ++g) {
        const int64_t c0 = g * kG, c1 = std::min(k_, c0 + kG);
        float amax = 0;
        bool finite = true;  // inf or NaN has no int8 code (and converting it to int is undefined)
        for (int64_t c = c0; c < c1; ++c) {
          finite = finite && std::isfinite(row[size_t(c)]);
          amax = std::max(amax, std::fabs(row[size_t(c)]));
        }
        if (!finite)
          throw Error(cat("int8: weight row ", j, " has an inf or NaN in columns ", c0, "..", c1 - 1,
                          "; this checkpoint cannot be quantized (use --precision fp32 or bf16)"));
        const float inv = amax > 0 ? float(kQMaxW) / amax : 0.0f;
        scale[size_t((p * ng_ + g) * kNr8 + col)] = amax / float(kQMaxW);
        int32_t sum = 0;
        for (int64_t c = c0; c < c1; ++c) {
          const int q = int(std::nearbyint(row[size_t(c)] * inv));
          panel[((c / kKs) * kNr8 + col) * kKs + c % kKs] = int8_t(q);
          sum += q;
        }
        bias[size_t((p * ng_ + g) * kNr8 + col)] = -kActOffset * sum;
      }
    }
  }
  // Over a cached image's arrays (panels, scales, biases), read in place.
  Int8Matrix(const PackedImage& img, std::shared_ptr<const void> keep)
      : n_(img.n), k_(img.k), kp_(round_up_steps(k_)), ng_(groups_of(k_)), panels_((n_ + kNr8 - 1) / kNr8) {
    const size_t count_w = size_t(panels_ * kp_ * kNr8), count_s = size_t(panels_ * ng_ * kNr8);
    if (img.element_bytes != 1 || img.pairs || img.arrays.size() != 3 || img.arrays[0].bytes != count_w ||
        img.arrays[1].bytes != count_s * 4 || img.arrays[2].bytes != count_s * 4)
      fail("packed matrix: int8 [", n_, ", ", k_, "] needs arrays of ", count_w, ", ", count_s * 4, " and ",
           count_s * 4, " bytes");
    w_.borrow(static_cast<const int8_t*>(img.arrays[0].data), count_w, keep);
    scale_.borrow(static_cast<const float*>(img.arrays[1].data), count_s, keep);
    bias_.borrow(static_cast<const int32_t*>(img.arrays[2].data), count_s, std::move(keep));
  }
  int64_t n() const override { return n_; }
  int64_t k() const override { return k_; }
  PackFormat format() const override { return PackFormat::int8; }
  size_t bytes() const override { return w_.owned() ? w_.bytes() + scale_.bytes() + bias_.bytes() : 0; }
  PackedImage image() const override {
    PackedImage img;
    img.format = PackFormat::int8;
    img.n = n_;
    img.k = k_;
    img.element_bytes = 1;
    img.arrays = {{w_.data(), w_.bytes()}, {scale_.data(), scale_.bytes()}, {bias_.data(), bias_.bytes()}};
    return img;
  }

  void apply(const float* x, int64_t m, float* y, int64_t ldy, ThreadPool& pool, Workspace& ws) const override {
    LR_CHECK(ldy >= n_, "gemm int8: ldy ", ldy, " < n ", n_);
    if (m <= 0) return;
    // Outlier input channels of this call are taken out of the int8 product (they would set
    // their group's scale in every row) and added back exactly in fp32 against the dequantized
    // weights.
    const std::vector<int64_t> outliers = select_outlier_channels(x, m, k_, &pool);
    // Activation tiles: [tiles][kp/kKs steps][kMr8 rows][kKs]; rows past m are zeros (q = 0, scale 0).
    const int64_t tiles = (m + kMr8 - 1) / kMr8, tile_bytes = kp_ * kMr8;
    // Every byte and scale is written below, so the buffers need no initialization. Up to
    // kScratchBytes they live in the caller's workspace, reused across calls: fresh pages cost a
    // page fault each and were most of the non-GEMM time at m = 8192.
    const size_t xq_bytes = size_t(tiles * tile_bytes), sx_count = size_t(tiles * kMr8 * ng_);
    std::unique_ptr<uint8_t[]> xq_own;
    std::unique_ptr<float[]> sx_own;
    uint8_t* const xq = xq_bytes <= kScratchBytes ? ws.bytes(xq_bytes) : (xq_own.reset(new uint8_t[xq_bytes]), xq_own.get());
    float* const sx = xq_bytes <= kScratchBytes ? ws.floats(sx_count) : (sx_own.reset(new float[sx_count]), sx_own.get());
    pool.parallel_for(tiles * kMr8, 16, [&](int64_t b, int64_t e, int) {
      std::vector<float> row(outliers.empty() ? 0 : size_t(k_));
      std::vector<uint8_t> qrow(static_cast<size_t>(kp_), uint8_t(kActOffset));
      for (int64_t i = b; i < e; ++i) {
        if (i < m) {
          const float* xi = x + i * k_;
          if (!outliers.empty()) {
            std::copy(xi, xi + k_, row.begin());
            for (int64_t c : outliers) row[size_t(c)] = 0.0f;
            xi = row.data();
          }
          quantize_row_bytes(xi, k_, kp_, qrow.data(), sx + i * ng_);
        } else {
          std::fill(qrow.begin(), qrow.end(), uint8_t(kActOffset));
          std::fill(sx + i * ng_, sx + (i + 1) * ng_, 0.0f);
        }
        uint8_t* dst = xq + (i / kMr8) * tile_bytes + (i % kMr8) * kKs;
        for (int64_t q = 0; q < kp_ / kKs; ++q) std::memcpy(dst + q * kMr8 * kKs, qrow.data() + q * kKs, kKs);
      }
    });
    const int64_t block_panels = std::max<int64_t>(1, kBlockBytes8 / (kp_ * kNr8));
    const int64_t grain = std::min<int64_t>(block_panels, (panels_ + pool.size() - 1) / pool.size());
    pool.parallel_for(panels_, grain, [&](int64_t pb, int64_t pe, int) {
      for (int64_t t0 = 0; t0 < tiles; t0 += kMc8 / kMr8) {
        const int64_t t1 = std::min(tiles, t0 + kMc8 / kMr8);
        for (int64_t p0 = pb; p0 < pe; p0 += block_panels) {
          const int64_t p1 = std::min(pe, p0 + block_panels);
          for (int64_t t = t0; t < t1; ++t) {
            const int rows = int(std::min<int64_t>(kMr8, m - t * kMr8));
            for (int64_t p = p0; p < p1; ++p) {
              const int cols = int(std::min<int64_t>(kNr8, n_ - p * kNr8));
              micro_int8(kp_ / kKs, ng_, xq + t * tile_bytes, w_.data() + p * kp_ * kNr8,
                         sx + t * kMr8 * ng_, scale_.data() + p * ng_ * kNr8, bias_.data() + p * ng_ * kNr8,
                         y + t * kMr8 * ldy + p * kNr8, ldy, rows, cols);
            }
          }
        }
      }
    });
    if (outliers.empty()) return;
    // wcol[o][j] = q[j, c_o] * scale[j, group(c_o)]; y[i, :] += x[i, c_o] * wcol[o] in ascending c_o.
    std::vector<float> wcol(outliers.size() * size_t(n_));
    for (size_t o = 0; o < outliers.size(); ++o) {
      const int64_t c = outliers[o];
      for (int64_t j = 0; j < n_; ++j)
        wcol[o * size_t(n_) + size_t(j)] =
            float(weight_q(j, c)) * scale_[size_t(((j / kNr8) * ng_ + c / kG) * kNr8 + j % kNr8)];
    }
    pool.parallel_for(m, 16, [&](int64_t b, int64_t e, int) {
      for (int64_t i = b; i < e; ++i)
        for (size_t o = 0; o < outliers.size(); ++o)
          add_scaled_row(x[i * k_ + outliers[o]], wcol.data() + o * size_t(n_), y + i * ldy, n_);
    });
  }

  int8_t weight_q(int64_t j, int64_t c) const {
    return w_[size_t((j / kNr8) * kp_ * kNr8 + ((c / kKs) * kNr8 + j % kNr8) * kKs + c % kKs)];
  }

 private:
  int64_t n_, k_, kp_, ng_, panels_;
  PackedStore<int8_t> w_;       // [panels, kp/kKs, kNr8, kKs]
  PackedStore<float> scale_;    // [panels, ng, kNr8] per output channel and k group
  PackedStore<int32_t> bias_;   // [panels, ng, kNr8] -kActOffset * sum_{c in group} q[j, c]
};

std::unique_ptr<PackedMatrix> pack_int8(const TensorView& w) { return std::make_unique<Int8Matrix>(w); }
std::unique_ptr<PackedMatrix> adopt_int8(const PackedImage& img, std::shared_ptr<const void> keep) {
  return std::make_unique<Int8Matrix>(img, std::move(keep));
}

}  // namespace

void fill_gemm_int8(KernelTable& t) {
  t.set = LR_TARGET_KERNEL_SET;
  t.pack_int8 = &pack_int8;
  t.adopt_int8 = &adopt_int8;
  t.int8_weight_qmax = kQMaxW;
}

}  // namespace lastrank::cpu::LR_KERNEL_SET
