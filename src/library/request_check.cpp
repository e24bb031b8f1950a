#include "library/engine_names.h"  // engine headers before the public one: see engine_names.h
#include "tokenizer/utf8.h"

#include "library/request_check.h"

namespace lastrank::library {
namespace {

// parse_jina_request's messages say "... must be a string" / "must be an integer" / "must be a
// boolean" / "must be an array ..." / "is required" when a field has the wrong JSON type, and
// "must not be empty" / "must be at least 1" for a bad value.
RequestFault fault_of(const std::string& message) {
  for (const char* type_words : {" must be a ", " must be an ", " is required"})
    if (message.find(type_words) != std::string::npos) return RequestFault::wrong_type;
  return RequestFault::bad_value;
}

void check_utf8(std::string_view text, const std::string& what) {
  const size_t valid = tok::utf8_valid_prefix(text);
  if (valid != text.size()) throw RequestError(RequestFault::bad_value, cat(what, " is not valid UTF-8 (byte ", valid, ")"));
}

}  // namespace

RequestError::RequestError(RequestFault fault, const std::string& message)
    : v0::Error(v0::Error::Code::invalid_argument, message), fault_(fault) {}

CheckedRequest check_request(const nlohmann::json& body) {
  JinaRequest parsed;
  try {
    parsed = parse_jina_request(body);
  } catch (const EngineError& e) {
    throw RequestError(fault_of(e.what()), e.what());
  }
  RerankRequest& r = parsed.request;
  check_utf8(r.query, "\"query\"");
  for (size_t i = 0; i < r.documents.size(); ++i) check_utf8(r.documents[i], cat("documents[", i, "]"));
  if (r.instruction) check_utf8(*r.instruction, "\"instruction\"");
  return {std::move(r.query), std::move(r.documents), r.top_n, std::move(r.instruction), r.return_embeddings};
}

nlohmann::json request_body(std::string_view query, const std::vector<std::string>& documents,
                            const v0::RerankParams& params) {
  nlohmann::json body = {{"query", query}, {"documents", documents}, {"return_embeddings", params.return_embeddings}};
  if (params.top_n) body["top_n"] = *params.top_n;
  if (params.instruction) body["instruction"] = *params.instruction;
  return body;
}

}  // namespace lastrank::library
