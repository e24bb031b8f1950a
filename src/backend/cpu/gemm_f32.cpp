// Packed fp32 and bf16 GEMM: y[m, n] = x[m, k] · W[n, k]^T.
//
// Weights are repacked once into column panels of kNr outputs. Per thread (threads own disjoint
// panel ranges), rows of x go in blocks of kMc, k in blocks of kKc; for each (row block, k block)
// the rows are packed into row tiles of kMr ([tile][kc][kMr]: the micro-kernel's broadcasts read
// consecutive addresses instead of kMr rows a whole x row apart, which aliased in L1), then every
// panel of an L2-sized block runs the register micro-kernel against every row tile.
//
//  fp32: panel = [k][kNr] fp32; fp32 FMA micro-kernel (gemm_kernel.h).
//  bf16 with AVX512_BF16 (or AArch64 bf16, neon_bf16): panel = [k/2][kNr][2] bf16 (k pairs
//    interleaved); x is rounded to bf16 when packed (round-to-nearest-even) and vdpbf16ps / bfdot
//    multiplies bf16 pairs exactly, summing into fp32 accumulators: y = bf16(x) · bf16(W)^T with
//    fp32 accumulation, at twice the fp32 FMA rate on Zen 5 (docs/perf.md).
//  bf16 without them: panel = [k][kNr] bf16, widened to fp32 one block at a time and run
//    through the fp32 micro-kernel: y = x · bf16(W)^T exactly as in fp32 (half the weight memory).
//
// Each y element is one fixed chain over k in order (k blocks in sequence), no reduction crosses
// threads: results are bit-identical for any thread count and run to run. Compiled once per kernel
// set (kernel_table.h).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "backend/cpu/gemm_internal.h"
#include "backend/cpu/gemm_kernel.h"
#include "backend/cpu/kernel_table.h"
#include "core/error.h"
#include "backend/cpu/packed_store.h"

namespace lastrank::cpu::LR_KERNEL_SET {
namespace {

// Blocking, tuned on Zen 5 (48 KB L1, 1 MB L2 per core; sweep of kKc 256..3072 x kMc 48..768 x
// block 256 KB..1 MB, 1 thread, m = 2048, six Qwen3 shapes): bf16 best at 1024 / 192 / 512 KB
// (+6 % over 512 / 384 / 256 KB), fp32 flat within noise over the same grid.
constexpr int64_t kKc = 1024;                // k block: fewer C reload passes (q/k/v/gate/up: one)
constexpr int64_t kMc = 192;                 // rows of x per outer block
constexpr int64_t kBlockBytes = 512 * 1024;  // B block (kKc x panels, counted as fp32) kept in L2

// Pack rows [0, rows) x cols [k0, k0 + kc) of x (row stride ldx) into row tiles of kMr:
// dst[(t * kc + kk) * kMr + r] = x[(t * kMr + r) * ldx + k0 + kk]; rows past `rows` are zero.
void pack_a_f32(const float* x, int64_t ldx, int64_t rows, int64_t k0, int64_t kc, float* dst) {
  for (int64_t t0 = 0; t0 < rows; t0 += kMr) {
    const int64_t tr = std::min<int64_t>(kMr, rows - t0);
    float* d = dst + t0 * kc;
    for (int64_t r = 0; r < kMr; ++r) {
      if (r < tr) {
        const float* s = x + (t0 + r) * ldx + k0;
        for (int64_t kk = 0; kk < kc; ++kk) d[kk * kMr + r] = s[kk];
      } else {
        for (int64_t kk = 0; kk < kc; ++kk) d[kk * kMr + r] = 0.0f;
      }
    }
  }
}

#if defined(LR_HAVE_DPBF16)
void micro_bf16_any(int rows, int cols, int64_t kc2, const uint32_t* a, int64_t a_rs, const uint16_t* b, float* c,
                    int64_t ldc, bool load_c) {
  on_c_tile(rows, cols, c, ldc, load_c, [&](float* cc, int64_t lc) {
    // A panel's k pair row is kNr words {W[2kk][j], W[2kk + 1][j]}.
    dispatch_rows(rows, [&](auto R) {
      tile_bf16<R, kNv>(kc2, a, a_rs, reinterpret_cast<const uint32_t*>(b), kNr, cc, lc, load_c);
    });
  });
}

// Outlier input channels for the bf16 product: channels whose max |x| over the call's rows
// exceeds kBf16OutlierRatio x the median channel max (LLM residual streams carry a few channels
// 20-1000x larger than the rest). Rounding x to bf16 costs every element up to 2^-9 of its
// magnitude, so in a dot product those few channels' rounding errors outweigh all the others;
// for them the rounding residual x - bf16(x) is added back in fp32 (y += r_c * W[:, c]), which
// makes their products exact. Measured on the full-size checkpoint with 3 injected 40x channels:
// max |score diff| vs fp32 6.2e-3 without, see docs/perf.md with. At most kMaxBf16Outliers (the
// largest) are compensated: <= 64/k of the work, in fp32.
constexpr float kBf16OutlierRatio = 6.0f;
constexpr int64_t kMaxBf16Outliers = 64;

#endif

template <typename T>
class PanelMatrix final : public PackedMatrix {
 public:
  // pairs: bf16 weights stored as k-pair-interleaved panels for the vdpbf16ps kernel (x rounded to
  // bf16); otherwise plain [k][kNr] panels (bf16 widened to fp32 per block, x exact).
  PanelMatrix(const TensorView& w, PackFormat format, bool pairs)
      : format_(format), pairs_(pairs), n_(w.shape[0]), k_(w.shape[1]), kp_(pairs ? (k_ + 1) / 2 * 2 : k_), panels_((n_ + kNr - 1) / kNr) {
    w_.assign(size_t(panels_ * kp_ * kNr), T{});
    if constexpr (std::is_same_v<T, uint16_t>) {
      if (w.dtype == DType::BF16 && kp_ == k_ && !reference_packing()) {
        pack_bf16_bits(w.as<uint16_t>());
        return;
      }
    }
    pack_rows(w);
  }
  // Over a cached image's single array, read in place (adopt_panels checked format and pairs).
  PanelMatrix(const PackedImage& img, std::shared_ptr<const void> keep, bool pairs)
      : format_(img.format), pairs_(pairs), n_(img.n), k_(img.k), kp_(pairs ? (k_ + 1) / 2 * 2 : k_), panels_((n_ + kNr - 1) / kNr) {
    const size_t count = size_t(panels_ * kp_ * kNr);
    if (img.arrays.size() != 1 || img.arrays[0].bytes != count * sizeof(T))
      fail("packed matrix: ", pack_format_name(format_), " [", n_, ", ", k_, "] needs one array of ", count * sizeof(T),
           " bytes");
    w_.borrow(static_cast<const T*>(img.arrays[0].data), count, std::move(keep));
  }
  int64_t n() const override { return n_; }
  int64_t k() const override { return k_; }
  PackFormat format() const override { return format_; }
  size_t bytes() const override { return w_.owned() ? w_.bytes() : 0; }
  PackedImage image() const override {
    PackedImage img;
    img.format = format_;
    img.n = n_;
    img.k = k_;
    img.element_bytes = int64_t(sizeof(T));
    img.pairs = pairs_;
    img.arrays = {{w_.data(), w_.bytes()}};
    return img;
  }

  void apply(const float* x, int64_t m, float* y, int64_t ldy, ThreadPool& pool, Workspace&) const override {
    LR_CHECK(ldy >= n_, "gemm: ldy ", ldy, " < n ", n_);
    if (m <= 0) return;
    const int64_t block_panels = std::max<int64_t>(1, kBlockBytes / (kKc * kNr * 4));
    // Split panels between threads in multiples of block_panels where possible.
    const int64_t grain = std::min<int64_t>(block_panels, (panels_ + pool.size() - 1) / pool.size());
    const int64_t mc_max = std::min(kMc, (m + kMr - 1) / kMr * kMr);
#if defined(LR_HAVE_DPBF16)
    const std::vector<int64_t> outliers = pairs_ ? select_large_channels(x, m, k_, kBf16OutlierRatio, kMaxBf16Outliers, &pool) : std::vector<int64_t>{};
#endif
    pool.parallel_for(panels_, grain, [&](int64_t pb, int64_t pe, int) {
      if (pairs_) {
#if defined(LR_HAVE_DPBF16)
        if constexpr (!std::is_same_v<T, float>) {
        std::vector<uint32_t> apack(size_t(mc_max * (kKc / 2)));  // [mc][kc2]
        for (int64_t i0 = 0; i0 < m; i0 += kMc) {
          const int64_t mc = std::min(kMc, m - i0);
          for (int64_t k0 = 0; k0 < k_; k0 += kKc) {
            const int64_t kc = std::min(kKc, k_ - k0), kc2 = (kc + 1) / 2;
            pack_a_bf16(x + i0 * k_, k_, mc, k0, kc, apack.data());
            for (int64_t p0 = pb; p0 < pe; p0 += block_panels) {
              const int64_t p1 = std::min(pe, p0 + block_panels);
              for (int64_t i = 0; i < mc; i += kMr) {
                const int rows = int(std::min<int64_t>(kMr, mc - i));
                const uint32_t* at = apack.data() + i * kc2;
                for (int64_t p = p0; p < p1; ++p) {
                  const int cols = int(std::min<int64_t>(kNr, n_ - p * kNr));
                  micro_bf16_any(rows, cols, kc2, at, kc2, w_.data() + (p * kp_ + k0) * kNr, y + (i0 + i) * ldy + p * kNr,
                                 ldy, k0 > 0);
                }
              }
            }
          }
        }
        }
#endif
      } else {
        std::vector<float> apack(size_t(mc_max * kKc));
        std::vector<float> widened;
        if constexpr (!std::is_same_v<T, float>) widened.resize(size_t(kKc * block_panels * kNr));
        for (int64_t i0 = 0; i0 < m; i0 += kMc) {
          const int64_t mc = std::min(kMc, m - i0);
          for (int64_t k0 = 0; k0 < k_; k0 += kKc) {
            const int64_t kc = std::min(kKc, k_ - k0);
            pack_a_f32(x + i0 * k_, k_, mc, k0, kc, apack.data());
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
              for (int64_t i = 0; i < mc; i += kMr) {
                const int rows = int(std::min<int64_t>(kMr, mc - i));
                const float* at = apack.data() + i * kc;
                for (int64_t p = p0; p < p1; ++p) {
                  const int cols = int(std::min<int64_t>(kNr, n_ - p * kNr));
                  micro_f32_any(rows, cols, kc, at, 1, kMr, panel_ptr(p), kNr, y + (i0 + i) * ldy + p * kNr, ldy,
                                k0 > 0);
                }
              }
            }
          }
        }
      }
    });
#if defined(LR_HAVE_DPBF16)
    if (outliers.empty()) return;
    // y[i, :] += (x[i, c] - bf16(x[i, c])) * W[:, c] for each outlier channel c, ascending.
    std::vector<float> wcol(outliers.size() * size_t(n_));
    for (size_t o = 0; o < outliers.size(); ++o)
      for (int64_t j = 0; j < n_; ++j) wcol[o * size_t(n_) + size_t(j)] = weight(j, outliers[o]);
    pool.parallel_for(m, 16, [&](int64_t b, int64_t e, int) {
      for (int64_t i = b; i < e; ++i) {
        float* yi = y + i * ldy;
        for (size_t o = 0; o < outliers.size(); ++o) {
          const float xc = x[i * k_ + outliers[o]];
          const float r = xc - round_to_bf16(xc);
          if (r == 0.0f) continue;
          add_scaled_row(r, wcol.data() + o * size_t(n_), yi, n_);
        }
      }
    });
#endif
  }

  // W[j, c] as stored (bf16 rounding included), widened to fp32.
  float weight(int64_t j, int64_t c) const {
    const T* panel = w_.data() + (j / kNr) * kp_ * kNr;
    const T v = pairs_ ? panel[((c / 2) * kNr + j % kNr) * 2 + c % 2] : panel[c * kNr + j % kNr];
    if constexpr (std::is_same_v<T, float>) return v;
    else return bf16_to_f32(v);
  }

 private:
  // The reference packer: each row widened to fp32, then converted and stored one element at a time.
  void pack_rows(const TensorView& w) {
    std::vector<float> row(static_cast<size_t>(k_));
    for (int64_t j = 0; j < n_; ++j) {
      weight_row(w, j, row.data());
      T* dst = w_.mutable_data() + (j / kNr) * kp_ * kNr;
      const int64_t col = j % kNr;
      for (int64_t c = 0; c < k_; ++c) {
        const size_t at = pairs_ ? size_t(((c / 2) * kNr + col) * 2 + c % 2) : size_t(c * kNr + col);
        dst[at] = convert(row[size_t(c)]);
      }
    }
  }

  // The same bytes as pack_rows for a BF16 checkpoint with even k (pairs) or any k: a blocked
  // transpose of the raw bf16 bits, which pack_rows' round trip bf16 -> fp32 -> bf16 keeps except
  // that it quiets a signalling NaN (f32_to_bf16). Pairs move as one 32-bit word {W[j][2c],
  // W[j][2c+1]}. kCb source columns of the panel's kNr rows go at a time, so the writes stay in L1.
  void pack_bf16_bits(const uint16_t* src) {
    constexpr int64_t kCb = 64;
    const int64_t words = pairs_ ? k_ / 2 : k_;  // per row, in units of U
    auto run = [&](auto unit) {
      using U = decltype(unit);
      for (int64_t p = 0; p < panels_; ++p) {
        const int64_t cols = std::min<int64_t>(kNr, n_ - p * kNr);
        U* dst = reinterpret_cast<U*>(w_.mutable_data() + p * kp_ * kNr);
        // The checkpoint's tensors are only 2-byte aligned: words are read with memcpy.
        const uint8_t* rows = reinterpret_cast<const uint8_t*>(src + p * kNr * k_);
        for (int64_t c0 = 0; c0 < words; c0 += kCb) {
          const int64_t c1 = std::min(words, c0 + kCb);
          for (int64_t col = 0; col < cols; ++col) {
            const uint8_t* r = rows + col * words * int64_t(sizeof(U));
            for (int64_t c = c0; c < c1; ++c) {
              U v;
              std::memcpy(&v, r + c * int64_t(sizeof(U)), sizeof(U));
              dst[c * kNr + col] = quiet_nans(v);
            }
          }
        }
      }
    };
    if (pairs_) run(uint32_t{});
    else run(uint16_t{});
  }
  static uint16_t quiet_nans(uint16_t v) { return (v & 0x7fffu) > 0x7f80u ? uint16_t(v | 0x40u) : v; }
  static uint32_t quiet_nans(uint32_t v) {
    return uint32_t(quiet_nans(uint16_t(v & 0xffffu))) | uint32_t(quiet_nans(uint16_t(v >> 16))) << 16;
  }

  static T convert(float f) {
    if constexpr (std::is_same_v<T, float>) return f;
    else return f32_to_bf16(f);
  }
  PackFormat format_;
  bool pairs_;
  int64_t n_, k_, kp_, panels_;
  PackedStore<T> w_;  // [panels, kp, kNr] (bf16 pairs: [panels, kp/2, kNr, 2])
};

#if defined(LR_HAVE_DPBF16)
constexpr bool kBf16DotRoundsActivations = true;
#else
constexpr bool kBf16DotRoundsActivations = false;
#endif

std::unique_ptr<PackedMatrix> pack_f32(const TensorView& w) {
  return std::make_unique<PanelMatrix<float>>(w, PackFormat::fp32, false);
}
// bf16 panels; f: any format but int8.
std::unique_ptr<PackedMatrix> pack_bf16(const TensorView& w, PackFormat f) {
  return std::make_unique<PanelMatrix<uint16_t>>(w, f, f == PackFormat::bf16_dot && kBf16DotRoundsActivations);
}

// A cached image of pack_f32 / pack_bf16's output in this kernel set.
std::unique_ptr<PackedMatrix> adopt_panels(const PackedImage& img, std::shared_ptr<const void> keep) {
  const bool pairs = img.format == PackFormat::bf16_dot && kBf16DotRoundsActivations;
  if (img.pairs != pairs) fail("packed matrix: pair layout ", img.pairs, " is not this kernel set's (", pairs, ")");
  if (img.format == PackFormat::fp32 && img.element_bytes == 4)
    return std::make_unique<PanelMatrix<float>>(img, std::move(keep), false);
  if (img.format != PackFormat::int8 && img.element_bytes == 2)
    return std::make_unique<PanelMatrix<uint16_t>>(img, std::move(keep), pairs);
  fail("packed matrix: ", pack_format_name(img.format), " panels of ", img.element_bytes, "-byte elements are not packed");
}

}  // namespace

void fill_gemm_f32(KernelTable& t) {
  t.set = LR_TARGET_KERNEL_SET;
  t.pack_f32 = &pack_f32;
  t.pack_bf16 = &pack_bf16;
  t.adopt_panels = &adopt_panels;
  t.bf16_dot_rounds_activations = kBf16DotRoundsActivations;
}

}  // namespace lastrank::cpu::LR_KERNEL_SET
