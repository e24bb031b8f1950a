// The truncation policy of a validated request (docs/server.md "Truncation"): the engine's own
// limits are applied by the engine with the reference's rule (src/rerank/truncation.h); this
// adds a request's lower limits (max_tokens_per_query/doc), TEI left truncation, and the reject
// mode (RequestLimits::auto_truncate false, or TEI truncate: false) that turns over-long inputs
// into input_too_long, and chunking (api/chunking.h: max_chunks_per_doc > 1 splits documents over
// the limit instead of cutting them). Tokenizes on the calling thread through TextTokens.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "api/request.h"
#include "tokenizer/tokenizer.h"

namespace lastrank::api {

// The tokenizer operations the policy needs (the server's RerankEngine is one; tests fake it).
class TextTokens {
 public:
  virtual ~TextTokens() = default;
  // Thread-safe. Number of tokens of `text`, counting at most limit + 1 (so a caller can test
  // "more than limit" without tokenizing a huge text fully).
  virtual size_t count_tokens(std::string_view text, size_t limit) const = 0;
  // Thread-safe. truncate_text(text, max_tokens, side).text (src/rerank/truncation.h).
  virtual std::string truncate(std::string_view text, size_t max_tokens, TruncationSide side) const = 0;
  // Thread-safe. Tokenizer::token_ends(text, max_tokens): where each token ends (chunking).
  virtual std::vector<TokenEnd> token_ends(std::string_view text, size_t max_tokens) const = 0;
};

// TextTokens over a real tokenizer (the CLI, the bindings, the server's engine).
class TokenizerTextTokens final : public TextTokens {
 public:
  explicit TokenizerTextTokens(const Tokenizer& tok) : tok_(tok) {}
  size_t count_tokens(std::string_view text, size_t limit) const override;
  std::string truncate(std::string_view text, size_t max_tokens, TruncationSide side) const override;
  std::vector<TokenEnd> token_ends(std::string_view text, size_t max_tokens) const override;

 private:
  const Tokenizer& tok_;
};

// The engine's truncation limits (RerankOptions max_query_tokens / max_doc_tokens).
struct EngineTokenLimits {
  size_t max_query_tokens = 0;
  size_t max_doc_tokens = 0;
};

void apply_truncation(ApiRequest& req, const TextTokens& tokens, const EngineTokenLimits& engine,
                      const RequestLimits& limits);

}  // namespace lastrank::api
