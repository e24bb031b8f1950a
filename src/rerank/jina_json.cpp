#include "rerank/jina_json.h"

#include "core/error.h"

namespace lastrank {

JinaRequest parse_jina_request(const nlohmann::json& body) {
  if (!body.is_object()) fail("request body must be a JSON object");
  JinaRequest r;
  if (body.contains("model")) {
    if (!body["model"].is_string() && !body["model"].is_null()) fail("\"model\" must be a string");
    if (body["model"].is_string()) r.model = body["model"].get<std::string>();
  }
  if (!body.contains("query") || body["query"].is_null()) fail("\"query\" is required");
  const auto& q = body["query"];
  if (q.is_string()) {
    r.request.query = q.get<std::string>();
  } else if (q.is_object() && q.contains("text") && q["text"].is_string()) {
    r.request.query = q["text"].get<std::string>();
  } else {
    fail("\"query\" must be a string");
  }
  if (r.request.query.empty()) fail("\"query\" must not be empty");
  if (!body.contains("documents") || body["documents"].is_null()) fail("\"documents\" is required");
  const auto& docs = body["documents"];
  if (!docs.is_array()) fail("\"documents\" must be an array of strings or {\"text\": string} objects");
  if (docs.empty()) fail("\"documents\" must not be empty");
  r.request.documents.reserve(docs.size());
  for (size_t i = 0; i < docs.size(); ++i) {
    const auto& d = docs[i];
    if (d.is_string()) {
      r.request.documents.push_back(d.get<std::string>());
    } else if (d.is_object() && d.contains("text") && d["text"].is_string()) {
      r.request.documents.push_back(d["text"].get<std::string>());
    } else {
      fail("documents[", i, "] must be a string or an object with a string \"text\"");
    }
  }
  if (body.contains("top_n") && !body["top_n"].is_null()) {
    const auto& t = body["top_n"];
    if (!t.is_number_integer()) fail("\"top_n\" must be an integer");
    if (t.is_number_unsigned() || t.get<int64_t>() >= 0) {
      r.request.top_n = size_t(t.get<uint64_t>());
      if (*r.request.top_n == 0) fail("\"top_n\" must be at least 1");
    } else {
      fail("\"top_n\" must be at least 1");
    }
  }
  auto get_bool = [&](const char* key, bool& out) {
    if (!body.contains(key) || body[key].is_null()) return;
    if (!body[key].is_boolean()) fail("\"", key, "\" must be a boolean");
    out = body[key].get<bool>();
  };
  get_bool("return_documents", r.return_documents);
  get_bool("return_embeddings", r.request.return_embeddings);
  if (body.contains("instruction") && !body["instruction"].is_null()) {
    if (!body["instruction"].is_string()) fail("\"instruction\" must be a string");
    r.request.instruction = body["instruction"].get<std::string>();
  }
  return r;
}

nlohmann::json make_jina_response(const JinaRequest& req, const RerankResponse& resp, const std::string& model_name) {
  nlohmann::json results = nlohmann::json::array();
  for (const auto& it : resp.results) {
    nlohmann::json o = {{"index", it.index}, {"relevance_score", double(it.relevance_score)}};
    if (req.return_documents) o["document"] = {{"text", req.request.documents[it.index]}};
    if (req.request.return_embeddings) o["embedding"] = it.embedding;
    results.push_back(std::move(o));
  }
  return {{"model", req.model.empty() ? model_name : req.model},
          {"usage", {{"total_tokens", resp.total_tokens}}},
          {"results", std::move(results)}};
}

}  // namespace lastrank
