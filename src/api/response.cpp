// Response shapes (docs/server.md): field names follow Jina (results[].index/relevance_score/
// document, usage.total_tokens), Cohere (id, meta.api_version/billed_units/tokens/warnings) and
// TEI ([{index, score, text?}]). "document" is omitted, never null, when not requested.
#include "api/response.h"

#include <cmath>
#include <optional>

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

// The engine's results index its documents: the request's, or the chunks when chunked.
void check_engine_results(const ApiRequest& req, const RerankResponse& resp) {
  const size_t n = req.chunks.active() ? req.chunks.chunks.size() : req.documents.size();
  for (const auto& it : resp.results) {
    if (it.index >= n) throw ApiError(ErrorKind::internal, cat("engine returned document index ", it.index, " of ", n));
    if (std::isfinite(it.relevance_score)) continue;
    const size_t doc = req.chunks.active() ? req.chunks.chunks[it.index].document : it.index;
    throw ApiError(ErrorKind::internal, cat("engine produced a non-finite score for documents[", doc, "]"));
  }
}

// "chunk": the best chunk of a document that was chunked (docs/server.md "Chunking").
void add_best_chunk(json& o, const ApiRequest& req, const std::optional<FoldedResponse>& folded, size_t doc) {
  if (!folded || req.chunks.chunk_counts[doc] < 2) return;
  const Chunk& c = req.chunks.chunks[folded->best_chunk[doc]];
  o["chunk"] = {{"index", c.index}, {"start", c.start}, {"end", c.end}};
}

}  // namespace

json make_rerank_response(const ApiRequest& req, const RerankResponse& engine_resp, const std::string& model_name,
                          const std::string& request_id) {
  check_engine_results(req, engine_resp);
  std::optional<FoldedResponse> folded;
  if (req.chunks.active()) folded = fold_chunks(req.chunks, engine_resp);
  const RerankResponse& resp = folded ? folded->response : engine_resp;
  if (req.dialect == Dialect::tei) {
    json out = json::array();
    for (const auto& it : resp.results) {
      json o = {{"index", it.index}, {"score", double(it.relevance_score)}};
      if (req.return_documents) o["text"] = req.documents[it.index];
      add_best_chunk(o, req, folded, it.index);
      out.push_back(std::move(o));
    }
    return out;
  }
  json results = json::array();
  for (const auto& it : resp.results) {
    json o = {{"index", it.index}, {"relevance_score", double(it.relevance_score)}};
    if (req.return_documents) o["document"] = document_echo(req.documents[it.index]);
    if (req.request.return_embeddings) o["embedding"] = it.embedding;
    add_best_chunk(o, req, folded, it.index);
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

json models_response(const std::string& model_name, int64_t created) {
  json model = {{"id", model_name}, {"object", "model"}, {"created", created}, {"owned_by", "lastrank"}};
  return {{"object", "list"}, {"data", json::array({std::move(model)})}};
}

}  // namespace lastrank::api
