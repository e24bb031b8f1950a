// The jina-reranker-v3 listwise pipeline (docs/model.md §3): truncation, block
// splitting, prompt template, readout, projector, block-weighted merge, final cosine, sort.
// One Reranker is shared by all callers; rerank() is not re-entrant (the server serializes
// calls on its compute thread); tokenizer() is thread-safe.
#pragma once
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/cancel.h"
#include "core/phase_clock.h"
#include "model/qwen3.h"
#include "tokenizer/tokenizer.h"

namespace lastrank {

struct RerankOptions {
  size_t max_query_tokens = 512;   // reference max_query_length
  size_t max_doc_tokens = 2048;    // reference max_doc_length
  size_t block_size = 125;         // max documents per forward pass
  size_t max_length = 0;           // capacity rule; 0 = tokenizer_config model_max_length (131072)
};

struct RerankRequest {
  std::string query;
  std::vector<std::string> documents;
  std::optional<size_t> top_n;             // nullopt = all
  std::optional<std::string> instruction;  // optional <instruct> block (not sanitized)
  bool return_embeddings = false;
};

struct RerankItem {
  size_t index = 0;              // position in the request's documents
  float relevance_score = 0.f;   // fp32 cosine, as the reference's numpy float32
  std::vector<float> embedding;  // projected doc vector if return_embeddings
};

struct RerankResponse {
  std::vector<RerankItem> results;  // sorted by score, descending; top_n applied
  int64_t total_tokens = 0;         // full prompt tokens (prefix..suffix) summed over blocks
  size_t blocks = 0;                // forward passes run
};

class Reranker {
 public:
  // Loads config.json, model.safetensors (or shards), tokenizer.json and tokenizer_config.json
  // from a Hugging Face model directory, or from a repo id's snapshot at revision main in the local
  // Hugging Face cache (io/hf_cache.h; another revision: load(locate_model(id, rev).dir)).
  // Throws lastrank::Error on bad files or a model that is not there.
  static std::unique_ptr<Reranker> load(const std::string& dir_or_id, const EngineOptions& engine = {},
                                        const RerankOptions& opts = {});

  Reranker(std::unique_ptr<Tokenizer> tok, std::unique_ptr<Qwen3Model> model, const RerankOptions& opts);
  ~Reranker();

  // Throws lastrank::Error on invalid requests (empty document list). With a token, throws
  // Cancelled at the next block or layer boundary after it is cancelled (nullptr = never); the
  // Reranker stays usable and later calls give the same results as if nothing had been cancelled.
  RerankResponse rerank(const RerankRequest& req, const CancelToken* cancel = nullptr);

  const Tokenizer& tokenizer() const { return *tok_; }
  Qwen3Model& model() { return *model_; }
  const RerankOptions& options() const { return opts_; }
  // Replaces the options (not re-entrant, like rerank()); max_length 0 = keep the current one.
  // Throws lastrank::Error for a zero limit.
  void set_options(const RerankOptions& opts);
  // What load() spent, phase by phase (empty for a Reranker built by the constructor).
  const std::vector<PhaseTime>& load_phases() const { return load_phases_; }
  // Named intermediates of every forward pass go to *trace (nullptr = off). Debugging only.
  void set_trace(const TraceFn* trace) { trace_ = trace; }

 private:
  std::unique_ptr<Tokenizer> tok_;
  std::unique_ptr<Qwen3Model> model_;
  RerankOptions opts_;
  int32_t embed_token_id_ = -1, rerank_token_id_ = -1;
  const TraceFn* trace_ = nullptr;
  std::vector<PhaseTime> load_phases_;
};

}  // namespace lastrank
