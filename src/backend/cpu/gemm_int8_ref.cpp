// The int8 GEMM's scalar reference and its outlier-channel rule (the contract is in
// gemm_internal.h; the kernels are in gemm_int8.cpp).
#include <algorithm>
#include <cmath>
#include <vector>

#include "backend/cpu/gemm_internal.h"

namespace lastrank::cpu {
namespace {

// Outlier input channels: max_i |x[i,c]| > kOutlierRatio x the median channel max (a Gaussian
// channel sits near 1x; LLM activation outliers are 20-1000x). At most kMaxOutlierChannels
// (largest first) go through the fp32 side path, which costs kMax/k of the int8 MACs in fp32.
constexpr float kOutlierRatio = 6.0f;
constexpr int64_t kMaxOutlierChannels = 32;

}  // namespace

// Independent scalar statement of the same quantization (see gemm_internal.h).
QuantizedRows quantize_rows(const float* x, int64_t rows, int64_t cols, int qmax, int64_t group) {
  if (group <= 0) group = cols;
  QuantizedRows q;
  q.rows = rows;
  q.cols = cols;
  q.group = group;
  q.groups = (cols + group - 1) / group;
  q.q.resize(size_t(rows * cols));
  q.scale.resize(size_t(rows * q.groups));
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t g = 0; g < q.groups; ++g) {
      const int64_t c0 = g * group, c1 = std::min(cols, c0 + group);
      float amax = 0;
      for (int64_t c = c0; c < c1; ++c) amax = std::max(amax, std::fabs(x[i * cols + c]));
      const float inv = amax > 0 ? float(qmax) / amax : 0.0f;
      q.scale[size_t(i * q.groups + g)] = amax / float(qmax);
      for (int64_t c = c0; c < c1; ++c) q.q[size_t(i * cols + c)] = int8_t(std::nearbyint(x[i * cols + c] * inv));
    }
  return q;
}

std::vector<int64_t> select_outlier_channels(const float* x, int64_t m, int64_t k, ThreadPool* pool) {
  return select_large_channels(x, m, k, kOutlierRatio, kMaxOutlierChannels, pool);
}

void gemm_int8_ref(const float* x, int64_t m, int64_t k, const TensorView& w, float* y) {
  const int64_t n = w.shape[0];
  std::vector<float> wf(size_t(n * k));
  for (int64_t j = 0; j < n; ++j) weight_row(w, j, wf.data() + j * k);
  const std::vector<int64_t> outliers = select_outlier_channels(x, m, k);
  std::vector<float> xz(x, x + m * k);
  for (int64_t i = 0; i < m; ++i)
    for (int64_t c : outliers) xz[size_t(i * k + c)] = 0.0f;
  const QuantizedRows qx = quantize_rows(xz.data(), m, k, 127, kInt8Group);
  const QuantizedRows qw = quantize_rows(wf.data(), n, k, int8_weight_qmax(), kInt8Group);
  const int64_t ng = qx.groups;
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      float acc = 0.0f;
      for (int64_t g = 0; g < ng; ++g) {
        int64_t dot = 0;
        for (int64_t c = g * kInt8Group; c < std::min(k, (g + 1) * kInt8Group); ++c)
          dot += int64_t(qx.q[size_t(i * k + c)]) * qw.q[size_t(j * k + c)];
        acc = std::fma(float(dot), qx.scale[size_t(i * ng + g)] * qw.scale[size_t(j * ng + g)], acc);
      }
      for (int64_t c : outliers)
        acc = std::fma(x[i * k + c], float(qw.q[size_t(j * k + c)]) * qw.scale[size_t(j * ng + c / kInt8Group)], acc);
      y[i * n + j] = acc;
    }
}

}  // namespace lastrank::cpu
