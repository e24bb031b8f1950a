// The Qwen3 backbone + jina projector on CPU: straight-line forward code over preallocated
// activation buffers (see qwen3.cpp). Precision and kernels are chosen once, at construction.
#pragma once
#include <memory>
#include <vector>

#include "backend/cpu/gemm.h"
#include "core/thread_pool.h"
#include "core/trace.h"
#include "model/config.h"
#include "model/weights.h"

namespace lastrank {

struct EngineOptions {
  cpu::Precision precision = cpu::Precision::bf16_dot;  // "bf16", the default mode
  int threads = 0;               // 0 = all cores
  bool reference_kernels = false;  // scalar gemm_ref / attention_ref everywhere (slow oracle)
  // Query rows per q_proj / attention / o_proj pass: bounds the q and att activations (16 KB per
  // row at Qwen3-0.6B: 32 MB per chunk instead of 128 MB at 8K, 2 GB at 128K). Each chunk gathers
  // the K/V rows it sees once more (~1 % of the attention time at 8K).
  int64_t attn_row_chunk = 2048;
};

class Qwen3Model {
 public:
  Qwen3Model(ModelConfig cfg, ModelWeights weights, const EngineOptions& opt);
  ~Qwen3Model();

  const ModelConfig& config() const { return cfg_; }
  const ModelWeights& weights() const { return weights_; }
  int64_t projector_dim() const { return weights_.projector_out(); }
  ThreadPool& pool() { return *pool_; }

  // Runs the backbone over ids[0..L) at positions 0..L-1 and writes the final-norm hidden state
  // of each position in `readout` (ascending, < L) into out [readout.size(), hidden].
  // Tokens after the last readout position are never computed (causality); the last layer's MLP
  // and the final norm run only at readout rows. trace (optional) sees named intermediates of
  // ALL computed rows except where noted.
  void forward(const std::vector<int32_t>& ids, const std::vector<int64_t>& readout, float* out,
               const TraceFn* trace = nullptr);

  // e[r, proj_out] = W2 · relu(W1 · h[r, hidden]), fp32 math (the HF fp32 reference).
  void project(const float* h, int64_t rows, float* e);

 private:
  struct Impl;
  ModelConfig cfg_;
  ModelWeights weights_;
  EngineOptions opt_;
  std::unique_ptr<ThreadPool> pool_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace lastrank
