// Response bodies of the rerank routes, built from the engine's RerankResponse:
// Jina (+ Cohere v1 superset), Cohere v2 (+ Jina superset) and TEI's bare array.
#pragma once
#include <string>

#include <nlohmann/json.hpp>

#include "server/api_request.h"

namespace lastrank::server {

// Throws ApiError(internal) if the engine returned a non-finite score or a bad index.
nlohmann::json make_rerank_response(const ApiRequest& req, const RerankResponse& resp, const std::string& model_name,
                                    const std::string& request_id);

}  // namespace lastrank::server
