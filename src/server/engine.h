// The compute side of the server as an interface: the scheduler and the HTTP layer only see
// RerankEngine, so tests can drive them with a fake (slow, gated) engine and no model.
// make_reranker_engine adapts lastrank::Reranker (src/rerank/reranker.h).
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "rerank/reranker.h"

namespace lastrank::server {

enum class TruncationSide { right, left };

// What /info reports about the model and the engine's own truncation limits.
struct EngineInfo {
  std::string model_name;       // echoed as "model" in responses
  std::string precision;        // fp32 | bf16 | int8 | fake
  int threads = 0;              // compute threads
  int64_t hidden_size = 0;      // backbone width (1024)
  int64_t num_layers = 0;       // 28
  int64_t projector_dim = 0;    // 512
  int64_t vocab_size = 0;
  size_t max_query_tokens = 0;  // the engine truncates the query to this many tokens
  size_t max_doc_tokens = 0;    // ... and each document (reference §3.2)
  size_t block_size = 0;        // max documents per forward pass
};

class RerankEngine {
 public:
  virtual ~RerankEngine() = default;
  virtual const EngineInfo& info() const = 0;

  // Thread-safe (called on HTTP I/O threads). Number of tokens of `text`, counting at most
  // limit + 1 (so a caller can test "more than limit" without tokenizing a huge text fully).
  virtual size_t count_tokens(std::string_view text, size_t limit) const = 0;

  // Thread-safe. Keeps the first (right truncation) or last (left) max_tokens tokens of text and
  // decodes them back to text; text is returned unchanged when it has fewer tokens (the
  // reference's rule: re-decode only when the truncated length reached the limit).
  virtual std::string truncate(std::string_view text, size_t max_tokens, TruncationSide side) const = 0;

  // Compute thread only (not re-entrant). Throws lastrank::Error for requests it rejects.
  virtual RerankResponse rerank(const RerankRequest& req) = 0;
};

// Owns the reranker; info.model_name/precision/threads come from the caller (serve flags).
std::unique_ptr<RerankEngine> make_reranker_engine(std::unique_ptr<Reranker> reranker, EngineInfo info);

}  // namespace lastrank::server
