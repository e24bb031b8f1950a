// RerankEngine over lastrank::Reranker: tokenizer work (counting, truncation) runs on the
// caller's thread through the thread-safe Tokenizer (api::TokenizerTextTokens); rerank()
// forwards to the pipeline.
#include "server/engine.h"

namespace lastrank::server {
namespace {

class RerankerEngine final : public RerankEngine {
 public:
  RerankerEngine(std::unique_ptr<Reranker> r, EngineInfo info)
      : reranker_(std::move(r)), tokens_(reranker_->tokenizer()), info_(std::move(info)) {
    const auto& cfg = reranker_->model().config();
    info_.hidden_size = cfg.hidden_size;
    info_.num_layers = cfg.num_hidden_layers;
    info_.vocab_size = cfg.vocab_size;
    info_.projector_dim = reranker_->model().projector_dim();
    info_.kernel_set = reranker_->model().kernel_set();
    info_.max_query_tokens = reranker_->options().max_query_tokens;
    info_.max_doc_tokens = reranker_->options().max_doc_tokens;
    info_.block_size = reranker_->options().block_size;
  }

  const EngineInfo& info() const override { return info_; }
  const Tokenizer& tokenizer() const override { return reranker_->tokenizer(); }

  size_t count_tokens(std::string_view text, size_t limit) const override { return tokens_.count_tokens(text, limit); }
  std::string truncate(std::string_view text, size_t max_tokens, TruncationSide side) const override {
    return tokens_.truncate(text, max_tokens, side);
  }
  std::vector<TokenEnd> token_ends(std::string_view text, size_t max_tokens) const override {
    return tokens_.token_ends(text, max_tokens);
  }

  RerankResponse rerank(const RerankRequest& req, const CancelToken& cancel) override {
    return reranker_->rerank(req, &cancel);
  }

 private:
  std::unique_ptr<Reranker> reranker_;
  api::TokenizerTextTokens tokens_;
  EngineInfo info_;
};

}  // namespace

std::unique_ptr<RerankEngine> make_reranker_engine(std::unique_ptr<Reranker> reranker, EngineInfo info) {
  return std::make_unique<RerankerEngine>(std::move(reranker), std::move(info));
}

}  // namespace lastrank::server
