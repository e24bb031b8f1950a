// The public kernel entry points of gemm.h, attention.h and ops.h: each forwards to the table of
// the kernel set in use (kernel_dispatch.h). pack_matrix (gemm_pack.cpp) picks its packer the same way.
#include "backend/cpu/gemm_internal.h"
#include "backend/cpu/kernel_dispatch.h"

namespace lastrank::cpu {

bool gemm_bf16_dot_rounds_activations() { return active_kernels().bf16_dot_rounds_activations; }

int int8_weight_qmax() { return active_kernels().int8_weight_qmax; }

bool attention_bf16_available() { return active_kernels().attention_bf16; }

void attention(const AttentionShape& s, const float* q, const float* k, const float* v, float* out, ThreadPool& pool) {
  active_kernels().attention(s, q, k, v, out, pool);
}

void embedding_lookup(const TensorView& table, const int32_t* ids, int64_t n, float* out, ThreadPool& pool) {
  active_kernels().embedding_lookup(table, ids, n, out, pool);
}

void rms_norm(const float* x, int64_t rows, int64_t cols, const float* w, float eps, float* out, ThreadPool& pool) {
  active_kernels().rms_norm(x, rows, cols, w, eps, out, pool);
}

std::vector<float> rope_inv_freq(double theta, int64_t head_dim) { return active_kernels().rope_inv_freq(theta, head_dim); }

void rope_tables(const std::vector<float>& inv_freq, int64_t n_pos, float* cos, float* sin) {
  active_kernels().rope_tables(inv_freq, n_pos, cos, sin);
}

void apply_rope(float* x, int64_t rows, int64_t heads, int64_t hd, const float* cos, const float* sin,
                const int64_t* pos, ThreadPool& pool) {
  active_kernels().apply_rope(x, rows, heads, hd, cos, sin, pos, pool);
}

void swiglu(float* g, const float* u, int64_t n, ThreadPool& pool) { active_kernels().swiglu(g, u, n, pool); }

void add_inplace(float* x, const float* y, int64_t n, ThreadPool& pool) { active_kernels().add_inplace(x, y, n, pool); }

float exp_approx(float x) { return active_kernels().exp_approx(x); }

void attention_rows(const AttentionShape& s, const int64_t* rows, int64_t n_rows, const float* q, const float* k,
                    const float* v, float* out, ThreadPool& pool) {
  active_kernels().attention_rows(s, rows, n_rows, q, k, v, out, pool);
}

}  // namespace lastrank::cpu
