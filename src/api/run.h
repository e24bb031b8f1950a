// A validated request run on a loaded Reranker in-process (the CLI and the bindings; the server
// goes through its scheduler instead): the truncation policy with the reranker's tokenizer and
// limits, then the pipeline. Throws ApiError (input_too_long in reject mode) or lastrank::Error.
#pragma once
#include "api/request.h"
#include "rerank/reranker.h"

namespace lastrank::api {

RerankResponse run_request(Reranker& reranker, ApiRequest& req, const RequestLimits& limits);

}  // namespace lastrank::api
