// int8 GEMM: per-output-channel symmetric int8 weights x per-row dynamic int8 activations, exact
// int32 accumulation, fp32 rescale (the contract is in gemm_internal.h). Activations are stored as
// u8 = q + 128 so the u8 x s8 instructions apply (VNNI vpdpbusd, else AVX2 vpmaddubsw + vpmaddwd);
// the +128 offset is removed with the per-column weight sums. Weight panel layout:
// [k/4 groups][kNr8 columns][4 consecutive k]: one 32/64-byte load gives 4 k values of 8/16 columns.
// Integer sums are order-free, so results are bit-identical for any thread count.
#include <algorithm>
#include <cmath>
#include <vector>

#include "backend/cpu/gemm_internal.h"
#include "backend/cpu/gemm_kernel.h"
#include "core/error.h"

namespace lastrank::cpu {
namespace {

#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VNNI__)
#define LR_INT8_VNNI512 1
constexpr int kQMaxW = 127;
constexpr int kMr8 = 8;
constexpr int kLanes32 = 16;
#elif defined(__AVX2__)
#define LR_INT8_AVX2 1
constexpr int kQMaxW = 63;
constexpr int kMr8 = 4;
constexpr int kLanes32 = 8;
#else
constexpr int kQMaxW = 63;
constexpr int kMr8 = 4;
constexpr int kLanes32 = 8;
#endif
constexpr int kNv8 = 2;
constexpr int kNr8 = kNv8 * kLanes32;  // columns per int8 panel
constexpr int64_t kMc8 = 96;
// Outlier input channels: max_i |x[i,c]| > kOutlierRatio x the median channel max (a Gaussian
// channel sits near 1x; LLM activation outliers are 20-1000x). At most kMaxOutlierChannels
// (largest first) go through the fp32 side path, which costs kMax/k of the int8 MACs in fp32.
constexpr float kOutlierRatio = 6.0f;
constexpr int64_t kMaxOutlierChannels = 32;
constexpr int64_t kMaxK = 32768;
constexpr int64_t kBlockBytes8 = 192 * 1024;

int64_t round_up4(int64_t k) { return (k + 3) / 4 * 4; }

// Row scale and q = round_half_even(x * 127 / amax); u8 = q + 128 (padding to kp: 128 = zero).
void quantize_row_u8(const float* x, int64_t k, int64_t kp, uint8_t* out, float* scale) {
  float amax = 0;
  for (int64_t c = 0; c < k; ++c) amax = std::max(amax, std::fabs(x[c]));
  const float inv = amax > 0 ? 127.0f / amax : 0.0f;
  *scale = amax / 127.0f;
  int64_t c = 0;
#if defined(__AVX2__)
  const __m256 vinv = _mm256_set1_ps(inv);
  const __m256i off = _mm256_set1_epi32(128);
  for (; c + 8 <= k; c += 8) {
    __m256i q = _mm256_add_epi32(_mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + c), vinv)), off);
    alignas(32) int32_t t[8];
    _mm256_store_si256(reinterpret_cast<__m256i*>(t), q);
    for (int i = 0; i < 8; ++i) out[c + i] = uint8_t(t[i]);
  }
#endif
  for (; c < k; ++c) out[c] = uint8_t(int(std::nearbyint(x[c] * inv)) + 128);
  for (; c < kp; ++c) out[c] = 128;
}

// acc[r][col] = sum_g <u8 x[r, 4g..4g+3], s8 w[col, 4g..4g+3]>, then y = float(acc - 128*colsum) * (sx*sw).
template <int R>
void micro_int8(int64_t groups, const uint8_t* xq, int64_t kp, const int8_t* panel, const float* sx,
                const float* sw, const int32_t* colsum, float* y, int64_t ldy, int cols) {
  float out[kMr8][kNr8];
#if defined(LR_INT8_VNNI512) || defined(LR_INT8_AVX2)
#if defined(LR_INT8_VNNI512)
  using Vi = __m512i;
  auto vzero = [] { return _mm512_setzero_si512(); };
#else
  using Vi = __m256i;
  auto vzero = [] { return _mm256_setzero_si256(); };
  const __m256i ones = _mm256_set1_epi16(1);
#endif
  Vi acc[R][kNv8];
  for (int r = 0; r < R; ++r)
    for (int v = 0; v < kNv8; ++v) acc[r][v] = vzero();
#if defined(LR_INT8_AVX2)
  if constexpr (R == 4) {
    // Hand-scheduled full tile: one row at a time keeps 8 accumulators + 2 B + 3 temps in
    // registers (the generic loop below makes GCC spill).
    __m256i c00 = vzero(), c01 = vzero(), c10 = vzero(), c11 = vzero(), c20 = vzero(), c21 = vzero(),
            c30 = vzero(), c31 = vzero();
    const uint8_t* x0 = xq;
    for (int64_t g = 0; g < groups; ++g, x0 += 4, panel += kNr8 * 4) {
      const __m256i b0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(panel));
      const __m256i b1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(panel + 32));
#define LR_ROW(r, a0, a1)                                                                    \
  {                                                                                          \
    int32_t a4;                                                                              \
    std::memcpy(&a4, x0 + (r) * kp, 4);                                                      \
    const __m256i a = _mm256_set1_epi32(a4);                                                 \
    a0 = _mm256_add_epi32(a0, _mm256_madd_epi16(_mm256_maddubs_epi16(a, b0), ones));         \
    a1 = _mm256_add_epi32(a1, _mm256_madd_epi16(_mm256_maddubs_epi16(a, b1), ones));         \
  }
      LR_ROW(0, c00, c01) LR_ROW(1, c10, c11) LR_ROW(2, c20, c21) LR_ROW(3, c30, c31)
#undef LR_ROW
    }
    acc[0][0] = c00, acc[0][1] = c01, acc[1][0] = c10, acc[1][1] = c11;
    acc[2][0] = c20, acc[2][1] = c21, acc[3][0] = c30, acc[3][1] = c31;
    groups = 0;
  }
#endif
  for (int64_t g = 0; g < groups; ++g) {
    Vi b[kNv8];
    for (int v = 0; v < kNv8; ++v) {
      const void* src = panel + (g * kNr8 + v * kLanes32) * 4;
#if defined(LR_INT8_VNNI512)
      b[v] = _mm512_loadu_si512(src);
#else
      b[v] = _mm256_loadu_si256(static_cast<const __m256i*>(src));
#endif
    }
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      int32_t a4;
      std::memcpy(&a4, xq + r * kp + g * 4, 4);
#if defined(LR_INT8_VNNI512)
      const Vi a = _mm512_set1_epi32(a4);
      for (int v = 0; v < kNv8; ++v) acc[r][v] = _mm512_dpbusd_epi32(acc[r][v], a, b[v]);
#else
      const Vi a = _mm256_set1_epi32(a4);
      for (int v = 0; v < kNv8; ++v)
        acc[r][v] = _mm256_add_epi32(acc[r][v], _mm256_madd_epi16(_mm256_maddubs_epi16(a, b[v]), ones));
#endif
    }
  }
  for (int r = 0; r < R; ++r)
    for (int v = 0; v < kNv8; ++v) {
#if defined(LR_INT8_VNNI512)
      const __m512i cs = _mm512_slli_epi32(_mm512_loadu_si512(colsum + v * kLanes32), 7);
      const __m512 d = _mm512_cvtepi32_ps(_mm512_sub_epi32(acc[r][v], cs));
      const __m512 s = _mm512_mul_ps(_mm512_set1_ps(sx[r]), _mm512_loadu_ps(sw + v * kLanes32));
      _mm512_storeu_ps(&out[r][v * kLanes32], _mm512_mul_ps(d, s));
#else
      const __m256i cs = _mm256_slli_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(colsum + v * kLanes32)), 7);
      const __m256 d = _mm256_cvtepi32_ps(_mm256_sub_epi32(acc[r][v], cs));
      const __m256 s = _mm256_mul_ps(_mm256_set1_ps(sx[r]), _mm256_loadu_ps(sw + v * kLanes32));
      _mm256_storeu_ps(&out[r][v * kLanes32], _mm256_mul_ps(d, s));
#endif
    }
#else
  for (int r = 0; r < R; ++r)
    for (int c = 0; c < kNr8; ++c) {
      int32_t acc = 0;
      for (int64_t g = 0; g < groups; ++g)
        for (int e = 0; e < 4; ++e) acc += int32_t(xq[r * kp + g * 4 + e]) * panel[(g * kNr8 + c) * 4 + e];
      out[r][c] = float(acc - 128 * colsum[c]) * (sx[r] * sw[c]);
    }
#endif
  for (int r = 0; r < R; ++r) std::copy(out[r], out[r] + cols, y + r * ldy);
}

void micro_int8_any(int rows, int64_t groups, const uint8_t* xq, int64_t kp, const int8_t* panel, const float* sx,
                    const float* sw, const int32_t* colsum, float* y, int64_t ldy, int cols) {
  switch (rows) {
#define LR_CASE(R) \
  case R: micro_int8<R>(groups, xq, kp, panel, sx, sw, colsum, y, ldy, cols); break;
    LR_CASE(1) LR_CASE(2) LR_CASE(3) LR_CASE(4)
#if defined(LR_INT8_VNNI512)
    LR_CASE(5) LR_CASE(6) LR_CASE(7) LR_CASE(8)
#endif
#undef LR_CASE
    default: break;
  }
}

// y[0:n] += a * w[0:n], one fused multiply-add per element (same in every ISA branch).
void add_scaled_row(float a, const float* w, float* y, int64_t n) {
  int64_t j = 0;
  const simd::Vf va = simd::set1(a);
  for (; j + simd::kLanes <= n; j += simd::kLanes) simd::store(y + j, simd::fma(va, simd::load(w + j), simd::load(y + j)));
  for (; j < n; ++j) y[j] = std::fma(a, w[j], y[j]);
}

class Int8Matrix final : public PackedMatrix {
 public:
  explicit Int8Matrix(const TensorView& w)
      : n_(w.shape[0]), k_(w.shape[1]), kp_(round_up4(k_)), panels_((n_ + kNr8 - 1) / kNr8) {
    // int32 accumulators hold k * 255 * 127 (+ the offset term); far beyond any real layer.
    if (k_ > kMaxK) fail("pack_matrix int8: weight ", w.name, " has k=", k_, ", the int8 kernel supports k <= ", kMaxK);
    w_.assign(size_t(panels_ * kp_ * kNr8), 0);
    scale_.assign(size_t(panels_ * kNr8), 0.0f);
    colsum_.assign(size_t(panels_ * kNr8), 0);
    std::vector<float> row(static_cast<size_t>(k_));
    for (int64_t j = 0; j < n_; ++j) {
      weight_row(w, j, row.data());
      float amax = 0;
      for (float v : row) amax = std::max(amax, std::fabs(v));
      const float inv = amax > 0 ? float(kQMaxW) / amax : 0.0f;
      scale_[size_t(j)] = amax / float(kQMaxW);
      int8_t* panel = w_.data() + (j / kNr8) * kp_ * kNr8;
      const int64_t col = j % kNr8;
      int32_t sum = 0;
      for (int64_t c = 0; c < k_; ++c) {
        const int q = int(std::nearbyint(row[size_t(c)] * inv));
        panel[((c / 4) * kNr8 + col) * 4 + c % 4] = int8_t(q);
        sum += q;
      }
      colsum_[size_t(j)] = sum;
    }
  }
  int64_t n() const override { return n_; }
  int64_t k() const override { return k_; }
  Precision precision() const override { return Precision::int8; }
  size_t bytes() const override { return w_.size() + scale_.size() * 4 + colsum_.size() * 4; }

  void apply(const float* x, int64_t m, float* y, int64_t ldy, ThreadPool& pool) const override {
    LR_CHECK(ldy >= n_, "gemm int8: ldy ", ldy, " < n ", n_);
    if (m <= 0) return;
    // Outlier input channels of this call are taken out of the int8 product (they would set
    // every row's scale) and added back exactly in fp32 against the dequantized weights.
    const std::vector<int64_t> outliers = select_outlier_channels(x, m, k_, &pool);
    std::vector<uint8_t> xq(size_t(m * kp_));
    std::vector<float> sx(static_cast<size_t>(m));
    pool.parallel_for(m, 16, [&](int64_t b, int64_t e, int) {
      std::vector<float> row(outliers.empty() ? 0 : size_t(k_));
      for (int64_t i = b; i < e; ++i) {
        const float* xi = x + i * k_;
        if (!outliers.empty()) {
          std::copy(xi, xi + k_, row.begin());
          for (int64_t c : outliers) row[size_t(c)] = 0.0f;
          xi = row.data();
        }
        quantize_row_u8(xi, k_, kp_, xq.data() + i * kp_, &sx[size_t(i)]);
      }
    });
    const int64_t block_panels = std::max<int64_t>(1, kBlockBytes8 / (kp_ * kNr8));
    const int64_t grain = std::min<int64_t>(block_panels, (panels_ + pool.size() - 1) / pool.size());
    pool.parallel_for(panels_, grain, [&](int64_t pb, int64_t pe, int) {
      for (int64_t i0 = 0; i0 < m; i0 += kMc8) {
        const int64_t i1 = std::min(m, i0 + kMc8);
        for (int64_t p0 = pb; p0 < pe; p0 += block_panels) {
          const int64_t p1 = std::min(pe, p0 + block_panels);
          for (int64_t i = i0; i < i1; i += kMr8) {
            const int rows = int(std::min<int64_t>(kMr8, i1 - i));
            for (int64_t p = p0; p < p1; ++p) {
              const int cols = int(std::min<int64_t>(kNr8, n_ - p * kNr8));
              micro_int8_any(rows, kp_ / 4, xq.data() + i * kp_, kp_, w_.data() + p * kp_ * kNr8, sx.data() + i,
                             scale_.data() + p * kNr8, colsum_.data() + p * kNr8, y + i * ldy + p * kNr8, ldy, cols);
            }
          }
        }
      }
    });
    if (outliers.empty()) return;
    // wcol[o][j] = q[j, c_o] * scale[j]; y[i, :] += x[i, c_o] * wcol[o] in ascending c_o.
    std::vector<float> wcol(outliers.size() * size_t(n_));
    for (size_t o = 0; o < outliers.size(); ++o) {
      const int64_t c = outliers[o];
      for (int64_t j = 0; j < n_; ++j)
        wcol[o * size_t(n_) + size_t(j)] = float(weight_q(j, c)) * scale_[size_t(j)];
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
  int64_t n_, k_, kp_, panels_;
  std::vector<int8_t> w_;        // [panels, kp/4, kNr8, 4]
  std::vector<float> scale_;                          // [panels * kNr8] per output channel
  std::vector<int32_t> colsum_;                       // [panels * kNr8] sum_c q[j, c]
};

}  // namespace

int int8_weight_qmax() { return kQMaxW; }

std::unique_ptr<PackedMatrix> pack_int8(const TensorView& w) { return std::make_unique<Int8Matrix>(w); }

// Independent scalar statement of the same quantization (see gemm_internal.h).
QuantizedRows quantize_rows(const float* x, int64_t rows, int64_t cols, int qmax) {
  QuantizedRows q;
  q.rows = rows;
  q.cols = cols;
  q.q.resize(size_t(rows * cols));
  q.scale.resize(size_t(rows));
  for (int64_t i = 0; i < rows; ++i) {
    float amax = 0;
    for (int64_t c = 0; c < cols; ++c) amax = std::max(amax, std::fabs(x[i * cols + c]));
    const float inv = amax > 0 ? float(qmax) / amax : 0.0f;
    q.scale[size_t(i)] = amax / float(qmax);
    for (int64_t c = 0; c < cols; ++c) q.q[size_t(i * cols + c)] = int8_t(std::nearbyint(x[i * cols + c] * inv));
  }
  return q;
}

std::vector<int64_t> select_outlier_channels(const float* x, int64_t m, int64_t k, ThreadPool* pool) {
  if (m <= 0 || k < 16) return {};
  // Column maxima; max is exact and order-free, so the per-worker split cannot change the result.
  std::vector<std::vector<float>> part(size_t(pool ? pool->size() : 1), std::vector<float>(size_t(k), 0.0f));
  auto scan = [&](int64_t b, int64_t e, int worker) {
    float* cm = part[size_t(worker)].data();
    for (int64_t i = b; i < e; ++i)
      for (int64_t c = 0; c < k; ++c) cm[c] = std::max(cm[c], std::fabs(x[i * k + c]));
  };
  if (pool) pool->parallel_for(m, 64, scan);
  else scan(0, m, 0);
  std::vector<float> chmax = part[0];
  for (size_t w = 1; w < part.size(); ++w)
    for (int64_t c = 0; c < k; ++c) chmax[size_t(c)] = std::max(chmax[size_t(c)], part[w][size_t(c)]);
  std::vector<float> sorted = chmax;
  std::nth_element(sorted.begin(), sorted.begin() + k / 2, sorted.end());
  const float threshold = kOutlierRatio * sorted[size_t(k / 2)];
  std::vector<int64_t> out;
  for (int64_t c = 0; c < k; ++c)
    if (chmax[size_t(c)] > threshold) out.push_back(c);
  if (int64_t(out.size()) > kMaxOutlierChannels) {  // keep the largest, ties by index
    std::stable_sort(out.begin(), out.end(), [&](int64_t a, int64_t b) { return chmax[size_t(a)] > chmax[size_t(b)]; });
    out.resize(size_t(kMaxOutlierChannels));
    std::sort(out.begin(), out.end());
  }
  return out;
}

void gemm_int8_ref(const float* x, int64_t m, int64_t k, const TensorView& w, float* y) {
  const int64_t n = w.shape[0];
  std::vector<float> wf(size_t(n * k));
  for (int64_t j = 0; j < n; ++j) weight_row(w, j, wf.data() + j * k);
  const std::vector<int64_t> outliers = select_outlier_channels(x, m, k);
  std::vector<float> xz(x, x + m * k);
  for (int64_t i = 0; i < m; ++i)
    for (int64_t c : outliers) xz[size_t(i * k + c)] = 0.0f;
  const QuantizedRows qx = quantize_rows(xz.data(), m, k, 127);
  const QuantizedRows qw = quantize_rows(wf.data(), n, k, kQMaxW);
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      int64_t dot = 0;
      for (int64_t c = 0; c < k; ++c) dot += int64_t(qx.q[size_t(i * k + c)]) * qw.q[size_t(j * k + c)];
      float acc = float(dot) * (qx.scale[size_t(i)] * qw.scale[size_t(j)]);
      for (int64_t c : outliers)
        acc = std::fma(x[i * k + c], float(qw.q[size_t(j * k + c)]) * qw.scale[size_t(j)], acc);
      y[i * n + j] = acc;
    }
}

}  // namespace lastrank::cpu
