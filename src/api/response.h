// Response bodies of a rerank request, built from the engine's RerankResponse, for every front
// end (CLI, batch lines, server): Jina (+ Cohere v1 superset), Cohere v2 (+ Jina superset) and
// TEI's bare array.
#pragma once
#include <string>

#include <nlohmann/json.hpp>

#include "api/request.h"

namespace lastrank::api {

// Throws ApiError(internal) if the engine returned a non-finite score or a bad index.
// request_id is the Cohere "id"; "" (the CLI) leaves "id" out.
nlohmann::json make_rerank_response(const ApiRequest& req, const RerankResponse& resp, const std::string& model_name,
                                    const std::string& request_id);

// GET /v1/models (OpenAI's list shape): the one served model,
// {"object": "list", "data": [{"id": model_name, "object": "model", "created", "owned_by"}]}.
// created is the server's start time (Unix seconds).
nlohmann::json models_response(const std::string& model_name, int64_t created);

}  // namespace lastrank::api
