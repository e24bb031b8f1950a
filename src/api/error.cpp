// The one ErrorKind -> HTTP status table and the per-dialect error bodies.
#include "api/error.h"

namespace lastrank::api {
namespace {

struct ErrorRow {
  ErrorKind kind;
  int status;
  const char* type;
};

constexpr ErrorRow kErrorTable[] = {
    {ErrorKind::malformed_json, 400, "invalid_json"},
    {ErrorKind::missing_field, 400, "missing_field"},
    {ErrorKind::invalid_field, 422, "validation_error"},
    {ErrorKind::too_many_documents, 422, "too_many_documents"},
    {ErrorKind::input_too_long, 422, "input_too_long"},
    {ErrorKind::payload_too_large, 413, "payload_too_large"},
    {ErrorKind::unauthorized, 401, "authentication_error"},
    {ErrorKind::not_found, 404, "not_found"},
    {ErrorKind::overloaded, 429, "overloaded"},
    {ErrorKind::unavailable, 503, "unavailable"},
    {ErrorKind::internal, 500, "server_error"},
};

const ErrorRow& row(ErrorKind kind) {
  for (const auto& r : kErrorTable)
    if (r.kind == kind) return r;
  LR_CHECK(false, "ErrorKind ", int(kind), " missing from kErrorTable");
}

}  // namespace

int http_status(ErrorKind kind) { return row(kind).status; }
const char* error_type(ErrorKind kind) { return row(kind).type; }

ErrorKind error_kind_of(const std::exception& e) {
  if (const auto* api = dynamic_cast<const ApiError*>(&e)) return api->kind();
  if (dynamic_cast<const Error*>(&e)) return ErrorKind::invalid_field;
  return ErrorKind::internal;
}

nlohmann::json error_body(Dialect dialect, ErrorKind kind, const std::string& message, const std::string& request_id) {
  if (dialect == Dialect::tei) return {{"error", message}, {"error_type", error_type(kind)}};
  return {{"message", message},
          {"detail", message},
          {"error", {{"message", message}, {"type", error_type(kind)}, {"code", http_status(kind)}}},
          {"request_id", request_id}};
}

}  // namespace lastrank::api
