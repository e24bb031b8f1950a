// Every error the server answers with: one ErrorKind per failure class, mapped to its HTTP
// status in ONE table (kErrorTable in api_error.cpp), and rendered in the error body shape of the
// route's dialect (Jina/Cohere superset, or TEI's {"error", "error_type"}).
#pragma once
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

namespace lastrank::server {

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
class ApiError : public std::runtime_error {
 public:
  ApiError(ErrorKind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
  ErrorKind kind() const { return kind_; }
  int status() const { return http_status(kind_); }

 private:
  ErrorKind kind_;
};

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

}  // namespace lastrank::server
