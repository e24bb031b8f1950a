// libFuzzer target: the request module (src/api) on arbitrary bytes, as every front end feeds it
// untrusted request text. The first byte picks the dialect (Jina/Cohere v1, Cohere v2, TEI), the
// rest is the body. Parsing either returns a request that satisfies the documented checks
// (src/api/request.h) or throws api::ApiError (never another exception); an accepted request is
// then truncated (whitespace tokens) and rendered with made-up scores, which must not throw.
// Seeds: tests/fuzz/seeds/fuzz_api_request/ (first byte 'j', '2' or 't').
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <sstream>
#include <string_view>

#include "api/request.h"
#include "api/response.h"
#include "api/truncation.h"

namespace {

using namespace lastrank;

class WordTokens : public api::TextTokens {
 public:
  size_t count_tokens(std::string_view text, size_t limit) const override {
    std::istringstream is{std::string(text)};
    size_t n = 0;
    for (std::string w; n <= limit && is >> w;) ++n;
    return n;
  }
  std::string truncate(std::string_view text, size_t max_tokens, TruncationSide) const override {
    return std::string(text.substr(0, max_tokens));
  }
};

void check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const api::Dialect dialect = data[0] == 't' ? api::Dialect::tei : data[0] == '2' ? api::Dialect::cohere_v2 : api::Dialect::jina_v1;
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  api::RequestLimits limits;
  limits.max_documents = 64;
  limits.auto_truncate = (size & 1) == 0;
  api::ApiRequest req;
  try {
    req = api::parse_request_text(dialect, text, limits);
  } catch (const api::ApiError&) {
    return 0;
  }
  const RerankRequest& r = req.request;
  const size_t n = r.documents.size();
  check(!r.query.empty() && n >= 1 && n <= limits.max_documents && req.documents.size() == n);
  check(!r.top_n || (*r.top_n >= 1 && *r.top_n <= n));
  check(!req.max_tokens_per_doc || *req.max_tokens_per_doc >= 1);
  check(!req.max_tokens_per_query || *req.max_tokens_per_query >= 1);
  try {
    api::apply_truncation(req, WordTokens(), {8, 16}, limits);
  } catch (const api::ApiError& e) {
    check(e.kind() == api::ErrorKind::input_too_long);
    return 0;
  }
  RerankResponse resp;
  const size_t keep = r.top_n.value_or(n);
  for (size_t i = 0; i < keep; ++i) resp.results.push_back({n - 1 - i, 1.f / float(i + 1), {}});
  const nlohmann::json out = api::make_rerank_response(req, resp, "fuzz", "id");
  (void)out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return 0;
}
