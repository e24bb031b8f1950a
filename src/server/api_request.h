// Request validation for every rerank route, in one place: JSON parsing with a depth bound,
// field checks (type, range, required) that throw ApiError with the right ErrorKind, and the
// truncation policy (TEI truncate/truncation_direction, Cohere max_tokens_per_doc, reject mode)
// applied on the I/O thread with the engine's thread-safe tokenizer.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "rerank/reranker.h"
#include "server/api_error.h"
#include "server/engine.h"

namespace lastrank::server {

struct RequestLimits {
  size_t max_documents = 1000;  // more -> 422 too_many_documents
  bool auto_truncate = true;    // false: texts over the engine's token limits -> 422 (TEI may override per request)
  int max_json_depth = 32;      // deeper JSON -> 400
};

struct ApiRequest {
  Dialect dialect = Dialect::jina_v1;
  RerankRequest request;               // what the engine sees (texts possibly truncated)
  nlohmann::json documents;            // the request's documents array as sent (echoed back)
  std::string model;                   // requested model name ("" if absent); echoed like the CLI
  bool return_documents = true;        // Jina default true; Cohere v2 / TEI (return_text) false
  int64_t priority = 0;                // Cohere v2: lower runs first
  std::optional<size_t> max_tokens_per_doc;  // Cohere: right-truncate documents to this many tokens
  std::optional<bool> truncate;        // TEI: null -> server default (auto_truncate)
  TruncationSide truncation_side = TruncationSide::right;
  std::vector<std::string> warnings;   // ignored fields etc.; returned in meta.warnings
};

// Parses body text as JSON: invalid JSON/UTF-8, lone surrogates or nesting deeper than
// max_depth -> ApiError(malformed_json) with the parser's message.
nlohmann::json parse_json_body(std::string_view body, int max_depth);

// Validates a parsed body for the dialect. Consumes body (documents are moved into the result).
ApiRequest parse_rerank_request(Dialect dialect, nlohmann::json&& body, const RequestLimits& limits);

// Truncation policy (tokenizes on the calling thread). Right-truncation to the engine's own
// limits is left to the engine (it is the reference's rule); everything else happens here.
void apply_truncation(ApiRequest& req, const RerankEngine& engine, const RequestLimits& limits);

}  // namespace lastrank::server
