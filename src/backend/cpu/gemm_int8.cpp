// int8 GEMM: symmetric int8 weights and dynamic int8 activations, both with one scale per k-group
// of kInt8Group input channels; exact int32 dot products per group, combined in fp32 (the contract
// is in gemm_internal.h). On x86 activations are stored as u8 = q + 128 so the u8 x s8
// instructions apply (VNNI vpdpbusd, else AVX2 vpmaddubsw + vpmaddwd); each group's accumulators
// start at -128 * (that group's weight column sum), which removes the offset exactly. On AArch64
// the products are s8 x s8 (sdot, or widening multiplies without dotprod), so activations are
// stored as the bytes of q itself (offset 0, accumulators start at 0): the same exact integer
// sums either way. Weight panel layout: [k/4 quads][kNr8 columns][4 consecutive k]: one
// 32/64-byte load gives 4 k values of 8/16 columns.
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
#include "core/error.h"

namespace lastrank::cpu::LR_KERNEL_SET {
namespace {

#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VNNI__)
#define LR_INT8_VNNI512 1
constexpr int kQMaxW = 127;
constexpr int kMr8 = 8;  // 8 x 32: 16 accumulators; 12 x 32 (24) measured no faster
constexpr int kLanes32 = 16;
#elif defined(__AVX2__)
#define LR_INT8_AVX2 1
constexpr int kQMaxW = 63;
constexpr int kMr8 = 4;
constexpr int kLanes32 = 8;
#elif defined(LR_SIMD_NEON)
// ---- AArch64: sdot (armv8.2-a+dotprod) or, on baseline armv8-a, s8 x s8 -> s16 widening
// multiplies summed pairwise into s32. Neither saturates (a pair sum is at most 2 * 127 * 127 <
// 32767), so weights keep 127 levels: the integer sums equal the VNNI path's.
#if defined(__ARM_FEATURE_DOTPROD)
#define LR_INT8_SDOT 1
#else
#define LR_INT8_NEON_WIDEN 1
#endif
constexpr int kQMaxW = 127;
constexpr int kMr8 = 4;  // 4 x 16: 16 of 32 q registers accumulate
constexpr int kLanes32 = 8;
#else
constexpr int kQMaxW = 63;
constexpr int kMr8 = 4;
constexpr int kLanes32 = 8;
#endif
// What an activation byte holds: q + kActOffset (x86's u8 x s8 products), or q's own bytes (AArch64).
#if defined(LR_SIMD_NEON)
constexpr int kActOffset = 0;
#else
constexpr int kActOffset = 128;
#endif
constexpr int kNv8 = 2;
constexpr int kNr8 = kNv8 * kLanes32;  // columns per int8 panel
constexpr int64_t kG = kInt8Group;     // k columns per scale group
static_assert(kG % 4 == 0, "groups must hold whole k quads");
constexpr int64_t kMc8 = 96;  // rows per L2 block (a multiple of kMr8)
static_assert(kMc8 % kMr8 == 0);
constexpr int64_t kBlockBytes8 = 192 * 1024;

constexpr size_t kScratchBytes = size_t(32) << 20;  // activation tiles kept in the Workspace

int64_t round_up4(int64_t k) { return (k + 3) / 4 * 4; }
int64_t groups_of(int64_t k) { return (k + kG - 1) / kG; }

// Per group g: scale = max |x[g]| / 127, q = round_half_even(x * 127 / max); byte = q + kActOffset
// (padding up to kp: q = 0).
void quantize_row_u8(const float* x, int64_t k, int64_t kp, uint8_t* out, float* scale) {
  for (int64_t g0 = 0, g = 0; g0 < k; g0 += kG, ++g) {
    const int64_t g1 = std::min(k, g0 + kG);
    float amax = 0;
    int64_t c = g0;
#if defined(__AVX512F__)
    __m512 vm = _mm512_setzero_ps();
    for (; c + 16 <= g1; c += 16) vm = _mm512_max_ps(vm, _mm512_abs_ps(_mm512_loadu_ps(x + c)));
    amax = _mm512_reduce_max_ps(vm);
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
#elif defined(LR_INT8_AVX2)
using Vi = __m256i;
using Vf = __m256;
inline Vi vload_i(const void* p) { return _mm256_loadu_si256(static_cast<const __m256i*>(p)); }
inline Vi vbroadcast4(const uint8_t* p) {
  int32_t a4;
  std::memcpy(&a4, p, 4);
  return _mm256_set1_epi32(a4);
}
// vpmaddubsw pairs: |2 * 255 * 63| < 32767, no saturation with 6-bit weights.
inline Vi vdot(Vi acc, Vi a, Vi b) {
  return _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(a, b), _mm256_set1_epi16(1)));
}
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
#endif

// One kMr8 x kNr8 tile over all of k. Activations of the tile are packed [quad][kMr8][4], so
// every row's broadcast is a load at an immediate offset. Per group g (quads q0..q1):
//   acc[r][col] = -kActOffset * colsum_g[col] + sum_quads <x byte[r, quad], s8 w[col, quad]>   (= exact int dot)
//   out[r][col] = fma(float(acc), sx[r, g] * sw[col, g], out[r][col])
// then y[r, 0:cols] = out[r] for r < rows (rows past m are zero padding). sx rows have stride ng;
// panel scale/bias are [ng][kNr8]. The accumulators are named variables (an array made GCC copy
// and spill them).
#define LR_ROWS(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11)
static_assert(kMr8 <= 12 && kNv8 == 2, "micro_int8 names at most 12 x 2 accumulators");
void micro_int8(int64_t quads, int64_t ng, const uint8_t* xt, const int8_t* panel, const float* sx, const float* sw,
                const int32_t* bias, float* y, int64_t ldy, int rows, int cols) {
  alignas(64) float out[kMr8][kNr8];
#if defined(LR_INT8_VNNI512) || defined(LR_INT8_AVX2) || defined(LR_SIMD_NEON)
  for (int64_t g = 0; g < ng; ++g) {
    const int64_t q0 = g * (kG / 4), q1 = std::min(quads, q0 + kG / 4);
    const Vi z0 = vload_i(bias + g * kNr8), z1 = vload_i(bias + g * kNr8 + kLanes32);
#define LR_DECL(r) [[maybe_unused]] Vi c##r##_0 = z0, c##r##_1 = z1;
    LR_ROWS(LR_DECL)
#undef LR_DECL
    const int8_t* pq = panel + q0 * kNr8 * 4;
    const uint8_t* xg = xt + q0 * kMr8 * 4;
    for (int64_t q = q0; q < q1; ++q, pq += kNr8 * 4, xg += kMr8 * 4) {
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
        const int64_t q0 = g * (kG / 4), q1 = std::min(quads, q0 + kG / 4);
        int32_t acc = bias[g * kNr8 + c];
        for (int64_t q = q0; q < q1; ++q)
          for (int e = 0; e < 4; ++e) acc += int32_t(xt[(q * kMr8 + r) * 4 + e]) * panel[(q * kNr8 + c) * 4 + e];
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
      : n_(w.shape[0]), k_(w.shape[1]), kp_(round_up4(k_)), ng_(groups_of(k_)), panels_((n_ + kNr8 - 1) / kNr8) {
    w_.assign(size_t(panels_ * kp_ * kNr8), 0);
    scale_.assign(size_t(panels_ * ng_ * kNr8), 0.0f);
    bias_.assign(size_t(panels_ * ng_ * kNr8), 0);
    std::vector<float> row(static_cast<size_t>(k_));
    for (int64_t j = 0; j < n_; ++j) {
      weight_row(w, j, row.data());
      const int64_t p = j / kNr8, col = j % kNr8;
      int8_t* panel = w_.data() + p * kp_ * kNr8;
      for (int64_t g = 0; g < ng_; ++g) {
        const int64_t c0 = g * kG, c1 = std::min(k_, c0 + kG);
        float amax = 0;
        for (int64_t c = c0; c < c1; ++c) amax = std::max(amax, std::fabs(row[size_t(c)]));
        const float inv = amax > 0 ? float(kQMaxW) / amax : 0.0f;
        scale_[size_t((p * ng_ + g) * kNr8 + col)] = amax / float(kQMaxW);
        int32_t sum = 0;
        for (int64_t c = c0; c < c1; ++c) {
          const int q = int(std::nearbyint(row[size_t(c)] * inv));
          panel[((c / 4) * kNr8 + col) * 4 + c % 4] = int8_t(q);
          sum += q;
        }
        bias_[size_t((p * ng_ + g) * kNr8 + col)] = -kActOffset * sum;
      }
    }
  }
  int64_t n() const override { return n_; }
  int64_t k() const override { return k_; }
  PackFormat format() const override { return PackFormat::int8; }
  size_t bytes() const override { return w_.size() + scale_.size() * 4 + bias_.size() * 4; }

  void apply(const float* x, int64_t m, float* y, int64_t ldy, ThreadPool& pool, Workspace& ws) const override {
    LR_CHECK(ldy >= n_, "gemm int8: ldy ", ldy, " < n ", n_);
    if (m <= 0) return;
    // Outlier input channels of this call are taken out of the int8 product (they would set
    // their group's scale in every row) and added back exactly in fp32 against the dequantized
    // weights.
    const std::vector<int64_t> outliers = select_outlier_channels(x, m, k_, &pool);
    // Activation tiles: [tiles][kp/4 quads][kMr8 rows][4]; rows past m are zeros (q = 0, scale 0).
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
          quantize_row_u8(xi, k_, kp_, qrow.data(), sx + i * ng_);
        } else {
          std::fill(qrow.begin(), qrow.end(), uint8_t(kActOffset));
          std::fill(sx + i * ng_, sx + (i + 1) * ng_, 0.0f);
        }
        uint8_t* dst = xq + (i / kMr8) * tile_bytes + (i % kMr8) * 4;
        for (int64_t q = 0; q < kp_ / 4; ++q) std::memcpy(dst + q * kMr8 * 4, qrow.data() + q * 4, 4);
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
              micro_int8(kp_ / 4, ng_, xq + t * tile_bytes, w_.data() + p * kp_ * kNr8,
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
    return w_[size_t((j / kNr8) * kp_ * kNr8 + ((c / 4) * kNr8 + j % kNr8) * 4 + c % 4)];
  }

 private:
  int64_t n_, k_, kp_, ng_, panels_;
  std::vector<int8_t> w_;       // [panels, kp/4, kNr8, 4]
  std::vector<float> scale_;    // [panels, ng, kNr8] per output channel and k group
  std::vector<int32_t> bias_;   // [panels, ng, kNr8] -kActOffset * sum_{c in group} q[j, c]
};

std::unique_ptr<PackedMatrix> pack_int8(const TensorView& w) { return std::make_unique<Int8Matrix>(w); }

}  // namespace

void fill_gemm_int8(KernelTable& t) {
  t.set = LR_TARGET_KERNEL_SET;
  t.pack_int8 = &pack_int8;
  t.int8_weight_qmax = kQMaxW;
}

}  // namespace lastrank::cpu::LR_KERNEL_SET
