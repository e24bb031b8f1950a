// The Jina /v1/rerank request/response JSON (shared/docs/reference.md §6), shared by the CLI
// and the server: strict parsing of untrusted JSON into a RerankRequest, and the response.
#pragma once
#include <string>

#include <nlohmann/json.hpp>

#include "rerank/reranker.h"

namespace lastrank {

struct JinaRequest {
  RerankRequest request;
  std::string model;              // echoed back; "" if absent
  bool return_documents = true;   // Jina's default
};

// Throws lastrank::Error naming the offending field. Unknown fields are ignored.
JinaRequest parse_jina_request(const nlohmann::json& body);

// {"model", "usage": {"total_tokens"}, "results": [{"index", "relevance_score", "document"?: {"text"}, "embedding"?}]}
nlohmann::json make_jina_response(const JinaRequest& req, const RerankResponse& resp, const std::string& model_name);

}  // namespace lastrank
