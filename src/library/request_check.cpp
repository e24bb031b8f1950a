#include "library/engine_names.h"  // engine headers before the public one: see engine_names.h
#include <string_view>

#include "library/request_check.h"

namespace lastrank::library {
namespace {

// The request module's messages name a field of the wrong JSON type as "... must be ..., got
// <JSON type name>" (src/api/request.cpp), an absent one as "... is required", and a document
// object without its text as "... must have a string \"text\" field"; every other rejection is a
// bad value ("... got 0", "must not be empty", ...).
RequestFault fault_of(const std::string& message) {
  const std::string_view m = message;
  for (const char* type_name : {"null", "boolean", "number", "string", "array", "object"})
    if (m.ends_with(cat(", got ", type_name))) return RequestFault::wrong_type;
  for (const char* type_words : {" is required", " must have a string "})
    if (m.find(type_words) != std::string_view::npos) return RequestFault::wrong_type;
  return RequestFault::bad_value;
}

}  // namespace

RequestError::RequestError(RequestFault fault, const std::string& message)
    : v0::Error(v0::Error::Code::invalid_argument, message), fault_(fault) {}

CheckedRequest check_request(const nlohmann::json& body) {
  api::ApiRequest parsed;
  try {
    parsed = api::parse_rerank_request(api::Dialect::jina_v1, nlohmann::json(body), api::RequestLimits{});
  } catch (const EngineError& e) {
    throw RequestError(fault_of(e.what()), e.what());
  }
  RerankRequest& r = parsed.request;
  return {std::move(r.query), std::move(r.documents), r.top_n, std::move(r.instruction), r.return_embeddings,
          parsed.max_chunks_per_doc};
}

nlohmann::json request_body(std::string_view query, const std::vector<std::string>& documents,
                            const v0::RerankParams& params) {
  nlohmann::json body = {{"query", query}, {"documents", documents}, {"return_embeddings", params.return_embeddings}};
  if (params.top_n) body["top_n"] = *params.top_n;
  if (params.instruction) body["instruction"] = *params.instruction;
  if (params.max_chunks_per_doc) body["max_chunks_per_doc"] = *params.max_chunks_per_doc;
  return body;
}

}  // namespace lastrank::library
