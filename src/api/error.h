// Every error a rerank request can get, on every front end (CLI, batch mode, server, bindings):
// one ErrorKind per failure class, mapped to its HTTP status and type names in ONE table
// (kErrorTable in error.cpp), and rendered in the error body shape of the dialect (Jina/Cohere
// superset, or TEI's {"error", "error_type"} with TEI's own names and statuses). The CLI prints
// the same message; bindings raise it.
#pragma once
#include <string>

#include <nlohmann/json.hpp>

#include "core/cancel.h"
#include "core/error.h"

namespace lastrank::api {

enum class ErrorKind {
  malformed_json,     // 400: body is not (valid UTF-8) JSON, too deep, not an object
  missing_field,      // 400: required field absent/null/empty (query, documents)
  invalid_field,      // 422: wrong type or out-of-range value
  too_many_documents, // 422: more documents than --max-documents
  input_too_long,     // 422: a text over the token limit while truncation is off
  tokenizer,          // 422: the tokenizer rejected a text (/tokenize, truncation)
  payload_too_large,  // 413: body over --max-body-bytes
  unauthorized,       // 401: missing or wrong bearer token
  not_found,          // 404: unknown route
  overloaded,         // 429: compute queue full (Retry-After)
  unavailable,        // 503: shutting down, or the request's deadline passed (Retry-After)
  cancelled,          // 499 (nginx's "client closed request"): the client went away; logged and
                      // counted, never seen by that client
  internal,           // 500: engine failure (e.g. non-finite score) - never for bad input
};

int http_status(ErrorKind kind);
const char* error_type(ErrorKind kind);  // e.g. "validation_error", "overloaded"

// Route families with their own request/response and error shapes.
enum class Dialect {
  jina_v1,    // POST /v1/rerank (Jina; also Cohere v1 fields) and POST /rerank without "texts"
  cohere_v2,  // POST /v2/rerank
  tei,        // POST /rerank with "texts", /tokenize, /detokenize
  plain,      // GET routes and errors outside a rerank route
};

// The status of an error on a route of this dialect: TEI routes answer with TEI's statuses
// (Validation 413, Empty 400, Tokenizer 422, Overloaded 429, Backend 424, Unhealthy 503; see
// kErrorTable), every other dialect with http_status(kind).
int http_status(ErrorKind kind, Dialect dialect);
// TEI's error_type name of a kind: "Validation", "Empty", "Tokenizer", "Overloaded", "Backend",
// "Unhealthy" (and "Unauthorized", "NotFound" for the two kinds TEI answers without a body).
const char* tei_error_type(ErrorKind kind);

// Thrown by validation, scheduling and handlers; caught once per request in the HTTP layer.
// A lastrank::Error, so callers that only know the library's one error type still catch it.
class ApiError : public Error {
 public:
  ApiError(ErrorKind kind, const std::string& message) : Error(message), kind_(kind) {}
  ErrorKind kind() const { return kind_; }
  int status() const { return http_status(kind_); }

 private:
  ErrorKind kind_;
};

// The kind of any exception raised while answering a request: an ApiError's own kind; a Cancelled
// one's cancelled_kind; another lastrank::Error (the engine rejecting a request) is invalid_field;
// anything else is internal.
ErrorKind error_kind_of(const std::exception& e);

// The answer to a request cancelled for `reason`: client_gone -> cancelled (499), deadline and
// shutdown -> unavailable (503, the client is still there and may retry).
ErrorKind cancelled_kind(CancelReason reason);

// Jina/Cohere/plain: {"message", "detail", "error": {"message", "type", "code"}, "request_id"}
// (Cohere SDKs read "message", Jina/FastAPI clients "detail", OpenAI-style ones "error").
// TEI: {"error": message, "error_type": tei_error_type(kind)}.
nlohmann::json error_body(Dialect dialect, ErrorKind kind, const std::string& message, const std::string& request_id);

}  // namespace lastrank::api
