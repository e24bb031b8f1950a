// libFuzzer target: the request module (src/api) on arbitrary bytes, as every front end feeds it
// untrusted request text. The first byte picks the dialect (Jina/Cohere v1, Cohere v2, TEI), the
// rest is the body. Parsing either returns a request that satisfies the documented checks
// (src/api/request.h) or throws api::ApiError (never another exception); an accepted request is
// then truncated (whitespace tokens) and rendered with made-up scores, which must not throw.
// First byte 'k' / 'd': the body is a TEI /tokenize / /detokenize request instead, which must
// parse or throw ApiError (never another exception), within the batch limit and the vocabulary.
// Seeds: tests/fuzz/seeds/fuzz_api_request/ (first byte 'j', '2' or 't').
#include <cstddef>
#include <cctype>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "api/request.h"
#include "api/response.h"
#include "api/tokenize.h"
#include "api/truncation.h"
#include "../word_tokens.h"

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
  // Each whitespace word is one token; every token ends a piece.
  std::vector<TokenEnd> token_ends(std::string_view text, size_t max_tokens) const override {
    return whitespace_token_ends(text, max_tokens);
  }
};

void check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  if (data[0] == 'k' || data[0] == 'd') {
    const std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);
    api::RequestLimits limits;
    limits.max_documents = 8;
    try {
      nlohmann::json j = api::parse_json_body(body, limits.max_json_depth);
      if (data[0] == 'k') {
        const api::TokenizeRequest t = api::parse_tokenize_request(std::move(j), limits);
        check(!t.inputs.empty() && t.inputs.size() <= limits.max_documents);
      } else {
        const api::DetokenizeRequest d = api::parse_detokenize_request(std::move(j), limits, 1000);
        check(!d.ids.empty() && d.ids.size() <= limits.max_documents);
        for (const auto& list : d.ids)
          for (int32_t id : list) check(id >= 0 && id < 1000);
      }
    } catch (const api::ApiError&) {
    }
    return 0;
  }
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
  const std::optional<size_t> top_n = r.top_n;
  const std::vector<std::string> texts = r.documents;  // before chunking replaces them
  try {
    api::apply_truncation(req, WordTokens(), {8, 16}, limits);
  } catch (const api::ApiError& e) {
    check(e.kind() == api::ErrorKind::input_too_long || e.kind() == api::ErrorKind::too_many_documents);
    return 0;
  }
  const api::ChunkPlan& plan = req.chunks;
  if (plan.active()) {  // chunks tile each document's text in order, at most max_chunks_per_doc of them
    // (an empty document is one empty chunk, [0, 0))
    check(plan.chunks.size() == r.documents.size() && plan.chunks.size() <= limits.max_documents);
    check(plan.chunk_counts.size() == n && !r.top_n && plan.top_n == top_n);
    for (size_t c = 0; c < plan.chunks.size(); ++c) {
      const api::Chunk& k = plan.chunks[c];
      const bool first = k.index == 0;
      check(first ? k.start == 0 : plan.chunks[c - 1].document == k.document && plan.chunks[c - 1].end == k.start);
      const bool empty = texts[k.document].empty();
      check(empty ? first && k.end == 0 && plan.chunk_counts[k.document] == 1 : k.start < k.end);
      check(k.index < req.max_chunks_per_doc.value_or(limits.max_chunks_per_doc));
    }
  }
  RerankResponse resp;
  const size_t engine_n = r.documents.size();
  const size_t keep = r.top_n.value_or(engine_n);
  for (size_t i = 0; i < keep; ++i) resp.results.push_back({engine_n - 1 - i, 1.f / float(i + 1), {}});
  const nlohmann::json out = api::make_rerank_response(req, resp, "fuzz", "id");
  const nlohmann::json& results = dialect == api::Dialect::tei ? out : out["results"];
  check(results.size() == std::min(top_n.value_or(n), n));
  (void)out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return 0;
}
