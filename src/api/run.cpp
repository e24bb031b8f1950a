#include "api/run.h"

#include "api/truncation.h"

namespace lastrank::api {

RerankResponse run_request(Reranker& reranker, ApiRequest& req, const RequestLimits& limits) {
  const EngineTokenLimits engine{reranker.options().max_query_tokens, reranker.options().max_doc_tokens};
  apply_truncation(req, TokenizerTextTokens(reranker.tokenizer()), engine, limits);
  return reranker.rerank(req.request);
}

}  // namespace lastrank::api
