// Causal grouped-query attention on CPU, one sequence.
//   q: [L, n_q, d]   k, v: [L, n_kv, d]   out: [L, n_q, d]   (rows contiguous, fp32)
// Query head h uses KV head h / (n_q / n_kv). Scale 1/sqrt(d), softmax in fp32.
// window > 0: sliding-window attention (query i sees keys j with i - window < j <= i), as HF
// transformers' Qwen3 `sliding_attention` layers; window <= 0: full causal.
#pragma once
#include <cstdint>

#include "core/thread_pool.h"

namespace lastrank::cpu {

struct AttentionShape {
  int64_t len = 0;    // L
  int64_t n_q = 0;    // query heads
  int64_t n_kv = 0;   // key/value heads (divides n_q)
  int64_t d = 0;      // head dim
  int64_t window = 0; // 0 = full causal
  // First query position (attention() only): q and out hold rows for positions [q_begin, len)
  // while k and v hold all len positions, so a long sequence can be run in query chunks.
  int64_t q_begin = 0;
  // attention() only: where the CPU has AVX512_BF16 and d is even, Q, K, V and the softmax
  // probabilities P are rounded to bf16 and both products run on vdpbf16ps (exact bf16 products,
  // fp32 sums); the softmax itself stays fp32. Elsewhere (or false) the fp32 path runs.
  bool bf16 = false;
};

// Whether attention() honours AttentionShape::bf16 on this build (AVX512_BF16).
bool attention_bf16_available();

// Scalar reference: materializes one score row at a time, double-free plain fp32 softmax.
void attention_ref(const AttentionShape& s, const float* q, const float* k, const float* v, float* out);

// Fast path: tiled, online softmax, K/V shared across the query heads of a group; never
// materializes L x L scores. Extra memory: 2 L d floats (one kv head's K/V) + O(tile) per thread.
// out[r] for query position q_begin + r depends only on that position's q row and keys/values
// 0..position, bit for bit (any q_begin, any thread count).
void attention(const AttentionShape& s, const float* q, const float* k, const float* v, float* out, ThreadPool& pool);

}  // namespace lastrank::cpu
