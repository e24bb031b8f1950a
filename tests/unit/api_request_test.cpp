// The request module (src/api) without a model: JSON parsing of each dialect, the value checks
// shared with validate_rerank_args (same verdict and message for the same values), integral
// floats, clamping, the truncation policy over a fake tokenizer, and the response shapes.
// (The same bad inputs through the CLI, --jsonl and the server: tests/server/api_consistency_test.cpp.)
#include <gtest/gtest.h>

#include <cctype>
#include <sstream>

#include "api/request.h"
#include "api/response.h"
#include "api/truncation.h"
#include "word_tokens.h"
#include "api_test_helpers.h"

namespace lastrank::api {
namespace {

using nlohmann::json;

TEST(ApiRequest, JinaStringsObjectsAndOptions) {
  auto r = parse(R"({"model":"m","query":"q","documents":["a",{"text":"b","id":7}],"top_n":1,
                     "return_documents":false,"return_embeddings":true,"instruction":"i","extra":1})");
  EXPECT_EQ(r.model, "m");
  EXPECT_EQ(r.request.query, "q");
  EXPECT_EQ(r.request.documents, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(r.documents[1]["id"], 7);  // echoed whole
  EXPECT_EQ(*r.request.top_n, 1u);
  EXPECT_FALSE(r.return_documents);
  EXPECT_TRUE(r.request.return_embeddings);
  EXPECT_EQ(*r.request.instruction, "i");
  ASSERT_EQ(r.warnings.size(), 1u);
  EXPECT_NE(r.warnings[0].find("extra"), std::string::npos);
  EXPECT_TRUE(parse(R"({"query":"q","documents":["a"]})").return_documents);  // Jina default
  EXPECT_FALSE(parse(R"({"query":"q","documents":["a"]})", Dialect::cohere_v2).return_documents);
  EXPECT_EQ(parse(R"({"query":{"text":"q"},"documents":["a"]})").request.query, "q");
}

TEST(ApiRequest, IntegralNumbersAreIntegersAndTopNClamps) {
  // JSON does not tell 3 from 3.0 (Python's json.dumps(3.0) writes "3.0"): both mean 3.
  EXPECT_EQ(*parse(R"({"query":"q","documents":["a","b","c","d"],"top_n":3.0})").request.top_n, 3u);
  EXPECT_EQ(*parse(R"({"query":"q","documents":["a","b","c","d"],"top_n":3})").request.top_n, 3u);
  EXPECT_EQ(*parse(R"({"query":"q","documents":["a","b"],"top_n":1e300})").request.top_n, 2u);
  EXPECT_EQ(*parse(R"({"query":"q","documents":["a","b"],"top_n":18446744073709551615})").request.top_n, 2u);
  EXPECT_EQ(*parse(R"({"query":"q","documents":["a"],"max_tokens_per_doc":4.0})").max_tokens_per_doc, 4u);
}

TEST(ApiRequest, BadJsonAndTypesNameTheFieldAndWhatWasFound) {
  struct Case {
    std::string body;
    ErrorKind kind;
    std::string message;  // exact
  };
  const std::vector<Case> cases = {
      {R"([])", ErrorKind::malformed_json, "request must be a JSON object, got array"},
      {R"({"documents":["a"]})", ErrorKind::missing_field, "\"query\" is required"},
      {R"({"query":7,"documents":["a"]})", ErrorKind::invalid_field, "\"query\" must be a string, got number"},
      {R"({"query":"q"})", ErrorKind::missing_field, "\"documents\" is required"},
      {R"({"query":"q","documents":"a"})", ErrorKind::invalid_field, "\"documents\" must be an array, got string"},
      {R"({"query":"q","documents":["a",3]})", ErrorKind::invalid_field,
       "documents[1] must be a string or an object, got number"},
      {R"({"query":"q","documents":[{"id":1}]})", ErrorKind::invalid_field, "documents[0] must have a string \"text\" field"},
      {R"({"query":"q","documents":["a"],"top_n":1.5})", ErrorKind::invalid_field,
       "\"top_n\" must be a non-negative integer (0 = all documents), got 1.5"},
      {R"({"query":"q","documents":["a"],"top_n":"3"})", ErrorKind::invalid_field,
       "\"top_n\" must be a non-negative integer (0 = all documents), got string"},
      {R"({"query":"q","documents":["a"],"top_n":true})", ErrorKind::invalid_field,
       "\"top_n\" must be a non-negative integer (0 = all documents), got boolean"},
      {R"({"query":"q","documents":["a"],"top_n":-1.0})", ErrorKind::invalid_field,
       "\"top_n\" must be a non-negative integer (0 = all documents), got -1"},
      {R"({"query":"q","documents":["a"],"return_documents":"yes"})", ErrorKind::invalid_field,
       "\"return_documents\" must be a boolean, got string"},
      {R"({"query":"q","documents":["a"],"instruction":5})", ErrorKind::invalid_field, "\"instruction\" must be a string, got number"},
      {R"({"query":"q","documents":["a"],"model":5})", ErrorKind::invalid_field, "\"model\" must be a string, got number"},
      {R"({"query":"q","texts":[1]})", ErrorKind::missing_field, "\"documents\" is required"},  // "texts" is TEI's
  };
  for (const auto& c : cases) {
    auto [kind, msg] = error_of([&] { parse(c.body); });
    EXPECT_EQ(msg, c.message) << c.body;
    EXPECT_EQ(kind, c.kind) << c.body;
  }
  auto [kind, msg] = error_of([] { parse(R"({"query": "q", "documents": [)"); });
  EXPECT_EQ(kind, ErrorKind::malformed_json);
  EXPECT_EQ(msg.rfind("request is not valid JSON: ", 0), 0u) << msg;
  auto [dkind, dmsg] = error_of([] { parse(std::string(100, '[')); });
  EXPECT_EQ(dmsg, "JSON nested deeper than 32 levels");
}

// The value checks: the same values as JSON and as split arguments give the same error.
TEST(ApiRequest, ValueChecksAreSharedWithTheDirectFunction) {
  struct Case {
    std::string body;
    RerankArgs args;
    ErrorKind kind;
    std::string message;
  };
  auto args = [](std::string q, std::vector<std::string> d) {
    RerankArgs a;
    a.query = std::move(q);
    a.documents = std::move(d);
    return a;
  };
  auto with = [&](RerankArgs a, auto&& f) {
    f(a);
    return a;
  };
  RequestLimits limits;
  limits.max_documents = 3;
  const std::vector<Case> cases = {
      {R"({"query":"","documents":["a"]})", args("", {"a"}), ErrorKind::missing_field, "\"query\" must not be empty"},
      {R"({"query":"q","documents":[]})", args("q", {}), ErrorKind::missing_field, "\"documents\" must not be empty"},
      {R"({"query":"q","documents":["a","b","c","d"]})", args("q", {"a", "b", "c", "d"}), ErrorKind::too_many_documents,
       "too many documents: 4 > 3 (--max-documents)"},
      {R"({"query":"q","documents":["a"],"top_n":-1})", with(args("q", {"a"}), [](auto& a) { a.top_n = -1; }),
       ErrorKind::invalid_field, "\"top_n\" must be a non-negative integer (0 = all documents), got -1"},
      {R"({"query":"q","documents":["a"],"instruction":"x<|embed_token|>"})",
       with(args("q", {"a"}), [](auto& a) { a.instruction = "x<|embed_token|>"; }), ErrorKind::invalid_field,
       "\"instruction\" must not contain <|embed_token|> or <|rerank_token|>"},
      {R"({"query":"q","documents":["a"],"max_tokens_per_query":0})",
       with(args("q", {"a"}), [](auto& a) { a.max_tokens_per_query = 0; }), ErrorKind::invalid_field,
       "\"max_tokens_per_query\" must be a positive integer, got 0"},
      {R"({"query":"q","documents":["a"],"max_tokens_per_doc":-5})",
       with(args("q", {"a"}), [](auto& a) { a.max_tokens_per_doc = -5; }), ErrorKind::invalid_field,
       "\"max_tokens_per_doc\" must be a positive integer, got -5"},
      // Two faults: the first in the documented order wins on both paths.
      {R"({"query":"","documents":[],"top_n":0})", with(args("", {}), [](auto& a) { a.top_n = 0; }),
       ErrorKind::missing_field, "\"query\" must not be empty"},
  };
  for (const auto& c : cases) {
    auto from_json = error_of([&] { parse(c.body, Dialect::jina_v1, limits); });
    auto from_args = error_of([&] { validate_rerank_args(c.args, limits); });
    EXPECT_EQ(from_json.second, c.message) << c.body;
    EXPECT_EQ(from_json.first, c.kind) << c.body;
    EXPECT_EQ(from_args.second, c.message) << c.body;
    EXPECT_EQ(from_args.first, c.kind) << c.body;
  }
}

TEST(ApiRequest, DirectFunctionRejectsInvalidUtf8) {
  // JSON text cannot carry invalid UTF-8 (it fails to parse); split arguments from C can.
  RerankArgs a;
  a.query = "q";
  a.documents = {"ok", "a\xff"};
  EXPECT_EQ(error_of([&] { validate_rerank_args(a); }).second, "documents[1] is not valid UTF-8 (byte 1)");
  a.documents = {"ok"};
  a.instruction = "\xc3";
  EXPECT_EQ(error_of([&] { validate_rerank_args(a); }).second, "\"instruction\" is not valid UTF-8 (byte 0)");
  a.query = "\xe2\x82";
  EXPECT_EQ(error_of([&] { validate_rerank_args(a); }).first, ErrorKind::invalid_field);
}

TEST(ApiRequest, DirectFunctionMatchesTheJsonPathOnGoodInput) {
  RerankArgs a;
  a.query = "q";
  a.documents = {"a", "b", "c"};
  a.top_n = 10;
  a.instruction = "be strict";
  a.return_embeddings = true;
  a.max_tokens_per_doc = 7;
  ApiRequest direct = validate_rerank_args(a);
  ApiRequest parsed = parse(R"({"query":"q","documents":["a","b","c"],"top_n":10,"instruction":"be strict",
                                "return_embeddings":true,"max_tokens_per_doc":7})");
  EXPECT_EQ(direct.request.query, parsed.request.query);
  EXPECT_EQ(direct.request.documents, parsed.request.documents);
  EXPECT_EQ(direct.request.top_n, parsed.request.top_n);
  EXPECT_EQ(*direct.request.top_n, 3u);
  EXPECT_EQ(direct.request.instruction, parsed.request.instruction);
  EXPECT_EQ(direct.request.return_embeddings, parsed.request.return_embeddings);
  EXPECT_EQ(direct.max_tokens_per_doc, parsed.max_tokens_per_doc);
  EXPECT_EQ(direct.return_documents, parsed.return_documents);
  EXPECT_EQ(direct.documents, parsed.documents);
}

TEST(ApiRequest, TeiAndCohereFields) {
  auto t = parse(R"({"query":"q","texts":["a","b"],"truncate":false,"truncation_direction":"left","return_text":true})",
                 Dialect::tei);
  EXPECT_EQ(t.request.documents.size(), 2u);
  EXPECT_EQ(t.truncate, std::optional<bool>(false));
  EXPECT_EQ(t.truncation_side, TruncationSide::left);
  EXPECT_TRUE(t.return_documents);
  EXPECT_EQ(error_of([] { parse(R"({"query":"q","texts":[]})", Dialect::tei); }).second, "`texts` cannot be empty");
  auto c = parse(R"({"query":"q","documents":[{"title":"t","body":"b"}],"rank_fields":["title","body"],"priority":-3})",
                 Dialect::cohere_v2);
  EXPECT_EQ(c.request.documents[0], "title: t\nbody: b");
  EXPECT_EQ(c.priority, -3);
  EXPECT_EQ(error_of([] { parse(R"({"query":"q","documents":["a"],"priority":4294967296})"); }).second,
            "\"priority\" must be a 32-bit integer");
}

// Whitespace "tokens", as the server tests' fake engine.
class WordTokens : public TextTokens {
 public:
  static std::vector<std::string> words(std::string_view text) {
    std::vector<std::string> out;
    std::istringstream is{std::string(text)};
    for (std::string w; is >> w;) out.push_back(w);
    return out;
  }
  size_t count_tokens(std::string_view text, size_t limit) const override { return std::min(words(text).size(), limit + 1); }
  std::string truncate(std::string_view text, size_t max_tokens, TruncationSide side) const override {
    auto w = words(text);
    if (w.size() < max_tokens) return std::string(text);
    const size_t skip = side == TruncationSide::left ? w.size() - max_tokens : 0;
    std::string out;
    for (size_t i = 0; i < max_tokens; ++i) out += (i ? " " : "") + w[skip + i];
    return out;
  }
  // Each whitespace word is one token; every token ends a piece.
  std::vector<TokenEnd> token_ends(std::string_view text, size_t max_tokens) const override {
    return whitespace_token_ends(text, max_tokens);
  }
};

TEST(ApiTruncation, LowerLimitsLeftSideAndRejectMode) {
  const WordTokens tokens;
  const EngineTokenLimits engine{4, 5};
  auto req = parse(R"({"query":"q1 q2 q3 q4 q5","documents":["a b c d e f g"],"max_tokens_per_doc":2,"max_tokens_per_query":3})");
  apply_truncation(req, tokens, engine, {});
  EXPECT_EQ(req.request.query, "q1 q2 q3");
  EXPECT_EQ(req.request.documents[0], "a b");
  auto plain = parse(R"({"query":"q1 q2 q3 q4 q5","documents":["a b c d e f g"]})");
  apply_truncation(plain, tokens, engine, {});  // the engine's own limits are left to the engine
  EXPECT_EQ(plain.request.query, "q1 q2 q3 q4 q5");
  auto left = parse(R"({"query":"q","texts":["a b c d e f g"],"truncation_direction":"left"})", Dialect::tei);
  apply_truncation(left, tokens, engine, {});
  EXPECT_EQ(left.request.documents[0], "c d e f g");
  RequestLimits reject;
  reject.auto_truncate = false;
  auto strict = parse(R"({"query":"q","documents":["a","b c d e f g"]})");
  auto [kind, msg] = error_of([&] { apply_truncation(strict, tokens, engine, reject); });
  EXPECT_EQ(kind, ErrorKind::input_too_long);
  EXPECT_EQ(msg, "documents[1] must have at most 5 tokens (truncation is off)");
}

TEST(ApiResponse, JinaCohereAndTeiShapes) {
  RerankResponse resp;
  resp.total_tokens = 42;
  resp.results = {{1, 0.75f, {}}, {0, 0.25f, {}}};
  auto req = parse(R"({"query":"q","documents":["a",{"text":"b","id":9}]})");
  json j = make_rerank_response(req, resp, "m", "");
  EXPECT_FALSE(j.contains("id"));  // the CLI has no request id
  EXPECT_EQ(j["model"], "m");
  EXPECT_EQ(j["usage"]["total_tokens"], 42);
  EXPECT_EQ(j["results"][0]["document"], json({{"text", "b"}, {"id", 9}}));
  EXPECT_EQ(j["meta"]["api_version"]["version"], "1");
  EXPECT_EQ(make_rerank_response(req, resp, "m", "rid")["id"], "rid");
  auto v2 = parse(R"({"query":"q","documents":["a","b"]})", Dialect::cohere_v2);
  EXPECT_FALSE(make_rerank_response(v2, resp, "m", "")["results"][0].contains("document"));  // omitted, not null
  auto tei = parse(R"({"query":"q","texts":["a","b"],"return_text":true})", Dialect::tei);
  EXPECT_EQ(make_rerank_response(tei, resp, "m", "")[0], json({{"index", 1}, {"score", 0.75}, {"text", "b"}}));
  resp.results[0].relevance_score = NAN;
  EXPECT_EQ(error_of([&] { make_rerank_response(req, resp, "m", ""); }).first, ErrorKind::internal);
}

}  // namespace
}  // namespace lastrank::api
