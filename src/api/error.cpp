// The one ErrorKind -> HTTP status table and the per-dialect error bodies.
// TEI columns follow text-embeddings-inference's router (ErrorType -> StatusCode): Validation is
// its 413 for size limits (batch size, input length, body), Empty 400, Tokenizer 422, Overloaded
// 429, Backend 424, Unhealthy 503. Wrong JSON types keep 422 and bad JSON 400 there (TEI's JSON
// extractor answers those before its handlers run).
#include "api/error.h"

namespace lastrank::api {
namespace {

struct ErrorRow {
  ErrorKind kind;
  int status;            // Jina / Cohere / plain routes
  const char* type;
  int tei_status;        // TEI routes (/rerank with "texts", /tokenize, /detokenize)
  const char* tei_type;
};

constexpr ErrorRow kErrorTable[] = {
    {ErrorKind::malformed_json, 400, "invalid_json", 400, "Validation"},
    {ErrorKind::missing_field, 400, "missing_field", 400, "Empty"},
    {ErrorKind::invalid_field, 422, "validation_error", 422, "Validation"},
    {ErrorKind::too_many_documents, 422, "too_many_documents", 413, "Validation"},
    {ErrorKind::input_too_long, 422, "input_too_long", 413, "Validation"},
    {ErrorKind::tokenizer, 422, "tokenizer_error", 422, "Tokenizer"},
    {ErrorKind::payload_too_large, 413, "payload_too_large", 413, "Validation"},
    {ErrorKind::unauthorized, 401, "authentication_error", 401, "Unauthorized"},
    {ErrorKind::not_found, 404, "not_found", 404, "NotFound"},
    {ErrorKind::overloaded, 429, "overloaded", 429, "Overloaded"},
    {ErrorKind::unavailable, 503, "unavailable", 503, "Unhealthy"},
    {ErrorKind::cancelled, 499, "client_closed_request", 499, "Cancelled"},
    {ErrorKind::internal, 500, "server_error", 424, "Backend"},
};

const ErrorRow& row(ErrorKind kind) {
  for (const auto& r : kErrorTable)
    if (r.kind == kind) return r;
  LR_CHECK(false, "ErrorKind ", int(kind), " missing from kErrorTable");
}

}  // namespace

int http_status(ErrorKind kind) { return row(kind).status; }
const char* error_type(ErrorKind kind) { return row(kind).type; }
int http_status(ErrorKind kind, Dialect dialect) {
  return dialect == Dialect::tei ? row(kind).tei_status : row(kind).status;
}
const char* tei_error_type(ErrorKind kind) { return row(kind).tei_type; }

ErrorKind error_kind_of(const std::exception& e) {
  if (const auto* api = dynamic_cast<const ApiError*>(&e)) return api->kind();
  if (const auto* c = dynamic_cast<const Cancelled*>(&e)) return cancelled_kind(c->reason());
  if (dynamic_cast<const Error*>(&e)) return ErrorKind::invalid_field;
  return ErrorKind::internal;
}

ErrorKind cancelled_kind(CancelReason reason) {
  return reason == CancelReason::client_gone ? ErrorKind::cancelled : ErrorKind::unavailable;
}

nlohmann::json error_body(Dialect dialect, ErrorKind kind, const std::string& message, const std::string& request_id) {
  if (dialect == Dialect::tei) return {{"error", message}, {"error_type", tei_error_type(kind)}};
  return {{"message", message},
          {"detail", message},
          {"error", {{"message", message}, {"type", error_type(kind)}, {"code", http_status(kind)}}},
          {"request_id", request_id}};
}

}  // namespace lastrank::api
