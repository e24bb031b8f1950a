// The client dialects of the request module (src/api, docs/server.md): top_n 0 = all, vLLM's
// chat_template_kwargs.instruction, the rerank route -> dialect rule (llama.cpp paths), TEI's
// error names and statuses, the score scale, /v1/models, and TEI /tokenize + /detokenize over a
// byte tokenizer. No model, no server.
#include <gtest/gtest.h>

#include <set>

#include "api/error.h"
#include "api/request.h"
#include "api/response.h"
#include "api/scores.h"
#include "api/tokenize.h"
#include "core/error.h"
#include "api_test_helpers.h"

namespace lastrank::api {
namespace {

using nlohmann::json;

TEST(ApiDialects, TopNZeroMeansAllOnEveryJsonDialectAndInSplitArguments) {
  for (Dialect d : {Dialect::jina_v1, Dialect::cohere_v2}) {
    EXPECT_FALSE(parse(R"({"query":"q","documents":["a","b"],"top_n":0})", d).request.top_n);
    EXPECT_FALSE(parse(R"({"query":"q","documents":["a","b"],"top_n":0.0})", d).request.top_n);
    EXPECT_EQ(parse(R"({"query":"q","documents":["a","b"],"top_n":1})", d).request.top_n, std::optional<size_t>(1));
    EXPECT_EQ(error_of([&] { parse(R"({"query":"q","documents":["a"],"top_n":-2})", d); }).first, ErrorKind::invalid_field);
  }
  RerankArgs a;
  a.query = "q";
  a.documents = {"a", "b"};
  a.top_n = 0;
  EXPECT_FALSE(validate_rerank_args(a).request.top_n);
  a.top_n = -1;
  EXPECT_EQ(error_of([&] { validate_rerank_args(a); }).second,
            "\"top_n\" must be a non-negative integer (0 = all documents), got -1");
}

TEST(ApiDialects, VllmChatTemplateInstruction) {
  auto r = parse(R"({"query":"q","documents":["a"],"chat_template_kwargs":{"instruction":"be strict","x":1}})");
  EXPECT_EQ(r.request.instruction, std::optional<std::string>("be strict"));
  EXPECT_EQ(r.warnings, std::vector<std::string>{"chat_template_kwargs.x ignored"});
  auto v2 = parse(R"({"query":"q","documents":["a"],"chat_template_kwargs":{"instruction":"v2"}})", Dialect::cohere_v2);
  EXPECT_EQ(v2.request.instruction, std::optional<std::string>("v2"));
  EXPECT_FALSE(parse(R"({"query":"q","documents":["a"],"chat_template_kwargs":{}})").request.instruction);
  const std::vector<std::pair<std::string, std::string>> bad = {
      {R"({"query":"q","documents":["a"],"instruction":"a","chat_template_kwargs":{"instruction":"b"}})",
       "set the instruction in \"instruction\" or in \"chat_template_kwargs.instruction\", not both"},
      {R"({"query":"q","documents":["a"],"chat_template_kwargs":[]})", "\"chat_template_kwargs\" must be an object, got array"},
      {R"({"query":"q","documents":["a"],"chat_template_kwargs":{"instruction":3}})",
       "\"chat_template_kwargs.instruction\" must be a string, got number"},
      {R"({"query":"q","documents":["a"],"chat_template_kwargs":{"instruction":"<|rerank_token|>"}})",
       "\"instruction\" must not contain <|embed_token|> or <|rerank_token|>"},
  };
  for (const auto& [body, message] : bad) {
    auto [kind, msg] = error_of([&] { parse(body); });
    EXPECT_EQ(kind, ErrorKind::invalid_field) << body;
    EXPECT_EQ(msg, message) << body;
  }
}

TEST(ApiDialects, MaxTokensPerQueryOnEveryJinaCohereDialect) {
  for (Dialect d : {Dialect::jina_v1, Dialect::cohere_v2})
    EXPECT_EQ(parse(R"({"query":"q","documents":["a"],"max_tokens_per_query":7})", d).max_tokens_per_query,
              std::optional<size_t>(7));
}

TEST(ApiDialects, RerankRouteDialects) {
  const json texts = {{"query", "q"}, {"texts", {"a"}}}, documents = {{"query", "q"}, {"documents", {"a"}}};
  for (const char* path : {"/rerank", "/reranking", "/v1/reranking"}) {
    EXPECT_EQ(rerank_dialect(path, texts), Dialect::tei) << path;
    EXPECT_EQ(rerank_dialect(path, documents), Dialect::jina_v1) << path;
  }
  EXPECT_EQ(rerank_dialect("/v1/rerank", texts), Dialect::jina_v1);
  EXPECT_EQ(rerank_dialect("/v2/rerank", documents), Dialect::cohere_v2);
  EXPECT_EQ(rerank_dialect("/rerank", json::array()), Dialect::jina_v1);
}

TEST(ApiDialects, TeiErrorNamesAndStatuses) {
  const std::vector<std::tuple<ErrorKind, const char*, int>> tei = {
      {ErrorKind::missing_field, "Empty", 400},        {ErrorKind::too_many_documents, "Validation", 413},
      {ErrorKind::input_too_long, "Validation", 413},  {ErrorKind::payload_too_large, "Validation", 413},
      {ErrorKind::invalid_field, "Validation", 422},   {ErrorKind::tokenizer, "Tokenizer", 422},
      {ErrorKind::overloaded, "Overloaded", 429},      {ErrorKind::internal, "Backend", 424},
      {ErrorKind::unavailable, "Unhealthy", 503},
  };
  for (const auto& [kind, type, status] : tei) {
    EXPECT_STREQ(tei_error_type(kind), type);
    EXPECT_EQ(http_status(kind, Dialect::tei), status) << type;
    EXPECT_EQ(error_body(Dialect::tei, kind, "m", "id"), json({{"error", "m"}, {"error_type", type}}));
    // Jina / Cohere routes keep their own table.
    EXPECT_EQ(http_status(kind, Dialect::jina_v1), http_status(kind));
  }
  EXPECT_EQ(http_status(ErrorKind::internal), 500);
  EXPECT_EQ(http_status(ErrorKind::too_many_documents), 422);
}

TEST(ApiDialects, UnitScoresKeepTheOrder) {
  EXPECT_EQ(parse_score_scale("unit"), ScoreScale::unit);
  EXPECT_EQ(parse_score_scale("cosine"), ScoreScale::cosine);
  EXPECT_THROW(parse_score_scale("sigmoid"), Error);
  EXPECT_STREQ(score_scale_name(ScoreScale::unit), "unit");
  RerankResponse r;
  r.results = {{2, 0.5f, {}}, {0, -0.25f, {}}, {1, -1.0f, {}}};
  RerankResponse cos = r;
  apply_score_scale(cos, ScoreScale::cosine);
  EXPECT_EQ(cos.results[0].relevance_score, 0.5f);
  apply_score_scale(r, ScoreScale::unit);
  EXPECT_EQ(r.results[0].relevance_score, 0.75f);
  EXPECT_EQ(r.results[1].relevance_score, 0.375f);
  EXPECT_EQ(r.results[2].relevance_score, 0.0f);
  EXPECT_EQ(r.results[0].index, 2u);  // same order
  EXPECT_EQ(unit_score(1.0f), 1.0f);
}

TEST(ApiDialects, ModelsList) {
  EXPECT_EQ(models_response("jina-reranker-v3", 1700000000),
            json::parse(R"({"object":"list","data":[{"id":"jina-reranker-v3","object":"model",
                           "created":1700000000,"owned_by":"lastrank"}]})"));
}

// Byte tokens: id b is byte b; id 256 is the special "<s>" (matched whole). Optionally throws.
class ByteTokens final : public Tokenizer {
 public:
  bool fail = false;
  std::vector<int32_t> encode(std::string_view text) const override {
    if (fail) lastrank::fail("cannot tokenize");
    std::vector<int32_t> ids;
    for (size_t i = 0; i < text.size();) {
      if (text.substr(i).starts_with("<s>")) {
        ids.push_back(256);
        i += 3;
      } else {
        ids.push_back(static_cast<unsigned char>(text[i++]));
      }
    }
    return ids;
  }
  std::string decode(const std::vector<int32_t>& ids) const override {
    std::string s;
    for (int32_t id : ids) s += token_bytes(id);
    return s;
  }
  std::optional<int32_t> token_to_id(std::string_view) const override { return std::nullopt; }
  std::optional<std::string> id_to_token(int32_t id) const override { return token_bytes(id); }
  int32_t vocab_size() const override { return 257; }
  bool is_special(int32_t id) const override { return id == 256; }
  std::string token_bytes(int32_t id) const override { return id == 256 ? "<s>" : std::string(1, char(id)); }
};

TEST(ApiTokenize, TeiShapes) {
  const ByteTokens tok;
  json one = tokenize_response(parse_tokenize_request(json::parse(R"({"inputs":"a<s>b"})"), {}), tok);
  EXPECT_EQ(one, json::parse(R"([[{"id":97,"text":"a","special":false,"start":0,"stop":1},
                                  {"id":256,"text":"<s>","special":true,"start":null,"stop":null},
                                  {"id":98,"text":"b","special":false,"start":4,"stop":5}]])"));
  auto batch = parse_tokenize_request(json::parse(R"({"inputs":["x","yz"],"add_special_tokens":false})"), {});
  EXPECT_FALSE(batch.add_special_tokens);
  EXPECT_EQ(tokenize_response(batch, tok).size(), 2u);
  EXPECT_EQ(tokenize_response(batch, tok)[1][1]["start"], 1);

  auto dec = parse_detokenize_request(json::parse(R"({"ids":[97,256,98]})"), {}, 257);
  EXPECT_EQ(detokenize_response(dec, tok), json({"ab"}));  // skip_special_tokens defaults to true
  dec = parse_detokenize_request(json::parse(R"({"ids":[[97,256],[98]],"skip_special_tokens":false})"), {}, 257);
  EXPECT_EQ(detokenize_response(dec, tok), json({"a<s>", "b"}));
}

TEST(ApiTokenize, LimitsAndErrors) {
  RequestLimits limits;
  limits.max_documents = 2;
  const std::vector<std::tuple<std::string, ErrorKind, std::string>> tokenize_cases = {
      {R"([])", ErrorKind::malformed_json, "request must be a JSON object, got array"},
      {R"({})", ErrorKind::missing_field, "`inputs` is required"},
      {R"({"inputs":[]})", ErrorKind::missing_field, "`inputs` cannot be empty"},
      {R"({"inputs":5})", ErrorKind::invalid_field, "`inputs` must be a string or an array of strings, got number"},
      {R"({"inputs":["a",1]})", ErrorKind::invalid_field, "inputs[1] must be a string, got number"},
      {R"({"inputs":["a","b","c"]})", ErrorKind::too_many_documents, "batch size 3 > maximum allowed batch size 2"},
      {R"({"inputs":"a","add_special_tokens":"yes"})", ErrorKind::invalid_field,
       "\"add_special_tokens\" must be a boolean, got string"},
  };
  for (const auto& [body, kind, message] : tokenize_cases) {
    auto e = error_of([&] { parse_tokenize_request(json::parse(body), limits); });
    EXPECT_EQ(e.first, kind) << body;
    EXPECT_EQ(e.second, message) << body;
  }
  const std::vector<std::tuple<std::string, ErrorKind, std::string>> detokenize_cases = {
      {R"({"ids":null})", ErrorKind::missing_field, "`ids` is required"},
      {R"({"ids":[]})", ErrorKind::missing_field, "`ids` cannot be empty"},
      {R"({"ids":"1 2"})", ErrorKind::invalid_field, "`ids` must be an array of token ids or of arrays of them, got string"},
      {R"({"ids":[1,"a"]})", ErrorKind::invalid_field, "ids[0][1] must be a token id, got string"},
      {R"({"ids":[[1],2]})", ErrorKind::invalid_field, "ids[1] must be an array of token ids, got number"},
      {R"({"ids":[1,257]})", ErrorKind::invalid_field, "ids[0][1] = 257 is not a token id (vocabulary size 257)"},
      {R"({"ids":[-1]})", ErrorKind::invalid_field, "ids[0][0] = -1 is not a token id (vocabulary size 257)"},
      {R"({"ids":[[1],[2],[3]]})", ErrorKind::too_many_documents, "batch size 3 > maximum allowed batch size 2"},
  };
  for (const auto& [body, kind, message] : detokenize_cases) {
    auto e = error_of([&] { parse_detokenize_request(json::parse(body), limits, 257); });
    EXPECT_EQ(e.first, kind) << body;
    EXPECT_EQ(e.second, message) << body;
  }
  ByteTokens failing;
  failing.fail = true;
  auto e = error_of([&] { tokenize_response(parse_tokenize_request(json::parse(R"({"inputs":"a"})"), {}), failing); });
  EXPECT_EQ(e.first, ErrorKind::tokenizer);
  EXPECT_EQ(e.second, "tokenizer error: cannot tokenize");
  EXPECT_STREQ(tei_error_type(e.first), "Tokenizer");
}

}  // namespace
}  // namespace lastrank::api
