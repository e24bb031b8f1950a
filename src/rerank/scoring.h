// Scoring math of the reference: block cosine (torch.cosine_similarity, eps 1e-8), block
// weights, weighted mean of block query vectors (numpy average, float32) and the final float32
// cosine (no epsilon).
#pragma once
#include <cstddef>
#include <vector>

namespace lastrank {

// torch.nn.functional.cosine_similarity(a, b, dim=-1, eps=1e-8) in fp32.
float cosine_torch(const float* a, const float* b, size_t n);

// (a·b) / (‖a‖·‖b‖) in fp32 (numpy), 0 when a norm is 0 (the reference would give NaN).
float cosine_plain(const float* a, const float* b, size_t n);

// One block's result: its projected query vector and the max over its docs of (1 + s_i) / 2.
struct BlockQuery {
  std::vector<float> query;  // [dim]
  float weight = 0.f;
};

// Σ_b w_b q_b / Σ_b w_b, accumulated in float32 in block order (numpy.average).
std::vector<float> merge_block_queries(const std::vector<BlockQuery>& blocks);

}  // namespace lastrank
