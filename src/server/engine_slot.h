// The server's engine while `serve` starts (docs/server.md "Health"): the server binds and
// answers /live at once while the model loads in the background; EngineSlot stands in for the
// engine until set() hands it the loaded, warmed-up one. Before that ready() is false (/health
// and /ready answer 503) and every engine call throws ApiError(unavailable, "model is loading"),
// so a rerank that arrives early gets 503 + Retry-After like any other unavailable answer.
#pragma once
#include <atomic>
#include <memory>

#include "server/engine.h"

namespace lastrank::server {

class EngineSlot final : public RerankEngine {
 public:
  // Publishes the engine (once; thread-safe against concurrent callers of the other methods).
  void set(std::unique_ptr<RerankEngine> engine);

  bool ready() const override { return current_.load(std::memory_order_acquire) != nullptr; }
  const EngineInfo& info() const override { return get().info(); }
  const Tokenizer& tokenizer() const override { return get().tokenizer(); }
  size_t count_tokens(std::string_view text, size_t limit) const override { return get().count_tokens(text, limit); }
  std::string truncate(std::string_view text, size_t max_tokens, TruncationSide side) const override {
    return get().truncate(text, max_tokens, side);
  }
  std::vector<TokenEnd> token_ends(std::string_view text, size_t max_tokens) const override {
    return get().token_ends(text, max_tokens);
  }
  RerankResponse rerank(const RerankRequest& req, const CancelToken& cancel) override {
    return get().rerank(req, cancel);
  }

 private:
  RerankEngine& get() const;

  std::unique_ptr<RerankEngine> owned_;
  std::atomic<RerankEngine*> current_{nullptr};
};

// One small forward pass (a one-document request) so that the first client request does not pay
// for first-touch page faults and lazy initialisation; serve runs it before EngineSlot::set.
void warm_up(RerankEngine& engine);

}  // namespace lastrank::server
