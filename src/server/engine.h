// The compute side of the server as an interface: the scheduler and the HTTP layer only see
// RerankEngine, so tests can drive them with a fake (slow, gated) engine and no model.
// make_reranker_engine adapts lastrank::Reranker (src/rerank/reranker.h).
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "api/error.h"
#include "api/request.h"
#include "api/truncation.h"
#include "rerank/reranker.h"

namespace lastrank::server {

// The request module's vocabulary (src/api), used throughout the server.
using api::ApiError;
using api::ApiRequest;
using api::Dialect;
using api::ErrorKind;
using api::RequestLimits;
using api::cancelled_kind;
using api::error_body;
using api::http_status;

// What /info reports about the model and the engine's own truncation limits.
struct EngineInfo {
  std::string model_name;       // echoed as "model" in responses
  std::string precision;        // fp32 | bf16 | int8 | fake
  std::string kernel_set;       // the kernels the model runs (Backend::kernel_set, docs/dispatch.md)
  int threads = 0;              // compute threads
  int64_t hidden_size = 0;      // backbone width (1024)
  int64_t num_layers = 0;       // 28
  int64_t projector_dim = 0;    // 512
  int64_t vocab_size = 0;
  size_t max_query_tokens = 0;  // the engine truncates the query to this many tokens
  size_t max_doc_tokens = 0;    // ... and each document (reference §3.2)
  size_t block_size = 0;        // max documents per forward pass
};

// count_tokens/truncate (api::TextTokens) run on HTTP I/O threads and must be thread-safe.
class RerankEngine : public api::TextTokens {
 public:
  // false while the model is still loading (EngineSlot): /health and /ready answer 503, and every
  // other call throws ApiError(unavailable).
  virtual bool ready() const { return true; }
  virtual const EngineInfo& info() const = 0;
  // The model's tokenizer (thread-safe): /tokenize and /detokenize.
  virtual const Tokenizer& tokenizer() const = 0;

  // Compute thread only (not re-entrant). Throws lastrank::Error for requests it rejects, and
  // Cancelled (core/cancel.h) soon after `cancel` is cancelled (at the next layer or block
  // boundary of the real engine).
  virtual RerankResponse rerank(const RerankRequest& req, const CancelToken& cancel) = 0;
};

// Owns the reranker; info.model_name/precision/threads come from the caller (serve flags).
std::unique_ptr<RerankEngine> make_reranker_engine(std::unique_ptr<Reranker> reranker, EngineInfo info);

}  // namespace lastrank::server
