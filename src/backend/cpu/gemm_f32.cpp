// Packed fp32 and bf16 GEMM: y[m, n] = x[m, k] · W[n, k]^T with W repacked into column panels of
// kNr outputs (panel p = k rows of kNr values, zero-padded). bf16 panels are widened to fp32 one
// cache block at a time (kc x nb, amortized over up to kMc rows of x), then both run the same fp32
// register micro-kernel. Threads own disjoint column ranges; each y element is summed over k in
// order (k blocks of kKc in sequence), so results are identical for any thread count.
#include <algorithm>
#include <vector>

#include "backend/cpu/gemm_internal.h"
#include "backend/cpu/gemm_kernel.h"
#include "core/error.h"

namespace lastrank::cpu {
namespace {

constexpr int64_t kKc = 512;                 // k block: B panel block kKc x kNr fp32 = 32-64 KB (L1/L2)
constexpr int64_t kMc = 384;                 // rows of x per outer block (tuned on Zen 3: 192-384 best)
constexpr int64_t kBlockBytes = 256 * 1024;  // fp32 B block (kKc x panels) kept in L2

template <typename T>
class PanelMatrix final : public PackedMatrix {
 public:
  explicit PanelMatrix(const TensorView& w) : n_(w.shape[0]), k_(w.shape[1]), panels_((n_ + kNr - 1) / kNr) {
    w_.assign(size_t(panels_ * k_ * kNr), T{});
    std::vector<float> row(static_cast<size_t>(k_));
    for (int64_t j = 0; j < n_; ++j) {
      weight_row(w, j, row.data());
      T* dst = w_.data() + (j / kNr) * k_ * kNr + j % kNr;
      for (int64_t c = 0; c < k_; ++c) dst[c * kNr] = convert(row[size_t(c)]);
    }
  }
  int64_t n() const override { return n_; }
  int64_t k() const override { return k_; }
  Precision precision() const override { return std::is_same_v<T, float> ? Precision::fp32 : Precision::bf16; }
  size_t bytes() const override { return w_.size() * sizeof(T); }

  void apply(const float* x, int64_t m, float* y, int64_t ldy, ThreadPool& pool) const override {
    LR_CHECK(ldy >= n_, "gemm: ldy ", ldy, " < n ", n_);
    if (m <= 0) return;
    const int64_t block_panels = std::max<int64_t>(1, kBlockBytes / (kKc * kNr * 4));
    // Split panels between threads in multiples of block_panels where possible.
    const int64_t grain = std::min<int64_t>(block_panels, (panels_ + pool.size() - 1) / pool.size());
    pool.parallel_for(panels_, grain, [&](int64_t pb, int64_t pe, int) {
      std::vector<float> widened;
      if constexpr (!std::is_same_v<T, float>) widened.resize(size_t(kKc * block_panels * kNr));
      for (int64_t i0 = 0; i0 < m; i0 += kMc) {
        const int64_t mc = std::min(kMc, m - i0);
        for (int64_t k0 = 0; k0 < k_; k0 += kKc) {
          const int64_t kc = std::min(kKc, k_ - k0);
          for (int64_t p0 = pb; p0 < pe; p0 += block_panels) {
            const int64_t p1 = std::min(pe, p0 + block_panels);
            // B sub-panel of panel p for this k block, as fp32.
            auto panel_ptr = [&](int64_t p) -> const float* {
              if constexpr (std::is_same_v<T, float>) return w_.data() + (p * k_ + k0) * kNr;
              else return widened.data() + (p - p0) * kc * kNr;
            };
            if constexpr (!std::is_same_v<T, float>) {
              for (int64_t p = p0; p < p1; ++p) {
                const uint16_t* src = w_.data() + (p * k_ + k0) * kNr;
                float* dst = widened.data() + (p - p0) * kc * kNr;
                for (int64_t e = 0; e < kc * kNr; e += simd::kLanes) simd::store(dst + e, simd::load_bf16(src + e));
              }
            }
            for (int64_t i = i0; i < i0 + mc; i += kMr) {
              const int rows = int(std::min<int64_t>(kMr, i0 + mc - i));
              for (int64_t p = p0; p < p1; ++p) {
                const int cols = int(std::min<int64_t>(kNr, n_ - p * kNr));
                micro_f32_any(rows, cols, kc, x + i * k_ + k0, k_, 1, panel_ptr(p), kNr, y + i * ldy + p * kNr, ldy,
                              k0 > 0);
              }
            }
          }
        }
      }
    });
  }

 private:
  static T convert(float f) {
    if constexpr (std::is_same_v<T, float>) return f;
    else return f32_to_bf16(f);
  }
  int64_t n_, k_, panels_;
  std::vector<T> w_;  // [panels, k, kNr]
};

}  // namespace

std::unique_ptr<PackedMatrix> pack_f32(const TensorView& w) { return std::make_unique<PanelMatrix<float>>(w); }
std::unique_ptr<PackedMatrix> pack_bf16(const TensorView& w) { return std::make_unique<PanelMatrix<uint16_t>>(w); }

}  // namespace lastrank::cpu
