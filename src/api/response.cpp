// Response shapes (docs/server.md): field names follow Jina (results[].index/relevance_score/
// document, usage.total_tokens), Cohere (id, meta.api_version/billed_units/tokens/warnings) and
// TEI ([{index, score, text?}]). "document" is omitted, never null, when not requested.
#include "api/response.h"

#include <cmath>

namespace lastrank::api {
namespace {

using nlohmann::json;

json document_echo(const json& d) { return d.is_string() ? json{{"text", d}} : d; }

json cohere_meta(const ApiRequest& req, const RerankResponse& resp, const char* version) {
  return {{"api_version", {{"version", version}, {"is_experimental", false}}},
          {"billed_units", {{"search_units", 1}}},
          {"tokens", {{"input_tokens", resp.total_tokens}, {"output_tokens", 0}}},
          {"warnings", req.warnings}};
}

}  // namespace

json make_rerank_response(const ApiRequest& req, const RerankResponse& resp, const std::string& model_name,
                          const std::string& request_id) {
  const size_t n = req.documents.size();  // request.documents may have been moved to the engine
  for (const auto& it : resp.results) {
    if (!std::isfinite(it.relevance_score))
      throw ApiError(ErrorKind::internal, cat("engine produced a non-finite score for documents[", it.index, "]"));
    if (it.index >= n) throw ApiError(ErrorKind::internal, cat("engine returned document index ", it.index, " of ", n));
  }
  if (req.dialect == Dialect::tei) {
    json out = json::array();
    for (const auto& it : resp.results) {
      json o = {{"index", it.index}, {"score", double(it.relevance_score)}};
      if (req.return_documents) o["text"] = req.documents[it.index];
      out.push_back(std::move(o));
    }
    return out;
  }
  json results = json::array();
  for (const auto& it : resp.results) {
    json o = {{"index", it.index}, {"relevance_score", double(it.relevance_score)}};
    if (req.return_documents) o["document"] = document_echo(req.documents[it.index]);
    if (req.request.return_embeddings) o["embedding"] = it.embedding;
    results.push_back(std::move(o));
  }
  const bool v2 = req.dialect == Dialect::cohere_v2;
  json out = {{"model", req.model.empty() ? model_name : req.model},
              {"usage", {{"prompt_tokens", resp.total_tokens}, {"total_tokens", resp.total_tokens}}},
              {"results", std::move(results)},
              {"meta", cohere_meta(req, resp, v2 ? "2" : "1")}};
  if (!request_id.empty()) out["id"] = request_id;
  return out;
}

}  // namespace lastrank::api
