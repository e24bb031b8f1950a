// Scalar reference GEMM: the oracle every fast kernel is tested against.
#include "backend/cpu/gemm.h"

#include <vector>

#include "core/error.h"

namespace lastrank::cpu {

void gemm_ref(const float* x, int64_t m, int64_t k, const TensorView& w, float* y) {
  LR_CHECK(w.rank == 2 && w.shape[1] == k, "gemm_ref: weight ", w.name, " ", w.shape_str(), " vs k=", k);
  const int64_t n = w.shape[0];
  std::vector<float> row(static_cast<size_t>(k));
  for (int64_t j = 0; j < n; ++j) {
    for (int64_t c = 0; c < k; ++c) row[size_t(c)] = w.at(j * k + c);
    for (int64_t i = 0; i < m; ++i) {
      double acc = 0;
      const float* xi = x + i * k;
      for (int64_t c = 0; c < k; ++c) acc += double(xi[c]) * double(row[size_t(c)]);
      y[i * n + j] = float(acc);
    }
  }
}

}  // namespace lastrank::cpu
