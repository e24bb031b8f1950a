// Rerank requests of every front end, validated in one place (docs/server.md "Requests"):
// Jina /v1/rerank (+ Cohere v1 fields), Cohere /v2/rerank and TEI /rerank bodies as JSON, and
// the same fields already split into C++ values (RerankArgs: Python/C bindings). Every path
// ends in validate_rerank_args' value checks, so one input gets one verdict and one message
// on the CLI, in batch mode, on the server and in the bindings. Throws ApiError (src/api/error.h).
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/chunking.h"
#include "api/error.h"
#include "rerank/reranker.h"
#include "rerank/truncation.h"

namespace lastrank::api {

struct RequestLimits {
  size_t max_documents = 1000;  // more -> 422 too_many_documents
  bool auto_truncate = true;    // false: texts over the engine's token limits -> 422 (TEI may override per request)
  int max_json_depth = 32;      // deeper JSON -> 400
  size_t max_chunks_per_doc = 1;  // default of a request's max_chunks_per_doc (1 = truncate, the reference)
};

struct ApiRequest {
  Dialect dialect = Dialect::jina_v1;
  RerankRequest request;               // what the engine sees (texts possibly truncated)
  nlohmann::json documents;            // the request's documents array as sent (echoed back)
  std::string model;                   // requested model name ("" if absent); echoed back
  bool return_documents = true;        // Jina default true; Cohere v2 / TEI (return_text) false
  int64_t priority = 0;                // Cohere v2: lower runs first
  std::optional<size_t> max_tokens_per_query;  // right-truncate the query to this many tokens
  std::optional<size_t> max_tokens_per_doc;    // Cohere: right-truncate documents to this many tokens
  std::optional<size_t> max_chunks_per_doc;    // null -> RequestLimits::max_chunks_per_doc (api/chunking.h)
  ChunkPlan chunks;                    // set by apply_truncation when documents were chunked
  std::optional<bool> truncate;        // TEI: null -> RequestLimits::auto_truncate
  TruncationSide truncation_side = TruncationSide::right;
  std::vector<std::string> warnings;   // ignored fields etc.; returned in meta.warnings
};

// One Jina-style rerank call with its arguments already split (the bindings' entry point).
// Integers are signed so that a caller's 0 or -1 reaches the same check (and message) as JSON.
struct RerankArgs {
  std::string query;
  std::vector<std::string> documents;
  std::optional<int64_t> top_n;                 // nullopt or 0 = all; above the document count = all
  std::optional<std::string> instruction;
  bool return_embeddings = false;
  bool return_documents = true;
  std::optional<int64_t> max_tokens_per_query;  // the reference's max_query_length (lower only)
  std::optional<int64_t> max_tokens_per_doc;    // the reference's max_doc_length (lower only)
  std::optional<int64_t> max_chunks_per_doc;    // chunks per long document (api/chunking.h)
  std::string model;                            // echoed as "model" if not empty
};

// The value checks every path runs, in this order: query non-empty and valid UTF-8, documents
// non-empty, at most limits.max_documents and each valid UTF-8, top_n >= 0 (0 = all; clamped to
// the document count), instruction valid UTF-8 without readout tokens, max_tokens_per_query/doc >= 1,
// max_chunks_per_doc >= 1.
// (UTF-8 can only fail here for split arguments: JSON text that parses is valid UTF-8.) All
// failures are value errors (a binding's ValueError). Returns the request for the engine
// (dialect jina_v1; documents echoed as {"text"}).
ApiRequest validate_rerank_args(RerankArgs args, const RequestLimits& limits = {});

// Parses body text as JSON: invalid JSON/UTF-8, lone surrogates or nesting deeper than
// max_depth -> ApiError(malformed_json) with the parser's message.
nlohmann::json parse_json_body(std::string_view body, int max_depth);

// Validates a parsed body for the dialect: JSON types first, then validate_rerank_args' value
// checks. Consumes body (documents are moved into the result). Unknown fields -> warnings.
ApiRequest parse_rerank_request(Dialect dialect, nlohmann::json&& body, const RequestLimits& limits);

// The dialect of a body POSTed to a rerank route: /v2/rerank is Cohere v2; /rerank and
// llama.cpp's /reranking and /v1/reranking are TEI when the body has "texts", else Jina
// (llama.cpp's rule); /v1/rerank (and any other path) is Jina.
Dialect rerank_dialect(std::string_view path, const nlohmann::json& body);

// parse_json_body + parse_rerank_request: the whole path from request text (CLI, batch lines).
ApiRequest parse_request_text(Dialect dialect, std::string_view text, const RequestLimits& limits = {});

}  // namespace lastrank::api
