// Element-wise and row-wise ops of the Qwen3 forward on CPU, with Hugging Face numerics:
// embedding lookup, RMSNorm (also per head for q/k), rotate-half RoPE, SwiGLU, residual add,
// and causal GQA attention evaluated at a few selected query rows (the last layer's readout).
// All activations are fp32, rows contiguous. Plain loops the compiler vectorizes; the pool
// splits rows. Each op has a naive scalar twin in tests/unit/ops_test.cpp.
#pragma once
#include <cstdint>
#include <vector>

#include "backend/cpu/attention.h"
#include "core/tensor.h"
#include "core/thread_pool.h"

namespace lastrank::cpu {

// out[i, :] = table[ids[i], :] widened to fp32. table: [vocab, hidden] F32/BF16/F16.
// Throws lastrank::Error if an id is outside [0, vocab).
void embedding_lookup(const TensorView& table, const int32_t* ids, int64_t n, float* out, ThreadPool& pool);

// Qwen3RMSNorm per row of x [rows, cols]: out = w * (x * rsqrt(mean(x²) + eps)), the mean
// accumulated in double (torch reduces fp32 with cascaded sums; both are ~exact), the rest fp32.
// out may alias x. w: [cols] fp32.
void rms_norm(const float* x, int64_t rows, int64_t cols, const float* w, float eps, float* out, ThreadPool& pool);

// RoPE inverse frequencies [hd/2] exactly as transformers computes them in fp32:
// inv_freq[i] = 1 / (theta ** (float(2i) / hd)).
std::vector<float> rope_inv_freq(double theta, int64_t head_dim);

// cos/sin tables [n_pos, hd/2] for positions 0..n_pos-1: angle = float(pos) * inv_freq (fp32),
// then cos/sin rounded to fp32 (HF: emb.cos() on the fp32 angles).
void rope_tables(const std::vector<float>& inv_freq, int64_t n_pos, float* cos, float* sin);

// Rotate-half RoPE in place on x [rows, heads, hd]: for i < hd/2, with a = x[i], b = x[i + hd/2]:
// x[i] = a·cos - b·sin, x[i + hd/2] = b·cos + a·sin. Row r uses position pos[r], or r when pos
// is null. cos/sin: tables from rope_tables covering every position used.
void apply_rope(float* x, int64_t rows, int64_t heads, int64_t hd, const float* cos, const float* sin,
                const int64_t* pos, ThreadPool& pool);

// g[i] = silu(g[i]) * u[i] with silu(z) = z / (1 + exp(-z)) (fp32, exp within 2 ulp).
void swiglu(float* g, const float* u, int64_t n, ThreadPool& pool);

// x[i] += y[i].
void add_inplace(float* x, const float* y, int64_t n, ThreadPool& pool);

// exp(x) in fp32 for vectorized loops (Cephes-style range reduction + degree-6 polynomial);
// max relative error ~2 ulp on [-87, 88], saturates outside.
float exp_approx(float x);

// Causal (optionally sliding-window) GQA attention for n_rows query rows only: query row r sits
// at position rows[r] (< s.len) and attends to keys j <= rows[r] (j > rows[r] - window if
// s.window > 0). q, out: [n_rows, n_q, d]; k, v: [s.len, n_kv, d]. Same math as attention_ref,
// fp32 with max-subtracted softmax; for the last layer, where only readout rows are needed.
void attention_rows(const AttentionShape& s, const int64_t* rows, int64_t n_rows, const float* q, const float* k,
                    const float* v, float* out, ThreadPool& pool);

}  // namespace lastrank::cpu
