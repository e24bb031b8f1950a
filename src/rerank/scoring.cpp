#include "rerank/scoring.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"

namespace lastrank {

float cosine_torch(const float* a, const float* b, size_t n) {
  // ATen: w12 / sqrt(clamp_min(w1 * w2, eps^2)) with w1 = Σa², w2 = Σb², w12 = Σab.
  float w12 = 0, w1 = 0, w2 = 0;
  for (size_t i = 0; i < n; ++i) {
    w12 += a[i] * b[i];
    w1 += a[i] * a[i];
    w2 += b[i] * b[i];
  }
  constexpr float kEps = 1e-8f;
  return w12 / std::sqrt(std::max(w1 * w2, kEps * kEps));
}

float cosine_plain(const float* a, const float* b, size_t n) {
  float dot = 0, na = 0, nb = 0;
  for (size_t i = 0; i < n; ++i) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  const float denom = std::sqrt(na) * std::sqrt(nb);
  return denom > 0 ? dot / denom : 0.f;
}

std::vector<float> merge_block_queries(const std::vector<BlockQuery>& blocks) {
  LR_CHECK(!blocks.empty(), "merge of zero blocks");
  const size_t dim = blocks[0].query.size();
  std::vector<float> sum(dim, 0.f);
  float wsum = 0;
  for (const auto& b : blocks) {
    for (size_t c = 0; c < dim; ++c) sum[c] += b.query[c] * b.weight;
    wsum += b.weight;
  }
  for (auto& v : sum) v /= wsum;
  return sum;
}

}  // namespace lastrank
