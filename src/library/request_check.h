// The request rules of every library entry point (C, C++, Python) are the CLI's: the request is
// written as a Jina /v1/rerank JSON body and checked by the request module every front end uses
// (api::parse_rerank_request, src/api/request.h), so one bad request gets one message everywhere
// (docs/library.md).
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "lastrank/lastrank.hpp"

namespace lastrank::library {

struct CheckedRequest {
  std::string query;
  std::vector<std::string> documents;
  std::optional<size_t> top_n;
  std::optional<std::string> instruction;
  bool return_embeddings = false;
  std::optional<size_t> max_chunks_per_doc;
};

// Why a request was rejected: a field of the wrong JSON type (Python raises TypeError) or a bad
// value (ValueError).
enum class RequestFault { wrong_type, bad_value };

// A rejected request: code() is invalid_argument, what() is the CLI's message.
class RequestError : public v0::Error {
 public:
  RequestError(RequestFault fault, const std::string& message);
  RequestFault fault() const noexcept { return fault_; }

 private:
  RequestFault fault_;
};

// body = {"query", "documents", "top_n"?, "instruction"?, "return_embeddings"?, "max_chunks_per_doc"?}
// (null = absent).
// Also rejects text that is not valid UTF-8 (a JSON request cannot carry it). Throws RequestError.
CheckedRequest check_request(const nlohmann::json& body);

// The body of a typed request (C and C++ callers), for check_request.
nlohmann::json request_body(std::string_view query, const std::vector<std::string>& documents,
                            const v0::RerankParams& params);

}  // namespace lastrank::library
