// TEI /tokenize and /detokenize bodies (tokenize.h). Field errors use the rerank routes' kinds:
// absent or empty -> missing_field (TEI "Empty", 400), wrong type or id -> invalid_field,
// too many inputs -> too_many_documents (TEI "Validation").
#include "api/tokenize.h"

#include "tokenizer/utf8.h"

namespace lastrank::api {
namespace {

using nlohmann::json;

[[noreturn]] void invalid(const std::string& msg) { throw ApiError(ErrorKind::invalid_field, msg); }

void check_object(const json& body) {
  if (!body.is_object()) throw ApiError(ErrorKind::malformed_json, cat("request must be a JSON object, got ", body.type_name()));
}

bool get_bool(const json& body, const char* key, bool fallback) {
  if (!body.contains(key) || body[key].is_null()) return fallback;
  if (!body[key].is_boolean()) invalid(cat("\"", key, "\" must be a boolean, got ", body[key].type_name()));
  return body[key].get<bool>();
}

json take_field(json& body, const char* key) {
  if (!body.contains(key) || body[key].is_null()) throw ApiError(ErrorKind::missing_field, cat("`", key, "` is required"));
  return std::move(body[key]);
}

// A batch must hold 1..limits.max_documents items (TEI's messages).
void check_batch_size(const json& items, const char* key, const RequestLimits& limits) {
  if (items.empty()) throw ApiError(ErrorKind::missing_field, cat("`", key, "` cannot be empty"));
  if (items.size() > limits.max_documents)
    throw ApiError(ErrorKind::too_many_documents,
                   cat("batch size ", items.size(), " > maximum allowed batch size ", limits.max_documents));
}

std::vector<int32_t> get_ids(const json& list, size_t i, int32_t vocab_size) {
  if (!list.is_array()) invalid(cat("ids[", i, "] must be an array of token ids, got ", list.type_name()));
  std::vector<int32_t> ids;
  ids.reserve(list.size());
  for (size_t j = 0; j < list.size(); ++j) {
    const json& id = list[j];
    if (!id.is_number_integer()) invalid(cat("ids[", i, "][", j, "] must be a token id, got ", id.type_name()));
    const bool in_range = id.is_number_unsigned() ? id.get<uint64_t>() < uint64_t(vocab_size)
                                                  : id.get<int64_t>() >= 0 && id.get<int64_t>() < vocab_size;
    if (!in_range) invalid(cat("ids[", i, "][", j, "] = ", id.dump(), " is not a token id (vocabulary size ", vocab_size, ")"));
    ids.push_back(int32_t(id.get<int64_t>()));
  }
  return ids;
}

// Runs a tokenizer call; its own errors (not ApiError) become ErrorKind::tokenizer.
template <class F>
auto tokenizer_call(F&& f) {
  try {
    return f();
  } catch (const ApiError&) {
    throw;
  } catch (const Error& e) {
    throw ApiError(ErrorKind::tokenizer, cat("tokenizer error: ", e.what()));
  }
}

json tokens_of(const std::string& text, const Tokenizer& tokenizer) {
  const std::vector<int32_t> ids = tokenizer_call([&] { return tokenizer.encode(text); });
  json tokens = json::array();
  size_t offset = 0;
  for (int32_t id : ids) {
    const std::string bytes = tokenizer.token_bytes(id);
    const bool special = tokenizer.is_special(id);
    json t = {{"id", id}, {"text", tok::utf8_sanitize(bytes)}, {"special", special}, {"start", nullptr}, {"stop", nullptr}};
    if (!special) {
      t["start"] = offset;
      t["stop"] = offset + bytes.size();
    }
    offset += bytes.size();
    tokens.push_back(std::move(t));
  }
  return tokens;
}

}  // namespace

TokenizeRequest parse_tokenize_request(json&& body, const RequestLimits& limits) {
  check_object(body);
  json inputs = take_field(body, "inputs");
  if (inputs.is_string()) inputs = json::array({std::move(inputs)});
  if (!inputs.is_array()) invalid(cat("`inputs` must be a string or an array of strings, got ", inputs.type_name()));
  check_batch_size(inputs, "inputs", limits);
  TokenizeRequest r;
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (!inputs[i].is_string()) invalid(cat("inputs[", i, "] must be a string, got ", inputs[i].type_name()));
    r.inputs.push_back(inputs[i].get<std::string>());
  }
  r.add_special_tokens = get_bool(body, "add_special_tokens", true);
  return r;
}

DetokenizeRequest parse_detokenize_request(json&& body, const RequestLimits& limits, int32_t vocab_size) {
  check_object(body);
  json ids = take_field(body, "ids");
  if (!ids.is_array()) invalid(cat("`ids` must be an array of token ids or of arrays of them, got ", ids.type_name()));
  if (!ids.empty() && !ids[0].is_array()) ids = json::array({std::move(ids)});  // one list of ids
  check_batch_size(ids, "ids", limits);
  DetokenizeRequest r;
  for (size_t i = 0; i < ids.size(); ++i) r.ids.push_back(get_ids(ids[i], i, vocab_size));
  r.skip_special_tokens = get_bool(body, "skip_special_tokens", true);
  return r;
}

json tokenize_response(const TokenizeRequest& req, const Tokenizer& tokenizer) {
  json out = json::array();
  for (const std::string& text : req.inputs) out.push_back(tokens_of(text, tokenizer));
  return out;
}

json detokenize_response(const DetokenizeRequest& req, const Tokenizer& tokenizer) {
  json out = json::array();
  for (const std::vector<int32_t>& ids : req.ids) {
    std::vector<int32_t> kept;
    for (int32_t id : ids)
      if (!req.skip_special_tokens || !tokenizer.is_special(id)) kept.push_back(id);
    out.push_back(tokenizer_call([&] { return tokenizer.decode(kept); }));
  }
  return out;
}

}  // namespace lastrank::api
