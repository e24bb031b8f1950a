// Client dialects through the real HttpServer and the fake engine (docs/server.md): llama.cpp's
// route aliases, OpenAI's /v1/models, TEI's error statuses and /tokenize + /detokenize, vLLM's
// top_n 0 and max_tokens_per_query, --scores unit, --public-metrics, CORS, and health while the
// model loads (EngineSlot). The rules themselves are unit-tested in tests/unit/api_dialects_test.cpp.
#include <gtest/gtest.h>
#include <httplib.h>

#include <set>
#include <string>
#include <thread>

#include "core/error.h"
#include "fake_server_test.h"
#include "server/cors.h"
#include "server/engine_slot.h"
#include "server/http_server.h"

namespace lastrank::server {
namespace {

using nlohmann::json;
using testing::FakeEngine;

class DialectTest : public testing::FakeServerTest {
 protected:
  httplib::Client client() {
    httplib::Client c("127.0.0.1", port_);
    c.set_read_timeout(20, 0);
    return c;
  }
  httplib::Result post(const std::string& path, const std::string& body, httplib::Headers h = {}) {
    return client().Post(path.c_str(), h, body, "application/json");
  }
  httplib::Result get(const std::string& path, httplib::Headers h = {}) { return client().Get(path.c_str(), h); }

};

TEST_F(DialectTest, LlamaCppAliasesAndModelsList) {
  start();
  for (const char* path : {"/reranking", "/v1/reranking"}) {
    auto tei = post(path, R"({"query": "b", "texts": ["a", "b"]})");
    ASSERT_TRUE(tei && tei->status == 200) << path;
    EXPECT_TRUE(json::parse(tei->body).is_array()) << path;  // TEI's bare array
    auto jina = post(path, R"({"query": "b", "documents": ["a", "b"], "top_n": 1})");
    ASSERT_TRUE(jina && jina->status == 200) << path;
    EXPECT_EQ(json::parse(jina->body)["results"].size(), 1u) << path;
  }
  auto models = get("/v1/models");
  ASSERT_TRUE(models && models->status == 200);
  const json m = json::parse(models->body);
  EXPECT_EQ(m["object"], "list");
  ASSERT_EQ(m["data"].size(), 1u);
  EXPECT_EQ(m["data"][0]["id"], "fake-reranker");
  EXPECT_EQ(m["data"][0]["object"], "model");
  EXPECT_GT(m["data"][0]["created"].get<int64_t>(), 1700000000);
}

TEST_F(DialectTest, VllmTopNZeroAndMaxTokensPerQuery) {
  start();
  for (const char* path : {"/v1/rerank", "/v2/rerank", "/rerank", "/reranking"}) {
    auto all = post(path, R"({"query": "b c", "documents": ["a", "b", "c"], "top_n": 0})");
    ASSERT_TRUE(all && all->status == 200) << path << " " << (all ? all->body : "");
    EXPECT_EQ(json::parse(all->body)["results"].size(), 3u) << path;
    // The fake engine counts query words: max_tokens_per_query 1 drops "c".
    auto cut = post(path, R"({"query": "b c", "documents": ["a"], "max_tokens_per_query": 1})");
    ASSERT_TRUE(cut && cut->status == 200) << path;
    EXPECT_EQ(json::parse(cut->body)["usage"]["total_tokens"], 2) << path;
  }
}

TEST_F(DialectTest, TeiErrorTypesAndStatuses) {
  ServerOptions o;
  o.limits.max_documents = 2;
  start(o);
  struct Case {
    const char* name;
    const char* path;
    std::string body;
    int status;
    const char* type;
  };
  const std::vector<Case> cases = {
      {"empty texts", "/rerank", R"({"query": "q", "texts": []})", 400, "Empty"},
      {"too many texts", "/rerank", R"({"query": "q", "texts": ["a", "b", "c"]})", 413, "Validation"},
      {"number text", "/reranking", R"({"query": "q", "texts": [1]})", 422, "Validation"},
      {"nan score", "/rerank", R"({"query": "nan-score", "texts": ["a"]})", 424, "Backend"},
      {"tokenize empty", "/tokenize", R"({"inputs": []})", 400, "Empty"},
      {"tokenize batch", "/tokenize", R"({"inputs": ["a", "b", "c"]})", 413, "Validation"},
      {"detokenize bad id", "/detokenize", R"({"ids": [1, 99999]})", 422, "Validation"},
      {"tokenize not json", "/tokenize", R"({"inputs": )", 400, "Validation"},
  };
  for (const auto& c : cases) {
    auto r = post(c.path, c.body);
    ASSERT_TRUE(r) << c.name;
    EXPECT_EQ(r->status, c.status) << c.name << ": " << r->body;
    const json j = json::parse(r->body, nullptr, false);
    EXPECT_EQ(j.value("error_type", ""), c.type) << c.name << ": " << r->body;
    EXPECT_TRUE(j.contains("error") && j["error"].is_string()) << c.name;
  }
  // The Jina shape and status for the same engine failure.
  auto jina = post("/rerank", R"({"query": "nan-score", "documents": ["a"]})");
  ASSERT_TRUE(jina);
  EXPECT_EQ(jina->status, 500);
  EXPECT_EQ(json::parse(jina->body)["error"]["type"], "server_error");
}

TEST_F(DialectTest, TokenizeAndDetokenize) {
  ServerOptions o;
  o.api_key = "k";
  start(o);
  const httplib::Headers auth = {{"Authorization", "Bearer k"}};
  auto t = post("/tokenize", R"({"inputs": ["a<s>", "b"], "add_special_tokens": true})", auth);
  ASSERT_TRUE(t && t->status == 200) << (t ? t->body : "");
  EXPECT_EQ(json::parse(t->body), json::parse(R"([[{"id":97,"text":"a","special":false,"start":0,"stop":1},
                                                   {"id":256,"text":"<s>","special":true,"start":null,"stop":null}],
                                                  [{"id":98,"text":"b","special":false,"start":0,"stop":1}]])"));
  for (const char* path : {"/detokenize", "/decode"}) {
    auto d = post(path, R"({"ids": [[97, 256], [98]]})", auth);
    ASSERT_TRUE(d && d->status == 200) << path;
    EXPECT_EQ(json::parse(d->body), json({"a", "b"})) << path;
  }
  auto kept = post("/detokenize", R"({"ids": [97, 256], "skip_special_tokens": false})", auth);
  ASSERT_TRUE(kept && kept->status == 200);
  EXPECT_EQ(json::parse(kept->body), json({"a<s>"}));
  auto no_key = post("/tokenize", R"({"inputs": "a"})");
  ASSERT_TRUE(no_key);
  EXPECT_EQ(no_key->status, 401);
}

TEST_F(DialectTest, UnitScoresOnEveryRoute) {
  ServerOptions o;
  o.scores = api::ScoreScale::unit;
  start(o);
  // Fake scores for query "b c": "a b" 0.5, "b c" 1, "x" 0 -> unit 0.75, 1, 0.5.
  auto v1 = post("/v1/rerank", R"({"query": "b c", "documents": ["a b", "b c", "x"]})");
  ASSERT_TRUE(v1 && v1->status == 200);
  const json r = json::parse(v1->body)["results"];
  EXPECT_EQ(r[0]["index"], 1);
  EXPECT_DOUBLE_EQ(r[0]["relevance_score"].get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(r[1]["relevance_score"].get<double>(), 0.75);
  EXPECT_DOUBLE_EQ(r[2]["relevance_score"].get<double>(), 0.5);
  auto tei = post("/rerank", R"({"query": "b c", "texts": ["x"]})");
  ASSERT_TRUE(tei && tei->status == 200);
  EXPECT_DOUBLE_EQ(json::parse(tei->body)[0]["score"].get<double>(), 0.5);
  auto info = get("/info");
  ASSERT_TRUE(info && info->status == 200);
  EXPECT_EQ(json::parse(info->body)["scores"], "unit");
}

TEST_F(DialectTest, PublicMetricsLeaveOtherRoutesBehindTheKey) {
  ServerOptions o;
  o.api_key = "k";
  o.public_metrics = true;
  start(o);
  auto m = get("/metrics");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->status, 200);
  EXPECT_NE(m->body.find("lastrank_requests_total"), std::string::npos);
  for (const char* path : {"/info", "/openapi.json", "/v1/models"}) {
    auto r = get(path);
    ASSERT_TRUE(r) << path;
    EXPECT_EQ(r->status, 401) << path;
  }
  EXPECT_EQ(post("/v1/rerank", R"({"query": "q", "documents": ["a"]})")->status, 401);
}

TEST_F(DialectTest, MetricsNeedTheKeyByDefault) {
  ServerOptions o;
  o.api_key = "k";
  start(o);
  EXPECT_EQ(get("/metrics")->status, 401);
  EXPECT_EQ(get("/metrics", {{"Authorization", "Bearer k"}})->status, 200);
}

TEST_F(DialectTest, CorsAllowedDisallowedAndPreflight) {
  ServerOptions o;
  o.api_key = "k";
  o.cors.allowed_origins = {"https://app.example"};
  start(o);
  const std::string body = R"({"query": "q", "documents": ["a"]})";
  auto ok = post("/v1/rerank", body, {{"Authorization", "Bearer k"}, {"Origin", "https://app.example"}});
  ASSERT_TRUE(ok && ok->status == 200);
  EXPECT_EQ(ok->get_header_value("Access-Control-Allow-Origin"), "https://app.example");
  EXPECT_EQ(ok->get_header_value("Vary"), "Origin");
  EXPECT_NE(ok->get_header_value("Access-Control-Expose-Headers").find("X-Request-Id"), std::string::npos);
  auto denied = post("/v1/rerank", body, {{"Authorization", "Bearer k"}, {"Origin", "https://evil.example"}});
  ASSERT_TRUE(denied && denied->status == 200);  // the server answers; the browser blocks it
  EXPECT_FALSE(denied->has_header("Access-Control-Allow-Origin"));
  EXPECT_EQ(denied->get_header_value("Vary"), "Origin");
  auto unauth = post("/v1/rerank", body, {{"Origin", "https://app.example"}});  // errors carry CORS too
  ASSERT_TRUE(unauth);
  EXPECT_EQ(unauth->status, 401);
  EXPECT_EQ(unauth->get_header_value("Access-Control-Allow-Origin"), "https://app.example");

  const httplib::Headers preflight = {{"Origin", "https://app.example"}, {"Access-Control-Request-Method", "POST"},
                                      {"Access-Control-Request-Headers", "authorization, content-type"}};
  auto pre = client().Options("/v1/rerank", preflight);  // no key: browsers send none on preflights
  ASSERT_TRUE(pre);
  EXPECT_EQ(pre->status, 204);
  EXPECT_EQ(pre->get_header_value("Access-Control-Allow-Origin"), "https://app.example");
  EXPECT_EQ(pre->get_header_value("Access-Control-Allow-Methods"), "GET, POST, OPTIONS");
  EXPECT_NE(pre->get_header_value("Access-Control-Allow-Headers").find("Authorization"), std::string::npos);
  EXPECT_NE(pre->get_header_value("Access-Control-Allow-Headers").find("Content-Type"), std::string::npos);
  EXPECT_EQ(pre->get_header_value("Access-Control-Max-Age"), "600");
  auto pre_denied = client().Options("/v1/rerank", {{"Origin", "https://evil.example"}, {"Access-Control-Request-Method", "POST"}});
  ASSERT_TRUE(pre_denied);
  EXPECT_FALSE(pre_denied->has_header("Access-Control-Allow-Origin"));
  EXPECT_FALSE(pre_denied->has_header("Access-Control-Allow-Methods"));
}

TEST_F(DialectTest, CorsWildcardAndOff) {
  ServerOptions o;
  o.cors.allowed_origins = {"*"};
  start(o);
  auto r = get("/health", {{"Origin", "http://localhost:3000"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->get_header_value("Access-Control-Allow-Origin"), "*");
  EXPECT_FALSE(get("/health")->has_header("Access-Control-Allow-Origin"));  // no Origin, no CORS
}

TEST_F(DialectTest, InfoAndOpenApiListEveryRoute) {
  start();
  const json info = json::parse(get("/info")->body);
  const json api = json::parse(get("/openapi.json")->body);
  std::set<std::string> routes;
  for (const auto& r : info["routes"]) routes.insert(r.get<std::string>());
  for (const char* want : {"POST /reranking", "POST /v1/reranking", "POST /tokenize", "POST /detokenize", "POST /decode",
                           "GET /v1/models", "GET /ready", "GET /live", "GET /health"})
    EXPECT_TRUE(routes.count(want)) << want;
  for (const std::string& r : routes) {
    const std::string path = r.substr(r.find(' ') + 1);
    EXPECT_TRUE(api["paths"].contains(path)) << path;
  }
  EXPECT_EQ(api["components"]["schemas"]["RerankRequest"]["properties"]["top_n"]["minimum"], 0);
}

TEST(CorsPolicy, OriginsAndHeaders) {
  EXPECT_NO_THROW(check_cors_origin("*"));
  EXPECT_NO_THROW(check_cors_origin("http://localhost:3000"));
  EXPECT_NO_THROW(check_cors_origin("https://app.example"));
  for (const char* bad : {"app.example", "https://app.example/", "https://a.example/path", "https://", "ftp://x", ""})
    EXPECT_THROW(check_cors_origin(bad), Error) << bad;
  EXPECT_TRUE(cors_headers({}, "https://app.example", false).empty());  // CORS off: nothing, not even Vary
  const HeaderList h = cors_headers({{"https://app.example"}}, "https://APP.example", true);
  ASSERT_EQ(h.size(), 1u);  // origins compare exactly
  EXPECT_EQ(h[0], (std::pair<std::string, std::string>{"Vary", "Origin"}));
}

TEST_F(DialectTest, HealthIsUnavailableUntilTheEngineIsSet) {
  EngineSlot slot;
  start({}, &slot);
  auto live = get("/live");
  ASSERT_TRUE(live);
  EXPECT_EQ(live->status, 200);
  for (const char* path : {"/health", "/ready", "/info"}) {
    auto r = get(path);
    ASSERT_TRUE(r) << path;
    EXPECT_EQ(r->status, 503) << path;
    EXPECT_EQ(r->get_header_value("Retry-After"), "5") << path;
    EXPECT_NE(r->body.find("model is loading"), std::string::npos) << path << ": " << r->body;
  }
  auto early = post("/v1/rerank", R"({"query": "q", "documents": ["a"]})");
  ASSERT_TRUE(early);
  EXPECT_EQ(early->status, 503);
  auto early_tei = post("/rerank", R"({"query": "q", "texts": ["a"]})");
  ASSERT_TRUE(early_tei);
  EXPECT_EQ(json::parse(early_tei->body)["error_type"], "Unhealthy");

  auto engine = std::make_unique<FakeEngine>();
  warm_up(*engine);
  slot.set(std::move(engine));
  for (const char* path : {"/health", "/ready", "/live", "/info"}) {
    auto r = get(path);
    ASSERT_TRUE(r) << path;
    EXPECT_EQ(r->status, 200) << path << ": " << r->body;
  }
  auto later = post("/v1/rerank", R"({"query": "q", "documents": ["a"]})");
  ASSERT_TRUE(later);
  EXPECT_EQ(later->status, 200) << later->body;
}

}  // namespace
}  // namespace lastrank::server
