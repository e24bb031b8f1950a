// The Qwen3 backbone + jina projector: straight-line forward code over activation buffers that a
// compute backend (backend/backend.h) allocates and runs ops on (see qwen3.cpp). Precision and
// backend are chosen once, at construction.
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "backend/backend.h"
#include "core/cancel.h"
#include "core/trace.h"
#include "io/weight_cache_dir.h"
#include "model/config.h"
#include "model/weights.h"

namespace lastrank {

// int8 mode is mixed precision. Quantization error that enters the residual stream in the first
// layers is carried, and amplified, through every later layer; error entering late is not.
// Measured on the full-size checkpoint with x40 outlier norm channels (bench_fidelity, 10 lists;
// docs/perf.md "int8 GEMM"): all-int8 fails the fidelity bounds there (min Spearman 0.968, max
// |diff| 2.4e-2; bounds 0.99 / 0.02), and keeping one projection kind (q+k, v+o, gate+up or down)
// or the last two layers out of int8 in every layer does not fix it (4 lists: Spearman
// 0.979-0.990, max |diff| 1.3-1.5e-2). The first layers do: leading 4 layers in bf16: 0.988 /
// 9.5e-3 (fails), 6: 0.993 / 7.4e-3, 8: 0.993 / 6.6e-3, 12: 0.995 / 8.4e-3 (8 keeps a little more
// max |diff| margin for ~2 % end to end over 6). The leading layers use the bf16 precision
// (activations rounded to bf16, outlier channels exact, ~2/3 of int8's kernel rate); exact fp32
// activations there (bf16 weights, ~1/3 of int8's rate) lowered max |diff| but not the Spearman
// (4 lists, 8 layers: 0.993 / 3.8e-3 vs 0.993 / 4.5e-3). 8 of Qwen3-0.6B's 28 layers in bf16 cost
// ~15 % more GEMM time than all-int8.
constexpr int kInt8LeadingLayers = 8;
constexpr Precision kInt8LeadingPrecision = Precision::bf16;

struct EngineOptions {
  std::string backend = "cpu";            // make_backend's name (backend_names())
  Precision precision = Precision::bf16;  // the default mode
  int threads = 0;                        // 0 = all cores
  bool reference_kernels = false;         // the backend's scalar oracle kernels everywhere (slow)
  // Query rows per q_proj / attention / o_proj pass: bounds the q and att activations (16 KB per
  // row at Qwen3-0.6B: 32 MB per chunk instead of 128 MB at 8K, 2 GB at 128K). Each chunk gathers
  // the K/V rows it sees once more (~1 % of the attention time at 8K).
  int64_t attn_row_chunk = 2048;
  // int8 mode only: layers [0, int8_leading_layers) are prepared as kInt8LeadingPrecision, the rest
  // as int8. 0 = every layer int8 (the golden tests use it to cover the int8 kernel on their 2-3
  // layer fixtures).
  int int8_leading_layers = kInt8LeadingLayers;
  // Directory of the packed-weight cache ("" = none: weights are packed at every load). The
  // library default is none; the CLI and server default to io/weight_cache_dir.h's
  // default_weight_cache_dir() (docs/model-files.md, "Start-up: the packed-weight cache").
  std::string weight_cache_dir;
  // The same directory keeps the shared prompt prefix's K/V (model/prefix_cache.h), computed at
  // set_shared_prefix when no valid file holds them.
  // What the cache did, per file kind (io/cache_through.h: hit, written, ignored, disabled); may
  // be empty.
  std::function<void(CacheFileKind kind, const std::string& status, const std::string& detail)> weight_cache_log;
};

class Qwen3Model {
 public:
  // On make_backend(opt.backend, {opt.threads, opt.reference_kernels}).
  Qwen3Model(ModelConfig cfg, ModelWeights weights, const EngineOptions& opt);
  // On the given backend (opt.backend, threads and reference_kernels are not used).
  Qwen3Model(ModelConfig cfg, ModelWeights weights, const EngineOptions& opt, std::unique_ptr<Backend> backend);
  ~Qwen3Model();

  const ModelConfig& config() const { return cfg_; }
  const ModelWeights& weights() const { return weights_; }
  int64_t projector_dim() const { return weights_.projector_out(); }
  int threads() const { return backend_->threads(); }
  std::string kernel_set() const { return backend_->kernel_set(); }
  // The precision layer `layer`'s q, k, v, o, gate, up, down projections were prepared for (in
  // that order).
  std::vector<Precision> layer_precisions(int64_t layer) const;

  // Runs the backbone over ids[0..L) at positions 0..L-1 and writes the final-norm hidden state
  // of each position in `readout` (ascending, < L) into out [readout.size(), hidden] (host).
  // Tokens after the last readout position are never computed (causality); the last layer's MLP
  // and the final norm run only at readout rows. trace (optional) sees named intermediates of
  // ALL computed rows except where noted.
  // cancel (optional): checked at every layer boundary and inside a layer between K/V, each
  // attention row chunk and each MLP row chunk; throws Cancelled there once it is cancelled. out
  // is then unspecified; the model stays usable (the next forward is unaffected).
  void forward(const std::vector<int32_t>& ids, const std::vector<int64_t>& readout, float* out,
               const TraceFn* trace = nullptr, const CancelToken* cancel = nullptr);

  // Forwards whose ids start with `ids` (every readout past them) compute those rows once, as a
  // pass of their own, and reuse their K/V from then on (model/shared_prefix.h). Results depend on
  // the prefix set (a bf16 or int8 forward's per-call outlier channels are chosen per pass), never
  // on whether its K/V were already kept. A traced forward computes every row. Empty: none.
  // With a weight cache directory the K/V are read from there or computed now and written there
  // (model/prefix_cache.h); without one they are computed by the first forward that uses them.
  void set_shared_prefix(std::vector<int32_t> ids);

  // e[r, proj_out] = W2 · relu(W1 · h[r, hidden]) (host arrays), fp32 math (the HF fp32 reference).
  void project(const float* h, int64_t rows, float* e);

 private:
  struct Impl;
  ModelConfig cfg_;
  ModelWeights weights_;
  EngineOptions opt_;
  std::unique_ptr<Backend> backend_;
  std::unique_ptr<Impl> impl_;  // prepared weights and buffers: destroyed before backend_
};

}  // namespace lastrank
