// Field-by-field validation of the Jina / Cohere v1+v2 / TEI rerank bodies (see request.h,
// docs/server.md for the status of each bad input): the JSON types here, the values in
// check_values (shared with validate_rerank_args). Unknown fields are ignored with a warning.
#include "api/request.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "rerank/prompt.h"
#include "tokenizer/utf8.h"

namespace lastrank::api {
namespace {

using nlohmann::json;

const std::set<std::string> kJinaCohereFields = {
    "model", "query", "documents", "top_n", "return_documents", "return_embeddings", "instruction",
    "rank_fields", "max_chunks_per_doc", "max_tokens_per_doc", "max_tokens_per_query", "priority", "user",
    "chat_template_kwargs"};
const std::set<std::string> kTeiFields = {"model", "query", "texts", "truncate", "truncation_direction",
                                          "raw_scores", "return_text"};

[[noreturn]] void invalid(const std::string& msg) { throw ApiError(ErrorKind::invalid_field, msg); }
[[noreturn]] void missing(const std::string& msg) { throw ApiError(ErrorKind::missing_field, msg); }

bool present(const json& body, const char* key) { return body.contains(key) && !body[key].is_null(); }

// A JSON integer field as an int64 (saturated), or nullopt if absent/null. Integral floats
// (3.0, 1e12) count as integers: JSON does not tell them apart, and serializers write 3.0 for
// a float that holds 3 (pydantic's default lax mode accepts them for int fields too); 1.5,
// "3", true are rejected. `what` names the accepted values in the message ("a positive integer").
// Whether the value is in range is validate_rerank_args' check, shared with the bindings.
std::optional<int64_t> get_integer(const json& body, const char* key, const char* what = "a positive integer") {
  if (!present(body, key)) return std::nullopt;
  const json& v = body[key];
  const std::string must = cat("\"", key, "\" must be ", what);
  if (v.is_number_unsigned()) return int64_t(std::min<uint64_t>(v.get<uint64_t>(), INT64_MAX));
  if (v.is_number_integer()) return v.get<int64_t>();
  if (!v.is_number_float()) invalid(cat(must, ", got ", v.type_name()));
  const double d = v.get<double>();
  if (!std::isfinite(d) || d != std::floor(d)) invalid(cat(must, ", got ", v.dump()));
  if (d <= -0x1p63) return INT64_MIN;
  return d >= 0x1p63 ? INT64_MAX : int64_t(d);
}

// The shared range check of every positive integer (top_n, max_tokens_per_*, max_chunks_per_doc).
size_t check_positive(const char* key, int64_t v) {
  if (v < 1) invalid(cat("\"", key, "\" must be a positive integer, got ", v));
  return size_t(v);
}

// top_n: 0 means "all documents" (vLLM's default and what gateways send), as does a value above
// the document count; negative values are rejected. The one top_n rule of every front end.
constexpr const char* kTopNValues = "a non-negative integer (0 = all documents)";
std::optional<size_t> check_top_n(int64_t v, size_t n_documents) {
  if (v < 0) invalid(cat("\"top_n\" must be ", kTopNValues, ", got ", v));
  if (v == 0) return std::nullopt;
  return std::min(size_t(v), n_documents);
}

std::optional<bool> get_bool(const json& body, const char* key) {
  if (!present(body, key)) return std::nullopt;
  if (!body[key].is_boolean()) invalid(cat("\"", key, "\" must be a boolean, got ", body[key].type_name()));
  return body[key].get<bool>();
}

std::optional<std::string> get_string(const json& body, const char* key) {
  if (!present(body, key)) return std::nullopt;
  if (!body[key].is_string()) invalid(cat("\"", key, "\" must be a string, got ", body[key].type_name()));
  return body[key].get<std::string>();
}

// A string, or an object with a string "text" (Jina's multimodal shape); emptiness is checked later.
std::string get_query(const json& body) {
  if (!present(body, "query")) missing("\"query\" is required");
  const json& q = body["query"];
  if (q.is_string()) return q.get<std::string>();
  if (q.is_object() && q.contains("text") && q["text"].is_string()) return q["text"].get<std::string>();
  invalid(cat("\"query\" must be a string, got ", q.type_name()));
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

std::vector<std::string> get_rank_fields(const json& body) {
  std::vector<std::string> fields;
  if (!present(body, "rank_fields")) return fields;
  const json& rf = body["rank_fields"];
  if (!rf.is_array() || rf.empty()) invalid("\"rank_fields\" must be a non-empty array of strings");
  for (const auto& f : rf) {
    if (!f.is_string()) invalid("\"rank_fields\" must be a non-empty array of strings");
    fields.push_back(f.get<std::string>());
  }
  return fields;
}

int64_t get_priority(const json& body) {
  if (!present(body, "priority")) return 0;
  const json& p = body["priority"];
  if (!p.is_number_integer() || (p.is_number_unsigned() && p.get<uint64_t>() > uint64_t(INT32_MAX)) ||
      p.get<int64_t>() < INT32_MIN || p.get<int64_t>() > INT32_MAX)
    invalid("\"priority\" must be a 32-bit integer");
  return p.get<int64_t>();
}

// The instruction: Jina's "instruction", or vLLM's chat_template_kwargs.instruction (its other
// keys have no meaning here and are ignored with a warning). Both set is ambiguous -> 422.
std::optional<std::string> get_instruction(const json& body, ApiRequest& r) {
  std::optional<std::string> direct = get_string(body, "instruction");
  if (!present(body, "chat_template_kwargs")) return direct;
  const json& kwargs = body["chat_template_kwargs"];
  if (!kwargs.is_object()) invalid(cat("\"chat_template_kwargs\" must be an object, got ", kwargs.type_name()));
  for (auto it = kwargs.begin(); it != kwargs.end(); ++it)
    if (it.key() != "instruction") r.warnings.push_back(cat("chat_template_kwargs.", it.key(), " ignored"));
  if (!present(kwargs, "instruction")) return direct;
  if (!kwargs["instruction"].is_string())
    invalid(cat("\"chat_template_kwargs.instruction\" must be a string, got ", kwargs["instruction"].type_name()));
  if (direct)
    invalid("set the instruction in \"instruction\" or in \"chat_template_kwargs.instruction\", not both");
  return kwargs["instruction"].get<std::string>();
}

void parse_jina_cohere(json& body, ApiRequest& r, RerankArgs& a) {
  warn_unknown(body, kJinaCohereFields, r);
  a.model = get_string(body, "model").value_or("");
  a.query = get_query(body);
  const std::vector<std::string> rank_fields = get_rank_fields(body);
  if (!present(body, "documents")) missing("\"documents\" is required");
  json& docs = body["documents"];
  if (!docs.is_array()) invalid(cat("\"documents\" must be an array, got ", docs.type_name()));
  a.documents.reserve(docs.size());
  for (size_t i = 0; i < docs.size(); ++i) a.documents.push_back(document_text(docs[i], i, rank_fields));
  r.documents = std::move(docs);
  a.top_n = get_integer(body, "top_n", kTopNValues);
  a.return_documents = get_bool(body, "return_documents").value_or(r.dialect == Dialect::jina_v1);
  a.return_embeddings = get_bool(body, "return_embeddings").value_or(false);
  a.instruction = get_instruction(body, r);
  a.max_chunks_per_doc = get_integer(body, "max_chunks_per_doc");
  a.max_tokens_per_query = get_integer(body, "max_tokens_per_query");
  a.max_tokens_per_doc = get_integer(body, "max_tokens_per_doc");
  r.priority = get_priority(body);
  get_string(body, "user");  // validated, unused
}

void parse_tei(json& body, ApiRequest& r, RerankArgs& a) {
  warn_unknown(body, kTeiFields, r);
  a.model = get_string(body, "model").value_or("");
  a.query = get_query(body);
  if (!present(body, "texts")) missing("`texts` is required");
  json& texts = body["texts"];
  if (!texts.is_array()) invalid(cat("`texts` must be an array of strings, got ", texts.type_name()));
  for (size_t i = 0; i < texts.size(); ++i) {
    if (!texts[i].is_string()) invalid(cat("texts[", i, "] must be a string, got ", texts[i].type_name()));
    a.documents.push_back(texts[i].get<std::string>());
  }
  r.documents = std::move(texts);
  a.return_documents = get_bool(body, "return_text").value_or(false);
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

// Parsed JSON text is always valid UTF-8; split arguments (C callers) may not be.
void check_utf8(std::string_view text, const std::string& what) {
  const size_t valid = tok::utf8_valid_prefix(text);
  if (valid != text.size()) invalid(cat(what, " is not valid UTF-8 (byte ", valid, ")"));
}

// The value checks of every path (request.h lists their order); moves a's values into r.
void check_values(RerankArgs& a, const RequestLimits& limits, ApiRequest& r) {
  const bool tei = r.dialect == Dialect::tei;
  if (a.query.empty()) missing("\"query\" must not be empty");
  check_utf8(a.query, "\"query\"");
  if (a.documents.empty()) missing(tei ? "`texts` cannot be empty" : "\"documents\" must not be empty");
  const size_t n = a.documents.size();
  if (n > limits.max_documents)
    throw ApiError(ErrorKind::too_many_documents,
                   tei ? cat("batch size ", n, " > maximum allowed batch size ", limits.max_documents)
                       : cat("too many documents: ", n, " > ", limits.max_documents, " (--max-documents)"));
  for (size_t i = 0; i < n; ++i) check_utf8(a.documents[i], cat(tei ? "texts[" : "documents[", i, "]"));
  if (a.top_n) r.request.top_n = check_top_n(*a.top_n, n);
  if (a.instruction) {
    check_utf8(*a.instruction, "\"instruction\"");
    try {
      check_instruction(*a.instruction);
    } catch (const Error& e) {
      invalid(e.what());
    }
  }
  if (a.max_tokens_per_query) r.max_tokens_per_query = check_positive("max_tokens_per_query", *a.max_tokens_per_query);
  if (a.max_tokens_per_doc) r.max_tokens_per_doc = check_positive("max_tokens_per_doc", *a.max_tokens_per_doc);
  if (a.max_chunks_per_doc) r.max_chunks_per_doc = check_positive("max_chunks_per_doc", *a.max_chunks_per_doc);
  r.request.query = std::move(a.query);
  r.request.documents = std::move(a.documents);
  r.request.instruction = std::move(a.instruction);
  r.request.return_embeddings = a.return_embeddings;
  r.return_documents = a.return_documents;
  r.model = std::move(a.model);
}

}  // namespace

ApiRequest validate_rerank_args(RerankArgs args, const RequestLimits& limits) {
  ApiRequest r;
  r.documents = args.documents;
  check_values(args, limits, r);
  return r;
}

json parse_json_body(std::string_view body, int max_depth) {
  json::parser_callback_t depth_guard = [max_depth](int depth, json::parse_event_t ev, json&) {
    if ((ev == json::parse_event_t::object_start || ev == json::parse_event_t::array_start) && depth >= max_depth)
      throw ApiError(ErrorKind::malformed_json, cat("JSON nested deeper than ", max_depth, " levels"));
    return true;
  };
  try {
    return json::parse(body.begin(), body.end(), depth_guard);
  } catch (const json::exception& e) {
    // The parser quotes the bytes it stopped at: invalid UTF-8 there becomes U+FFFD, so the message
    // is the same text on a terminal, in a JSON error body and in a Python exception.
    throw ApiError(ErrorKind::malformed_json, cat("request is not valid JSON: ", tok::utf8_sanitize(e.what())));
  }
}

ApiRequest parse_rerank_request(Dialect dialect, json&& body, const RequestLimits& limits) {
  if (!body.is_object()) throw ApiError(ErrorKind::malformed_json, cat("request must be a JSON object, got ", body.type_name()));
  ApiRequest r;
  r.dialect = dialect;
  RerankArgs args;
  if (dialect == Dialect::tei) parse_tei(body, r, args);
  else parse_jina_cohere(body, r, args);
  check_values(args, limits, r);
  return r;
}

Dialect rerank_dialect(std::string_view path, const json& body) {
  if (path == "/v2/rerank") return Dialect::cohere_v2;
  const bool llama_path = path == "/rerank" || path == "/reranking" || path == "/v1/reranking";
  if (llama_path && body.is_object() && body.contains("texts")) return Dialect::tei;
  return Dialect::jina_v1;
}

ApiRequest parse_request_text(Dialect dialect, std::string_view text, const RequestLimits& limits) {
  return parse_rerank_request(dialect, parse_json_body(text, limits.max_json_depth), limits);
}

}  // namespace lastrank::api
