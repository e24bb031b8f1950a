// One verdict and one message per bad request on every front end (src/api is the one request
// module): each row of the table goes through
//   1. api::parse_request_text (what the bindings' JSON path and the fuzzer call),
//   2. api::validate_rerank_args with the same values split into arguments (the bindings' call),
//      where the row can be expressed that way,
//   3. the HTTP server (POST /v1/rerank, in-process, fake engine): status and "message",
//   4. `lastrank rerank` one-shot: exit 1 and "lastrank: <message>" on stderr,
//   5. `lastrank rerank --jsonl`: the row's output line is {"error": {line, message, type, code}},
// and every path must give the same kind and the same message, which must contain the row's
// expected text. Good lines between the bad ones must still be answered in --jsonl mode.
#include <gtest/gtest.h>
#include <httplib.h>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

#include "api/request.h"
#include "fake_server_test.h"
#include "server/http_server.h"
#include "test_paths.h"

namespace lastrank::server {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

#ifdef LASTRANK_CLI
const std::string kCli = LASTRANK_CLI;
#else
const std::string kCli;
#endif
const std::string kModel = std::string(LASTRANK_TEST_MODELS) + "/tiny-gqa2";

struct Row {
  const char* name;
  std::string body;                     // one line of JSON text (or not JSON)
  std::optional<api::RerankArgs> args;  // the same request as split arguments, if expressible
  std::string expect;                   // a fragment the message must contain
};

api::RerankArgs args(std::string q, std::vector<std::string> docs, std::function<void(api::RerankArgs&)> f = {}) {
  api::RerankArgs a;
  a.query = std::move(q);
  a.documents = std::move(docs);
  if (f) f(a);
  return a;
}

std::vector<Row> table() {
  std::string eleven = R"({"query": "q", "documents": [)";
  for (int i = 0; i < 11; ++i) eleven += std::string(i ? "," : "") + "\"d\"";
  eleven += "]}";
  return {
      {"truncated json", R"({"query": "q", "documents": ["a")", std::nullopt, "not valid JSON"},
      {"invalid utf-8", "{\"query\": \"q\", \"documents\": [\"a\xff\xfe\"]}", std::nullopt, "not valid JSON"},
      {"lone surrogate", R"({"query": "\ud800", "documents": ["a"]})", std::nullopt, "not valid JSON"},
      {"deep nesting", std::string(40, '['), std::nullopt, "nested deeper than 32"},
      {"not an object", R"(["q"])", std::nullopt, "JSON object"},
      {"missing query", R"({"documents": ["a"]})", std::nullopt, "\"query\" is required"},
      {"number query", R"({"query": 5, "documents": ["a"]})", std::nullopt, "\"query\" must be a string"},
      {"empty query", R"({"query": "", "documents": ["a"]})", args("", {"a"}), "\"query\" must not be empty"},
      {"missing documents", R"({"query": "q"})", std::nullopt, "\"documents\" is required"},
      {"empty documents", R"({"query": "q", "documents": []})", args("q", {}), "\"documents\" must not be empty"},
      {"number items", R"({"query": "q", "documents": ["a", 2]})", std::nullopt, "documents[1]"},
      {"object without text", R"({"query": "q", "documents": [{"id": 1}]})", std::nullopt, "documents[0]"},
      {"too many documents", eleven, args("q", std::vector<std::string>(11, "d")), "too many documents: 11 > 10"},
      {"negative top_n", R"({"query": "q", "documents": ["a"], "top_n": -2})",
       args("q", {"a"}, [](auto& a) { a.top_n = -2; }), "\"top_n\" must be a non-negative integer (0 = all documents), got -2"},
      {"fractional top_n", R"({"query": "q", "documents": ["a"], "top_n": 1.5})", std::nullopt, "got 1.5"},
      {"string top_n", R"({"query": "q", "documents": ["a"], "top_n": "3"})", std::nullopt, "got string"},
      {"string return_documents", R"({"query": "q", "documents": ["a"], "return_documents": "yes"})", std::nullopt,
       "\"return_documents\" must be a boolean"},
      {"readout token in instruction", R"({"query": "q", "documents": ["a"], "instruction": "<|rerank_token|>"})",
       args("q", {"a"}, [](auto& a) { a.instruction = "<|rerank_token|>"; }), "\"instruction\" must not contain"},
      {"zero max_tokens_per_doc", R"({"query": "q", "documents": ["a"], "max_tokens_per_doc": 0})",
       args("q", {"a"}, [](auto& a) { a.max_tokens_per_doc = 0; }), "\"max_tokens_per_doc\" must be a positive integer"},
      {"zero max_chunks_per_doc", R"({"query": "q", "documents": ["a"], "max_chunks_per_doc": 0})",
       args("q", {"a"}, [](auto& a) { a.max_chunks_per_doc = 0; }), "\"max_chunks_per_doc\" must be a positive integer, got 0"},
      {"string max_chunks_per_doc", R"({"query": "q", "documents": ["a"], "max_chunks_per_doc": "2"})", std::nullopt,
       "\"max_chunks_per_doc\" must be a positive integer, got string"},
      {"fractional max_chunks_per_doc", R"({"query": "q", "documents": ["a"], "max_chunks_per_doc": 2.5})", std::nullopt,
       "got 2.5"},
      {"negative max_tokens_per_query", R"({"query": "q", "documents": ["a"], "max_tokens_per_query": -1})",
       args("q", {"a"}, [](auto& a) { a.max_tokens_per_query = -1; }), "\"max_tokens_per_query\" must be a positive"},
  };
}

constexpr size_t kMaxDocuments = 10;  // passed to every front end, so "too many" is cheap to hit

struct Verdict {
  api::ErrorKind kind = api::ErrorKind::internal;
  std::string message;
};

Verdict direct(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const api::ApiError& e) {
    return {e.kind(), e.what()};
  }
  return {api::ErrorKind::internal, "(accepted)"};
}

fs::path temp_dir() {
  static fs::path dir = [] {
    char tmpl[] = "/tmp/lastrank-consistency-XXXXXX";
    return fs::path(mkdtemp(tmpl));
  }();
  return dir;
}

struct CliRun {
  int rc = -1;
  std::string out, err;
};

CliRun run_cli(const std::string& args) {
  const fs::path out = temp_dir() / "out.txt", err = temp_dir() / "err.txt";
  const std::string cmd = kCli + " rerank --model " + kModel + " --max-documents " + std::to_string(kMaxDocuments) +
                          " " + args + " >" + out.string() + " 2>" + err.string();
  CliRun r;
  const int status = std::system(cmd.c_str());
  r.rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  auto slurp = [](const fs::path& p) {
    std::ifstream f(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(f), {});
  };
  r.out = slurp(out);
  r.err = slurp(err);
  return r;
}

class ConsistencyTest : public testing::FakeServerTest {
 protected:
  void SetUp() override {
    if (kCli.empty()) GTEST_SKIP() << "no lastrank binary in this build (LASTRANK_CLI undefined)";
    if (!fs::exists(kModel + "/tokenizer.json")) GTEST_SKIP() << "no tiny model with a tokenizer at " << kModel;
    ServerOptions o;
    o.limits.max_documents = kMaxDocuments;
    start(o);
  }
  Verdict via_server(const std::string& body) {
    httplib::Client c("127.0.0.1", port_);
    c.set_read_timeout(20, 0);
    auto r = c.Post("/v1/rerank", body, "application/json");
    if (!r) return {api::ErrorKind::internal, "(no response)"};
    json j = json::parse(r->body, nullptr, false);
    if (r->status == 200) return {api::ErrorKind::internal, "(accepted)"};
    Verdict v;
    v.message = j.value("message", "(no message)");
    for (auto k : {api::ErrorKind::malformed_json, api::ErrorKind::missing_field, api::ErrorKind::invalid_field,
                   api::ErrorKind::too_many_documents})
      if (j["error"].value("type", "") == api::error_type(k) && r->status == api::http_status(k)) v.kind = k;
    return v;
  }

};

TEST_F(ConsistencyTest, SameVerdictAndMessageOnEveryPath) {
  api::RequestLimits limits;
  limits.max_documents = kMaxDocuments;
  const auto rows = table();
  const std::string good = R"({"query": "q", "documents": ["a", "b"]})";
  std::ofstream batch(temp_dir() / "batch.jsonl", std::ios::binary);
  for (const auto& row : rows) batch << good << "\n" << row.body << "\n";  // bad rows on even lines
  batch.close();
  const CliRun b = run_cli("--jsonl --input " + (temp_dir() / "batch.jsonl").string());
  EXPECT_EQ(b.rc, 1) << "a batch with failed lines exits 1";
  std::vector<json> lines;
  std::istringstream is(b.out);
  for (std::string l; std::getline(is, l);) lines.push_back(json::parse(l, nullptr, false));
  ASSERT_EQ(lines.size(), 2 * rows.size()) << b.out << b.err;

  for (size_t i = 0; i < rows.size(); ++i) {
    const Row& row = rows[i];
    SCOPED_TRACE(row.name);
    const Verdict ref = direct([&] { api::parse_request_text(api::Dialect::jina_v1, row.body, limits); });
    EXPECT_NE(ref.message.find(row.expect), std::string::npos) << ref.message;
    if (row.args) {
      const Verdict d = direct([&] { api::validate_rerank_args(*row.args, limits); });
      EXPECT_EQ(d.kind, ref.kind);
      EXPECT_EQ(d.message, ref.message);
    }
    const Verdict s = via_server(row.body);
    EXPECT_EQ(s.kind, ref.kind);
    EXPECT_EQ(s.message, ref.message);

    std::ofstream(temp_dir() / "one.json", std::ios::binary) << row.body;
    const CliRun one = run_cli("--input " + (temp_dir() / "one.json").string());
    EXPECT_EQ(one.rc, 1);
    EXPECT_EQ(one.err, "lastrank: " + ref.message + "\n");
    EXPECT_EQ(one.out, "");

    EXPECT_TRUE(lines[2 * i].contains("results")) << "good line " << 2 * i + 1 << ": " << lines[2 * i].dump();
    const json& e = lines[2 * i + 1]["error"];
    EXPECT_EQ(e.value("line", 0u), 2 * i + 2);
    EXPECT_EQ(e.value("message", ""), ref.message);
    EXPECT_EQ(e.value("type", ""), api::error_type(ref.kind));
    EXPECT_EQ(e.value("code", 0), api::http_status(ref.kind));
  }
}

// The verdicts where the old CLI and server parsers disagreed are now one accepted answer.
TEST_F(ConsistencyTest, IntegralFloatTopNIsAcceptedEverywhere) {
  const std::string body = R"({"query": "q", "documents": ["a", "b", "c"], "top_n": 2.0})";
  std::ofstream(temp_dir() / "float.json") << body;
  const CliRun one = run_cli("--input " + (temp_dir() / "float.json").string());
  ASSERT_EQ(one.rc, 0) << one.err;
  EXPECT_EQ(json::parse(one.out)["results"].size(), 2u);
  httplib::Client c("127.0.0.1", port_);
  auto r = c.Post("/v1/rerank", body, "application/json");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(json::parse(r->body)["results"].size(), 2u);
}

// top_n 0 means all documents (vLLM, gateways) on every front end: the split arguments, the
// one-shot CLI, --jsonl and the server's /v1 and /v2 routes all return every document.
TEST_F(ConsistencyTest, ZeroTopNMeansAllEverywhere) {
  const std::string body = R"({"query": "q", "documents": ["a", "b", "c"], "top_n": 0})";
  EXPECT_FALSE(api::validate_rerank_args(args("q", {"a", "b", "c"}, [](auto& a) { a.top_n = 0; })).request.top_n);
  std::ofstream(temp_dir() / "zero.json") << body;
  const CliRun one = run_cli("--input " + (temp_dir() / "zero.json").string());
  ASSERT_EQ(one.rc, 0) << one.err;
  EXPECT_EQ(json::parse(one.out)["results"].size(), 3u);
  const CliRun lines = run_cli("--jsonl --input " + (temp_dir() / "zero.json").string());
  ASSERT_EQ(lines.rc, 0) << lines.err;
  EXPECT_EQ(json::parse(lines.out)["results"].size(), 3u);
  httplib::Client c("127.0.0.1", port_);
  for (const char* route : {"/v1/rerank", "/v2/rerank"}) {
    auto r = c.Post(route, body, "application/json");
    ASSERT_TRUE(r) << route;
    ASSERT_EQ(r->status, 200) << route << " " << r->body;
    EXPECT_EQ(json::parse(r->body)["results"].size(), 3u) << route;
  }
}

// --scores unit reports (1 + cosine) / 2 for the same request, in the same order.
TEST_F(ConsistencyTest, CliUnitScoresAreTheCosinesMapped) {
  std::ofstream(temp_dir() / "scores.json") << R"({"query": "green tea", "documents": ["tea", "stocks", "green"]})";
  const CliRun cosine = run_cli("--input " + (temp_dir() / "scores.json").string());
  const CliRun unit = run_cli("--scores unit --input " + (temp_dir() / "scores.json").string());
  ASSERT_EQ(cosine.rc, 0) << cosine.err;
  ASSERT_EQ(unit.rc, 0) << unit.err;
  const json c = json::parse(cosine.out)["results"], u = json::parse(unit.out)["results"];
  ASSERT_EQ(c.size(), u.size());
  for (size_t i = 0; i < c.size(); ++i) {
    EXPECT_EQ(u[i]["index"], c[i]["index"]);
    const float cos = c[i]["relevance_score"].get<float>();
    EXPECT_EQ(u[i]["relevance_score"].get<float>(), (1.0f + cos) * 0.5f);
  }
  EXPECT_EQ(run_cli("--scores sigmoid --input " + (temp_dir() / "scores.json").string()).rc, 2);  // usage error
}

}  // namespace
}  // namespace lastrank::server
