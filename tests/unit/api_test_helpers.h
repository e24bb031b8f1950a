// What the request-module tests (src/api, no model) share: parse a request text in a dialect, and
// the kind and message of the ApiError a call throws.
#pragma once
#include <functional>
#include <string>
#include <utility>

#include "api/error.h"
#include "api/request.h"

namespace lastrank::api {

inline ApiRequest parse(const std::string& text, Dialect d = Dialect::jina_v1, const RequestLimits& limits = {}) {
  return parse_request_text(d, text, limits);
}

// The kind and message of the ApiError fn throws ({internal, "(no error)"} if it throws none).
inline std::pair<ErrorKind, std::string> error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const ApiError& e) {
    return {e.kind(), e.what()};
  }
  return {ErrorKind::internal, "(no error)"};
}

}  // namespace lastrank::api
