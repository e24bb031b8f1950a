#include "api/truncation.h"

#include <algorithm>

namespace lastrank::api {
namespace {

// Reject mode: a text over the engine's limit is an error instead of being cut.
void reject_long_query(const RerankRequest& rr, const TextTokens& tokens, const EngineTokenLimits& engine) {
  if (tokens.count_tokens(rr.query, engine.max_query_tokens) > engine.max_query_tokens)
    throw ApiError(ErrorKind::input_too_long,
                   cat("query must have at most ", engine.max_query_tokens, " tokens (truncation is off)"));
}

// Chunked documents are checked by split_documents instead.
void reject_long_documents(const RerankRequest& rr, const TextTokens& tokens, const EngineTokenLimits& engine) {
  for (size_t i = 0; i < rr.documents.size(); ++i)
    if (tokens.count_tokens(rr.documents[i], engine.max_doc_tokens) > engine.max_doc_tokens)
      throw ApiError(ErrorKind::input_too_long,
                     cat("documents[", i, "] must have at most ", engine.max_doc_tokens, " tokens (truncation is off)"));
}

// Chunking (api/chunking.h) with the request's per-document limit; 1 chunk = truncation. Left
// truncation (TEI truncation_direction) keeps the end of a document: never chunked.
void chunk_documents(ApiRequest& req, const TextTokens& tokens, size_t doc_limit, const EngineTokenLimits& engine,
                     const RequestLimits& limits, bool reject) {
  const size_t max_chunks = req.max_chunks_per_doc.value_or(limits.max_chunks_per_doc);
  if (max_chunks <= 1 || req.truncation_side == TruncationSide::left) return;
  req.chunks = split_documents(req.request, tokens,
                               {doc_limit, max_chunks, limits.max_documents, reject ? engine.max_doc_tokens : 0});
}

}  // namespace

std::vector<TokenEnd> TokenizerTextTokens::token_ends(std::string_view text, size_t max_tokens) const {
  return tok_.token_ends(text, max_tokens);
}

size_t TokenizerTextTokens::count_tokens(std::string_view text, size_t limit) const {
  return tok_.encode_truncated(text, limit + 1).size();
}

std::string TokenizerTextTokens::truncate(std::string_view text, size_t max_tokens, TruncationSide side) const {
  return truncate_text(tok_, text, max_tokens, side).text;
}

void apply_truncation(ApiRequest& req, const TextTokens& tokens, const EngineTokenLimits& engine,
                      const RequestLimits& limits) {
  RerankRequest& rr = req.request;
  const bool reject = !req.truncate.value_or(limits.auto_truncate);
  const size_t query_limit = std::min(engine.max_query_tokens, req.max_tokens_per_query.value_or(SIZE_MAX));
  const size_t doc_limit = std::min(engine.max_doc_tokens, req.max_tokens_per_doc.value_or(SIZE_MAX));
  if (reject) reject_long_query(rr, tokens, engine);
  chunk_documents(req, tokens, doc_limit, engine, limits, reject);
  if (reject && !req.chunks.active()) reject_long_documents(rr, tokens, engine);
  // Right truncation to the engine's own limits is the engine's (the same rule); only lower
  // limits and left truncation are applied here.
  const bool left = req.truncation_side == TruncationSide::left;
  if (left || query_limit < engine.max_query_tokens) rr.query = tokens.truncate(rr.query, query_limit, req.truncation_side);
  if (left || doc_limit < engine.max_doc_tokens)
    for (auto& d : rr.documents) d = tokens.truncate(d, doc_limit, req.truncation_side);
}

}  // namespace lastrank::api
