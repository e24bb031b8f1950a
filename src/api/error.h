// Every error a rerank request can get, on every front end (CLI, batch mode, server, bindings):
// one ErrorKind per failure class, mapped to its HTTP status in ONE table (kErrorTable in
// error.cpp), and rendered in the error body shape of the dialect (Jina/Cohere superset, or
// TEI's {"error", "error_type"}). The CLI prints the same message; bindings raise it.
#pragma once
#include <string>

#include <nlohmann/json.hpp>

#include "core/error.h"

namespace lastrank::api {

enum class ErrorKind {
  malformed_json,     // 400: body is not (valid UTF-8) JSON, too deep, not an object
  missing_field,      // 400: required field absent/null/empty (query, documents)
  invalid_field,      // 422: wrong type or out-of-range value
  too_many_documents, // 422: more documents than --max-documents
  input_too_long,     // 422: a text over the token limit while truncation is off
  payload_too_large,  // 413: body over --max-body-bytes
  unauthorized,       // 401: missing or wrong bearer token
  not_found,          // 404: unknown route
  overloaded,         // 429: compute queue full (Retry-After)
  unavailable,        // 503: shutting down, or the request's deadline passed (Retry-After)
  internal,           // 500: engine failure (e.g. non-finite score) - never for bad input
};

int http_status(ErrorKind kind);
const char* error_type(ErrorKind kind);  // e.g. "invalid_request_error", "overloaded"

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

// The kind of any exception raised while answering a request: an ApiError's own kind; another
// lastrank::Error (the engine rejecting a request) is invalid_field; anything else is internal.
ErrorKind error_kind_of(const std::exception& e);

// Route families with their own request/response and error shapes.
enum class Dialect {
  jina_v1,    // POST /v1/rerank (Jina; also Cohere v1 fields) and POST /rerank without "texts"
  cohere_v2,  // POST /v2/rerank
  tei,        // POST /rerank with "texts"
  plain,      // GET routes and errors outside a rerank route
};

// Jina/Cohere/plain: {"message", "detail", "error": {"message", "type", "code"}, "request_id"}
// (Cohere SDKs read "message", Jina/FastAPI clients "detail", OpenAI-style ones "error").
// TEI: {"error": message, "error_type": type}.
nlohmann::json error_body(Dialect dialect, ErrorKind kind, const std::string& message, const std::string& request_id);

}  // namespace lastrank::api
