// Field-by-field validation of the Jina / Cohere v1+v2 / TEI rerank bodies (see api_request.h,
// docs/server.md for the status of each bad input). Unknown fields are ignored with a warning.
#include "server/api_request.h"

#include <cmath>
#include <set>

#include "core/error.h"

namespace lastrank::server {
namespace {

using nlohmann::json;

const std::set<std::string> kJinaCohereFields = {
    "model", "query", "documents", "top_n", "return_documents", "return_embeddings", "instruction",
    "rank_fields", "max_chunks_per_doc", "max_tokens_per_doc", "priority", "user"};
const std::set<std::string> kTeiFields = {"model", "query", "texts", "truncate", "truncation_direction",
                                          "raw_scores", "return_text"};

[[noreturn]] void invalid(const std::string& msg) { throw ApiError(ErrorKind::invalid_field, msg); }
[[noreturn]] void missing(const std::string& msg) { throw ApiError(ErrorKind::missing_field, msg); }

bool present(const json& body, const char* key) { return body.contains(key) && !body[key].is_null(); }

// A positive integer field; integral floats (3.0, 1e12) are accepted, values above `clamp` are
// clamped to it (top_n beyond the document count means "all").
std::optional<uint64_t> get_positive_int(const json& body, const char* key, uint64_t clamp) {
  if (!present(body, key)) return std::nullopt;
  const json& v = body[key];
  const std::string what = cat("\"", key, "\" must be a positive integer");
  if (v.is_number_unsigned()) {
    uint64_t x = v.get<uint64_t>();
    if (x == 0) invalid(cat(what, ", got 0"));
    return std::min(x, clamp);
  }
  if (v.is_number_integer()) invalid(cat(what, ", got ", v.get<int64_t>()));
  if (v.is_number_float()) {
    double d = v.get<double>();
    if (!std::isfinite(d) || d != std::floor(d)) invalid(cat(what, ", got ", v.dump()));
    if (d < 1) invalid(cat(what, ", got ", v.dump()));
    return d >= double(clamp) ? clamp : uint64_t(d);
  }
  invalid(cat(what, ", got ", v.type_name()));
}

std::optional<bool> get_bool(const json& body, const char* key) {
  if (!present(body, key)) return std::nullopt;
  if (!body[key].is_boolean()) invalid(cat("\"", key, "\" must be a boolean, got ", body[key].type_name()));
  return body[key].get<bool>();
}

std::string get_query(const json& body) {
  if (!present(body, "query")) missing("\"query\" is required");
  const json& q = body["query"];
  std::string text;
  if (q.is_string()) {
    text = q.get<std::string>();
  } else if (q.is_object() && q.contains("text") && q["text"].is_string()) {
    text = q["text"].get<std::string>();
  } else {
    invalid(cat("\"query\" must be a string, got ", q.type_name()));
  }
  if (text.empty()) missing("\"query\" must not be empty");
  return text;
}

// Text of one Jina/Cohere document: a string, or an object ranked on "text" (default) or on
// rank_fields (one field: its value; several: "field: value" lines in rank_fields order).
std::string document_text(const json& d, size_t i, const std::vector<std::string>& rank_fields) {
  if (d.is_string()) return d.get<std::string>();
  if (!d.is_object()) invalid(cat("documents[", i, "] must be a string or an object, got ", d.type_name()));
  if (rank_fields.empty()) {
    if (!d.contains("text") || !d["text"].is_string())
      invalid(cat("documents[", i, "] must have a string \"text\" field"));
    return d["text"].get<std::string>();
  }
  std::string text;
  size_t found = 0;
  for (const auto& f : rank_fields) {
    if (!d.contains(f) || d[f].is_null()) continue;
    if (!d[f].is_string()) invalid(cat("documents[", i, "].", f, " must be a string, got ", d[f].type_name()));
    if (rank_fields.size() == 1) return d[f].get<std::string>();
    if (found++) text += "\n";
    text += f + ": " + d[f].get<std::string>();
  }
  if (!found) invalid(cat("documents[", i, "] has none of the rank_fields"));
  return text;
}

void warn_unknown(const json& body, const std::set<std::string>& known, ApiRequest& r) {
  for (auto it = body.begin(); it != body.end(); ++it)
    if (!known.count(it.key())) r.warnings.push_back(cat("unknown field \"", it.key(), "\" ignored"));
}

void parse_jina_cohere(json& body, const RequestLimits& limits, ApiRequest& r) {
  warn_unknown(body, kJinaCohereFields, r);
  if (present(body, "model")) {
    if (!body["model"].is_string()) invalid(cat("\"model\" must be a string, got ", body["model"].type_name()));
    r.model = body["model"].get<std::string>();
  }
  r.request.query = get_query(body);
  std::vector<std::string> rank_fields;
  if (present(body, "rank_fields")) {
    const json& rf = body["rank_fields"];
    if (!rf.is_array() || rf.empty()) invalid("\"rank_fields\" must be a non-empty array of strings");
    for (const auto& f : rf) {
      if (!f.is_string()) invalid("\"rank_fields\" must be a non-empty array of strings");
      rank_fields.push_back(f.get<std::string>());
    }
  }
  if (!present(body, "documents")) missing("\"documents\" is required");
  json& docs = body["documents"];
  if (!docs.is_array()) invalid(cat("\"documents\" must be an array, got ", docs.type_name()));
  if (docs.empty()) missing("\"documents\" must not be empty");
  if (docs.size() > limits.max_documents)
    throw ApiError(ErrorKind::too_many_documents,
                   cat("too many documents: ", docs.size(), " > ", limits.max_documents, " (--max-documents)"));
  r.request.documents.reserve(docs.size());
  for (size_t i = 0; i < docs.size(); ++i) r.request.documents.push_back(document_text(docs[i], i, rank_fields));
  r.documents = std::move(docs);

  const size_t n = r.request.documents.size();
  if (auto t = get_positive_int(body, "top_n", n)) r.request.top_n = size_t(*t);
  if (auto b = get_bool(body, "return_documents")) r.return_documents = *b;
  if (auto b = get_bool(body, "return_embeddings")) r.request.return_embeddings = *b;
  if (present(body, "instruction")) {
    if (!body["instruction"].is_string()) invalid("\"instruction\" must be a string");
    r.request.instruction = body["instruction"].get<std::string>();
  }
  if (get_positive_int(body, "max_chunks_per_doc", UINT64_MAX))
    r.warnings.push_back("max_chunks_per_doc is ignored: long documents are truncated, not chunked");
  if (auto m = get_positive_int(body, "max_tokens_per_doc", UINT64_MAX)) r.max_tokens_per_doc = size_t(*m);
  if (present(body, "priority")) {
    const json& p = body["priority"];
    if (!p.is_number_integer() || p.get<int64_t>() < INT32_MIN || p.get<int64_t>() > INT32_MAX ||
        (p.is_number_unsigned() && p.get<uint64_t>() > uint64_t(INT32_MAX)))
      invalid("\"priority\" must be a 32-bit integer");
    r.priority = p.get<int64_t>();
  }
  if (present(body, "user") && !body["user"].is_string()) invalid("\"user\" must be a string");
}

void parse_tei(json& body, const RequestLimits& limits, ApiRequest& r) {
  warn_unknown(body, kTeiFields, r);
  r.request.query = get_query(body);
  if (!present(body, "texts")) missing("`texts` is required");
  json& texts = body["texts"];
  if (!texts.is_array()) invalid(cat("`texts` must be an array of strings, got ", texts.type_name()));
  if (texts.empty()) missing("`texts` cannot be empty");
  if (texts.size() > limits.max_documents)
    throw ApiError(ErrorKind::too_many_documents,
                   cat("batch size ", texts.size(), " > maximum allowed batch size ", limits.max_documents));
  for (size_t i = 0; i < texts.size(); ++i) {
    if (!texts[i].is_string()) invalid(cat("texts[", i, "] must be a string, got ", texts[i].type_name()));
    r.request.documents.push_back(texts[i].get<std::string>());
  }
  r.documents = std::move(texts);
  r.return_documents = get_bool(body, "return_text").value_or(false);
  r.truncate = get_bool(body, "truncate");
  get_bool(body, "raw_scores");  // validated; scores are cosines either way (docs/server.md)
  if (present(body, "truncation_direction")) {
    const json& d = body["truncation_direction"];
    std::string s = d.is_string() ? d.get<std::string>() : "";
    if (s == "right" || s == "Right") r.truncation_side = TruncationSide::right;
    else if (s == "left" || s == "Left") r.truncation_side = TruncationSide::left;
    else invalid("\"truncation_direction\" must be \"right\" or \"left\"");
  }
}

}  // namespace

json parse_json_body(std::string_view body, int max_depth) {
  json::parser_callback_t depth_guard = [max_depth](int depth, json::parse_event_t ev, json&) {
    if ((ev == json::parse_event_t::object_start || ev == json::parse_event_t::array_start) && depth >= max_depth)
      throw ApiError(ErrorKind::malformed_json, cat("JSON nested deeper than ", max_depth, " levels"));
    return true;
  };
  try {
    return json::parse(body.begin(), body.end(), depth_guard);
  } catch (const json::exception& e) {
    throw ApiError(ErrorKind::malformed_json, cat("request body is not valid JSON: ", e.what()));
  }
}

ApiRequest parse_rerank_request(Dialect dialect, json&& body, const RequestLimits& limits) {
  if (!body.is_object()) throw ApiError(ErrorKind::malformed_json, cat("request body must be a JSON object, got ", body.type_name()));
  ApiRequest r;
  r.dialect = dialect;
  if (dialect == Dialect::tei) {
    parse_tei(body, limits, r);
  } else {
    r.return_documents = dialect == Dialect::jina_v1;
    parse_jina_cohere(body, limits, r);
  }
  return r;
}

void apply_truncation(ApiRequest& req, const RerankEngine& engine, const RequestLimits& limits) {
  const EngineInfo& info = engine.info();
  const bool truncate = req.truncate.value_or(limits.auto_truncate);
  RerankRequest& rr = req.request;
  if (!truncate) {
    if (engine.count_tokens(rr.query, info.max_query_tokens) > info.max_query_tokens)
      throw ApiError(ErrorKind::input_too_long,
                     cat("query must have at most ", info.max_query_tokens, " tokens (truncation is off)"));
    for (size_t i = 0; i < rr.documents.size(); ++i)
      if (engine.count_tokens(rr.documents[i], info.max_doc_tokens) > info.max_doc_tokens)
        throw ApiError(ErrorKind::input_too_long, cat("documents[", i, "] must have at most ", info.max_doc_tokens,
                                                      " tokens (truncation is off)"));
  }
  size_t doc_limit = info.max_doc_tokens;
  if (req.max_tokens_per_doc) doc_limit = std::min(doc_limit, *req.max_tokens_per_doc);
  const bool left = req.truncation_side == TruncationSide::left;
  if (left) rr.query = engine.truncate(rr.query, info.max_query_tokens, TruncationSide::left);
  if (left || doc_limit < info.max_doc_tokens)
    for (auto& d : rr.documents) d = engine.truncate(d, doc_limit, req.truncation_side);
}

}  // namespace lastrank::server
