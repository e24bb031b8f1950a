// PLACEHOLDER fast path (to be replaced by the packed AVX-512 kernels of issue #4): widens the
// weight to fp32 once and runs a plain row-parallel dot-product loop.
#include <vector>

#include "backend/cpu/attention.h"
#include "backend/cpu/gemm.h"
#include "core/error.h"

namespace lastrank::cpu {
namespace {

class SimpleF32Matrix final : public PackedMatrix {
 public:
  explicit SimpleF32Matrix(const TensorView& w) : n_(w.shape[0]), k_(w.shape[1]), w_(size_t(n_ * k_)) {
    for (int64_t i = 0; i < n_ * k_; ++i) w_[size_t(i)] = w.at(i);
  }
  int64_t n() const override { return n_; }
  int64_t k() const override { return k_; }
  Precision precision() const override { return Precision::fp32; }
  size_t bytes() const override { return w_.size() * 4; }
  void apply(const float* x, int64_t m, float* y, int64_t ldy, ThreadPool& pool) const override {
    pool.parallel_for(n_, 16, [&](int64_t b, int64_t e, int) {
      for (int64_t i = 0; i < m; ++i) {
        const float* xi = x + i * k_;
        for (int64_t j = b; j < e; ++j) {
          const float* wj = w_.data() + j * k_;
          float acc = 0;
          for (int64_t c = 0; c < k_; ++c) acc += xi[c] * wj[c];
          y[i * ldy + j] = acc;
        }
      }
    });
  }

 private:
  int64_t n_, k_;
  std::vector<float> w_;
};

}  // namespace

std::unique_ptr<PackedMatrix> pack_matrix(const TensorView& w, Precision) {
  LR_CHECK(w.rank == 2, "pack_matrix: ", w.name, " has rank ", w.rank);
  return std::make_unique<SimpleF32Matrix>(w);
}

void attention(const AttentionShape& s, const float* q, const float* k, const float* v, float* out, ThreadPool&) {
  attention_ref(s, q, k, v, out);  // placeholder until the tiled kernel lands
}

}  // namespace lastrank::cpu
