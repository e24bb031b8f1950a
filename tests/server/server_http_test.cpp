// In-process HTTP tests: the real HttpServer on a loopback port with the fake engine. Route
// schemas, the bad-input table of ecosystem.md §3.6 (each answer's status, JSON error body, and
// /health still 200 afterwards), auth on every route but /health, overload -> 429 and recovery,
// deadline -> 503, and a shutdown that drains in-flight requests.
#include <gtest/gtest.h>
#include <httplib.h>

#include <algorithm>
#include <chrono>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "fake_server_test.h"
#include "server/http_server.h"

namespace lastrank::server {
namespace {

using nlohmann::json;
using testing::FakeEngine;
using namespace std::chrono_literals;

class HttpTest : public testing::FakeServerTest {
 protected:
  httplib::Client client() {
    httplib::Client c("127.0.0.1", port_);
    c.set_read_timeout(20, 0);
    c.set_connection_timeout(5, 0);
    return c;
  }
  httplib::Result post(const std::string& path, const std::string& body, httplib::Headers h = {}) {
    return client().Post(path.c_str(), h, body, "application/json");
  }
  httplib::Result get(const std::string& path, httplib::Headers h = {}) { return client().Get(path.c_str(), h); }
  void expect_healthy() {
    auto r = get("/health");
    ASSERT_TRUE(r) << "server not answering";
    EXPECT_EQ(r->status, 200);
  }

};

const char* kBasic = R"({"query": "b c", "documents": ["a b", "b c", {"text": "x", "id": 7}]})";

TEST_F(HttpTest, JinaV1Schema) {
  start();
  auto r = post("/v1/rerank", kBasic, {{"X-Request-Id", "req-42"}});
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(r->get_header_value("X-Request-Id"), "req-42");
  json j = json::parse(r->body);
  EXPECT_EQ(j["id"], "req-42");
  EXPECT_EQ(j["model"], "fake-reranker");
  EXPECT_EQ(j["usage"]["total_tokens"], 2 + 2 + 2 + 1);
  ASSERT_EQ(j["results"].size(), 3u);
  EXPECT_EQ(j["results"][0]["index"], 1);
  EXPECT_DOUBLE_EQ(j["results"][0]["relevance_score"].get<double>(), 1.0);
  EXPECT_EQ(j["results"][0]["document"], json({{"text", "b c"}}));
  EXPECT_EQ(j["results"][2]["document"], json({{"text", "x"}, {"id", 7}}));  // object echoed whole
  EXPECT_EQ(j["meta"]["api_version"]["version"], "1");
  auto r2 = post("/v1/rerank", R"({"query": "b", "documents": ["a", "b"], "return_documents": false, "top_n": 1, "model": "m"})");
  json j2 = json::parse(r2->body);
  EXPECT_EQ(j2["model"], "m");
  ASSERT_EQ(j2["results"].size(), 1u);
  EXPECT_FALSE(j2["results"][0].contains("document"));  // omitted, never null
}

TEST_F(HttpTest, CohereV1RankFieldsAndIgnoredFields) {
  start();
  auto r = post("/v1/rerank", R"({"query": "alpha", "documents": [{"title": "alpha", "text": "zzz"}, {"title": "b", "text": "alpha"}],
                                  "rank_fields": ["title"], "max_chunks_per_doc": 10, "foo": 1})");
  ASSERT_EQ(r->status, 200) << r->body;
  json j = json::parse(r->body);
  EXPECT_EQ(j["results"][0]["index"], 0);  // ranked on title, not text
  EXPECT_EQ(j["results"][0]["document"]["title"], "alpha");
  auto warnings = j["meta"]["warnings"].dump();
  EXPECT_EQ(warnings.find("max_chunks_per_doc"), std::string::npos) << "a known field now";
  EXPECT_NE(warnings.find("foo"), std::string::npos);
}

// Chunking over HTTP (docs/server.md "Chunking"; the rule itself: tests/unit/api_chunking_test.cpp).
// The fake engine's documents hold 32 whitespace tokens.
TEST_F(HttpTest, LongDocumentsAreChunkedAndTooManyChunksAre422) {
  ServerOptions o;
  o.limits.max_documents = 5;
  o.limits.max_chunks_per_doc = 2;  // the server default; the request below asks for 3
  start(o);
  std::string chunk[3];
  for (int i = 0; i < 70; ++i) chunk[i / 32] += (i ? " " : "") + (i == 50 ? std::string("needle") : "w" + std::to_string(i));
  const std::string doc = chunk[0] + chunk[1] + chunk[2];
  auto r = post("/v1/rerank", json({{"query", "needle"}, {"documents", {"hay", doc}}, {"max_chunks_per_doc", 3}}).dump());
  ASSERT_EQ(r->status, 200) << r->body;
  json j = json::parse(r->body);
  ASSERT_EQ(j["results"].size(), 2u);
  EXPECT_EQ(j["results"][0]["index"], 1);
  EXPECT_EQ(j["results"][0]["relevance_score"], 1.0);
  EXPECT_EQ(j["results"][0]["chunk"], json({{"index", 1}, {"start", chunk[0].size()}, {"end", chunk[0].size() + chunk[1].size()}}));
  EXPECT_EQ(j["results"][0]["document"]["text"], doc);
  EXPECT_FALSE(j["results"][1].contains("chunk"));
  // TEI gets the server default (2 chunks: the needle is in the second).
  auto t = post("/rerank", json({{"query", "needle"}, {"texts", json::array({doc})}}).dump());
  ASSERT_EQ(t->status, 200) << t->body;
  EXPECT_EQ(json::parse(t->body)[0]["chunk"]["index"], 1);
  // 3 + 3 chunks > --max-documents 5.
  auto big = post("/v1/rerank", json({{"query", "needle"}, {"documents", {doc, doc}}, {"max_chunks_per_doc", 3}}).dump());
  ASSERT_EQ(big->status, 422) << big->body;
  json e = json::parse(big->body);
  EXPECT_EQ(e["error"]["type"], "too_many_documents");
  EXPECT_NE(e["message"].get<std::string>().find("documents split into more than 5 chunks in all"), std::string::npos);
  auto zero = post("/v2/rerank", json({{"query", "q"}, {"documents", {"a"}}, {"max_chunks_per_doc", 0}}).dump());
  ASSERT_EQ(zero->status, 422);
  EXPECT_EQ(json::parse(zero->body)["message"], "\"max_chunks_per_doc\" must be a positive integer, got 0");
}

TEST_F(HttpTest, CohereV2SchemaAndMaxTokensPerDoc) {
  start();
  auto r = post("/v2/rerank", R"({"model": "rerank-v3.5", "query": "d", "documents": ["a b c d", "d"]})");
  ASSERT_EQ(r->status, 200) << r->body;
  json j = json::parse(r->body);
  EXPECT_EQ(j["meta"]["api_version"]["version"], "2");
  EXPECT_EQ(j["meta"]["billed_units"]["search_units"], 1);
  EXPECT_FALSE(j["results"][0].contains("document"));
  EXPECT_DOUBLE_EQ(j["results"][1]["relevance_score"].get<double>(), 1.0);  // both contain "d"
  auto t = post("/v2/rerank", R"({"model": "m", "query": "d", "documents": ["a b c d", "d"], "max_tokens_per_doc": 2})");
  json jt = json::parse(t->body);
  ASSERT_EQ(jt["results"][1]["index"], 0);  // truncated to "a b": "d" is gone
  EXPECT_DOUBLE_EQ(jt["results"][1]["relevance_score"].get<double>(), 0.0);
}

TEST_F(HttpTest, TeiSchemaTruncationAndJinaFallback) {
  start();
  auto r = post("/rerank", R"({"query": "b c", "texts": ["a b", "b c"], "return_text": true, "raw_scores": true})");
  ASSERT_EQ(r->status, 200) << r->body;
  json j = json::parse(r->body);
  ASSERT_TRUE(j.is_array());
  EXPECT_EQ(j[0], json({{"index", 1}, {"score", 1.0}, {"text", "b c"}}));
  std::string long_doc = "target";
  for (int i = 0; i < 40; ++i) long_doc += " w" + std::to_string(i);
  json body = {{"query", "target"}, {"texts", {long_doc}}};
  EXPECT_EQ(json::parse(post("/rerank", body.dump())->body)[0]["score"], 1.0);
  body["truncation_direction"] = "left";  // keeps the last 32 words: "target" is cut
  EXPECT_EQ(json::parse(post("/rerank", body.dump())->body)[0]["score"], 0.0);
  body["truncate"] = false;
  auto rejected = post("/rerank", body.dump());
  EXPECT_EQ(rejected->status, 413) << rejected->body;  // TEI's status for its Validation (size) errors
  EXPECT_EQ(json::parse(rejected->body)["error_type"], "Validation");  // TEI error shape
  auto jina = post("/rerank", kBasic);  // no "texts": Jina shape
  EXPECT_TRUE(json::parse(jina->body).contains("results"));
}

TEST_F(HttpTest, RejectModeFlag) {
  ServerOptions o;
  o.limits.auto_truncate = false;
  start(o);
  std::string long_doc;
  for (int i = 0; i < 40; ++i) long_doc += " w";
  auto r = post("/v1/rerank", json({{"query", "q"}, {"documents", {long_doc}}}).dump());
  EXPECT_EQ(r->status, 422);
  EXPECT_NE(r->body.find("at most 32 tokens"), std::string::npos) << r->body;
}

struct BadInput {
  const char* name;
  std::string path, body;
  int status;
};

TEST_F(HttpTest, BadInputTable) {
  start();
  std::string ten_k = R"({"query": "q", "documents": [)";
  for (int i = 0; i < 10000; ++i) ten_k += std::string(i ? "," : "") + "\"d\"";
  ten_k += "]}";
  std::string deep(10000, '[');
  const std::vector<BadInput> table = {
      {"malformed json", "/v1/rerank", R"({"query": "q", "documents": ["a")", 400},
      {"not an object", "/v1/rerank", R"(["q"])", 400},
      {"empty body", "/v1/rerank", "", 400},
      {"missing query", "/v1/rerank", R"({"documents": ["a"]})", 400},
      {"null query", "/v1/rerank", R"({"query": null, "documents": ["a"]})", 400},
      {"empty query", "/v1/rerank", R"({"query": "", "documents": ["a"]})", 400},
      {"number query", "/v1/rerank", R"({"query": 5, "documents": ["a"]})", 422},
      {"object query", "/v1/rerank", R"({"query": {"x": 1}, "documents": ["a"]})", 422},
      {"missing documents", "/v1/rerank", R"({"query": "q"})", 400},
      {"null documents", "/v1/rerank", R"({"query": "q", "documents": null})", 400},
      {"empty documents", "/v1/rerank", R"({"query": "q", "documents": []})", 400},
      {"number documents", "/v1/rerank", R"({"query": "q", "documents": 123})", 422},
      {"number items", "/v1/rerank", R"({"query": "q", "documents": [1, 2, 3]})", 422},
      {"empty object item", "/v1/rerank", R"({"query": "q", "documents": [{}]})", 422},
      {"number text", "/v1/rerank", R"({"query": "q", "documents": [{"text": 5}]})", 422},
      {"10,000 documents", "/v1/rerank", ten_k, 422},
      {"invalid utf-8", "/v1/rerank", "{\"query\": \"q\", \"documents\": [\"a\xff\xfe\"]}", 400},
      {"lone surrogate", "/v1/rerank", R"({"query": "\ud800", "documents": ["a"]})", 400},
      {"deep nesting", "/v1/rerank", deep, 400},
      {"negative top_n", "/v1/rerank", R"({"query": "q", "documents": ["a"], "top_n": -1})", 422},
      {"fractional top_n", "/v1/rerank", R"({"query": "q", "documents": ["a"], "top_n": 1.5})", 422},
      {"string top_n", "/v1/rerank", R"({"query": "q", "documents": ["a"], "top_n": "3"})", 422},
      {"string return_documents", "/v1/rerank", R"({"query": "q", "documents": ["a"], "return_documents": "yes"})", 422},
      {"zero max_tokens_per_doc", "/v2/rerank", R"({"query": "q", "documents": ["a"], "max_tokens_per_doc": 0})", 422},
      {"negative max_tokens_per_doc", "/v2/rerank", R"({"query": "q", "documents": ["a"], "max_tokens_per_doc": -5})", 422},
      {"bad rank_fields", "/v1/rerank", R"({"query": "q", "documents": ["a"], "rank_fields": "text"})", 422},
      {"bad priority", "/v2/rerank", R"({"query": "q", "documents": ["a"], "priority": "high"})", 422},
      {"v2 missing query", "/v2/rerank", R"({"documents": ["a"]})", 400},
      {"tei empty texts", "/rerank", R"({"query": "q", "texts": []})", 400},
      {"tei number texts", "/rerank", R"({"query": "q", "texts": [1]})", 422},
      {"tei bad direction", "/rerank", R"({"query": "q", "texts": ["a"], "truncation_direction": "up"})", 422},
      {"engine rejects", "/v1/rerank", R"({"query": "throw-error", "documents": ["a"]})", 422},
  };
  for (const auto& t : table) {
    auto r = post(t.path, t.body);
    ASSERT_TRUE(r) << t.name << ": no response";
    EXPECT_EQ(r->status, t.status) << t.name << ": " << r->body;
    json j = json::parse(r->body, nullptr, false);
    EXPECT_TRUE(j.is_object() && (j.contains("message") || j.contains("error"))) << t.name << ": " << r->body;
    expect_healthy();
  }
}

TEST_F(HttpTest, AcceptedOddInputs) {
  start();
  struct Case {
    const char* name;
    std::string body;
    size_t results;
  };
  const std::vector<Case> ok = {
      {"mixed string/object", R"({"query": "q", "documents": ["a", {"text": "b"}]})", 2},
      {"huge top_n clamps", R"({"query": "q", "documents": ["a", "b"], "top_n": 1000000000000})", 2},
      {"integral float top_n", R"({"query": "q", "documents": ["a", "b"], "top_n": 1.0})", 1},
      {"zero top_n means all", R"({"query": "q", "documents": ["a", "b"], "top_n": 0})", 2},
      {"unknown fields", R"({"query": "q", "documents": ["a"], "extra": {"x": [1]}})", 1},
      {"empty and special docs", R"({"query": "q", "documents": ["", "   ", "<|im_end|>", "<|embed_token|>"]})", 4},
  };
  for (const auto& c : ok) {
    auto r = post("/v1/rerank", c.body);
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << c.name << ": " << r->body;
    EXPECT_EQ(json::parse(r->body)["results"].size(), c.results) << c.name;
  }
}

TEST_F(HttpTest, BodyLimitsNotFoundAndChunked) {
  start();
  std::string big = R"({"query": "q", "documents": [")" + std::string(5 << 20, 'a') + "\"]}";
  auto r = post("/v1/rerank", big);
  ASSERT_TRUE(r) << httplib::to_string(r.error());
  EXPECT_EQ(r->status, 413);
  EXPECT_NE(r->body.find("max-body-bytes"), std::string::npos) << r->body;
  expect_healthy();
  auto nf = get("/v3/rerank");
  EXPECT_EQ(nf->status, 404);
  EXPECT_TRUE(json::parse(nf->body).contains("message"));
  auto chunked = client().Post("/v1/rerank", [](size_t, httplib::DataSink& sink) {
    sink.write(kBasic, std::strlen(kBasic));
    sink.done();
    return true;
  }, "application/json");
  ASSERT_TRUE(chunked) << httplib::to_string(chunked.error());
  EXPECT_EQ(chunked->status, 200);  // small chunked bodies are fine
  const std::string piece(64 << 10, 'a');
  auto big_chunked = client().Post("/v1/rerank", [&](size_t, httplib::DataSink& sink) {
    for (int i = 0; i < 80 && sink.is_writable(); ++i) sink.write(piece.data(), piece.size());
    sink.done();
    return true;
  }, "application/json");
  // 5 MB chunked: 413 as soon as the limit is crossed (the client may see its write fail first).
  EXPECT_TRUE(!big_chunked || big_chunked->status == 413);
  expect_healthy();
}

TEST_F(HttpTest, AuthOnEveryRouteButHealth) {
  ServerOptions o;
  o.api_key = "s3cret-key";
  start(o);
  const httplib::Headers good = {{"Authorization", "Bearer s3cret-key"}};
  const std::vector<httplib::Headers> bad = {{}, {{"Authorization", "Bearer wrong"}}, {{"Authorization", "s3cret-key"}},
                                             {{"Authorization", "Bearer s3cret-ke"}}, {{"Authorization", "Bearer s3cret-keyy"}}};
  for (const char* path : {"/v1/rerank", "/v2/rerank", "/rerank"}) {
    for (const auto& h : bad) {
      auto r = post(path, kBasic, h);
      EXPECT_EQ(r->status, 401) << path;
      EXPECT_EQ(r->get_header_value("WWW-Authenticate"), "Bearer");
    }
    EXPECT_EQ(post(path, kBasic, good)->status, 200) << path;
  }
  EXPECT_EQ(post("/v1/rerank", kBasic, {{"Authorization", "bearer s3cret-key"}})->status, 200);  // scheme is case-insensitive
  for (const char* path : {"/info", "/metrics", "/openapi.json"}) {
    for (const auto& h : bad) EXPECT_EQ(get(path, h)->status, 401) << path;
    EXPECT_EQ(get(path, good)->status, 200) << path;
  }
  EXPECT_EQ(get("/health")->status, 200);
  EXPECT_TRUE(secret_equals("abc", "abc"));
  EXPECT_FALSE(secret_equals("abd", "abc"));
  EXPECT_FALSE(secret_equals("", "abc"));
  EXPECT_FALSE(secret_equals("abcd", "abc"));
}

TEST_F(HttpTest, InfoMetricsOpenapi) {
  start();
  ASSERT_EQ(post("/v1/rerank", kBasic)->status, 200);
  post("/v1/rerank", "{");
  json info = json::parse(get("/info")->body);
  EXPECT_EQ(info["model"], "fake-reranker");
  EXPECT_EQ(info["kernel_set"], "fake-kernels");
  EXPECT_EQ(info["dims"]["projector_dim"], 4);
  EXPECT_EQ(info["limits"]["max_documents"], 1000);
  EXPECT_EQ(info["limits"]["max_body_bytes"], 2u << 20);
  EXPECT_NE(info["notes"].dump().find("max_chunks_per_doc"), std::string::npos);
  const std::vector<std::string> want = {"lastrank_requests_total{route=\"/v1/rerank\",status=\"200\"} 1",
                                         "lastrank_requests_total{route=\"/v1/rerank\",status=\"400\"} 1",
                                         "lastrank_request_duration_seconds_bucket{route=\"/v1/rerank\",le=\"+Inf\"} 2",
                                         "lastrank_tokens_total 7", "lastrank_documents_total 3", "lastrank_queue_depth 0",
                                         "lastrank_in_flight 0", "lastrank_compute_seconds_count 1"};
  // A request is counted by the access logger, which httplib runs after the response is written:
  // the client can see its answer a moment before the counters do. Poll (bounded) for them.
  std::string m;
  for (int tries = 0; tries < 100; ++tries) {
    m = get("/metrics")->body;
    if (std::all_of(want.begin(), want.end(), [&](const std::string& s) { return m.find(s) != std::string::npos; })) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  for (const std::string& s : want) EXPECT_NE(m.find(s), std::string::npos) << s << "\n" << m;
  json api = json::parse(get("/openapi.json")->body);
  for (const char* p : {"/v1/rerank", "/v2/rerank", "/rerank", "/health", "/info", "/metrics", "/openapi.json"})
    EXPECT_TRUE(api["paths"].contains(p)) << p;
}

TEST_F(HttpTest, OverloadGives429WithRetryAfterAndRecovers) {
  ServerOptions o;
  o.scheduler.max_queue = 1;
  start(o);
  engine_.close();
  auto running = std::async(std::launch::async, [&] { return post("/v1/rerank", kBasic)->status; });
  ASSERT_TRUE(engine_.wait_entered(1));
  auto queued = std::async(std::launch::async, [&] { return post("/v1/rerank", kBasic)->status; });
  for (int i = 0; i < 5000 && get("/metrics")->body.find("lastrank_queue_depth 1") == std::string::npos; ++i)
    std::this_thread::sleep_for(1ms);
  auto r = post("/v2/rerank", kBasic);
  EXPECT_EQ(r->status, 429);
  EXPECT_EQ(r->get_header_value("Retry-After"), "1");
  EXPECT_EQ(post("/rerank", R"({"query": "q", "texts": ["a"]})")->status, 429);
  expect_healthy();
  engine_.open();
  EXPECT_EQ(running.get(), 200);
  EXPECT_EQ(queued.get(), 200);
  EXPECT_EQ(post("/v1/rerank", kBasic)->status, 200);  // recovered
}

// The deadline also cancels the computation: the compute thread leaves the (closed) gate at once
// and the cancellation is counted.
TEST_F(HttpTest, DeadlineGives503AndCancelsTheComputation) {
  ServerOptions o;
  o.request_timeout_s = 0.2;
  start(o);
  engine_.close();
  auto r = post("/v1/rerank", kBasic);
  EXPECT_EQ(r->status, 503);
  EXPECT_EQ(r->get_header_value("Retry-After"), "5");
  const std::vector<std::string> want = {"lastrank_requests_cancelled_total{reason=\"deadline\"} 1",
                                         "lastrank_requests_cancelled_total{reason=\"client_gone\"} 0",
                                         "lastrank_computing 0"};
  std::string m;
  for (int tries = 0; tries < 100; ++tries) {
    m = get("/metrics")->body;
    if (std::all_of(want.begin(), want.end(), [&](const std::string& s) { return m.find(s) != std::string::npos; })) break;
    std::this_thread::sleep_for(20ms);
  }
  for (const std::string& s : want) EXPECT_NE(m.find(s), std::string::npos) << s << "\n" << m;
  EXPECT_EQ(engine_.stopped(), 1);
  engine_.open();
  expect_healthy();
}

TEST_F(HttpTest, NonFiniteScoreIs500NotACrash) {
  start();
  EXPECT_EQ(post("/v1/rerank", R"({"query": "nan-score", "documents": ["a"]})")->status, 500);
  EXPECT_EQ(post("/v1/rerank", R"({"query": "throw-runtime", "documents": ["a"]})")->status, 500);
  expect_healthy();
}

TEST_F(HttpTest, ShutdownDrainsInFlightRequests) {
  ServerOptions o;
  o.scheduler.max_queue = 4;
  start(o);
  engine_.close();
  auto a = std::async(std::launch::async, [&] { return post("/v1/rerank", kBasic); });
  ASSERT_TRUE(engine_.wait_entered(1));
  auto b = std::async(std::launch::async, [&] { return post("/v1/rerank", kBasic); });
  for (int i = 0; i < 5000 && get("/metrics")->body.find("lastrank_queue_depth 1") == std::string::npos; ++i)
    std::this_thread::sleep_for(1ms);
  auto stopping = std::async(std::launch::async, [&] { server_->shutdown(); });
  stopping.get();
  auto late = post("/v1/rerank", kBasic);  // refused connection, or 503 on a kept-alive one
  EXPECT_TRUE(!late || late->status == 503);
  engine_.open();
  auto ra = a.get();
  auto rb = b.get();
  ASSERT_TRUE(ra && rb);
  EXPECT_EQ(ra->status, 200);
  EXPECT_EQ(rb->status, 200);
  thread_.join();  // run() returned after draining
  server_.reset();
}

}  // namespace
}  // namespace lastrank::server
