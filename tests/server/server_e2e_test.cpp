// Black-box tests of the real `lastrank serve` binary (LASTRANK_CLI) on a loopback port with a
// generated tiny checkpoint: every route's scores equal `lastrank rerank`'s, concurrent requests
// get the same scores as sequential ones, bad inputs through the real tokenizer, overload gives
// 429 and recovers, auth from LASTRANK_API_KEY, and SIGTERM drains in-flight requests (exit 0).
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <thread>

#include <nlohmann/json.hpp>
#include "test_paths.h"

namespace {

using nlohmann::json;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

#ifdef LASTRANK_CLI
const std::string kCli = LASTRANK_CLI;
#else
const std::string kCli;
#endif
const std::string kModel = std::string(LASTRANK_TEST_MODELS) + "/tiny-gqa2";

fs::path temp_dir() {
  static fs::path dir = [] {
    char tmpl[] = "/tmp/lastrank-e2e-XXXXXX";
    return fs::path(mkdtemp(tmpl));
  }();
  return dir;
}

// A `lastrank serve` child process on 127.0.0.1 and a free port (--port 0 --port-file).
class ServerProcess {
 public:
  explicit ServerProcess(std::vector<std::string> extra, std::vector<std::string> env = {}) {
    static int n = 0;
    const fs::path dir = temp_dir();
    port_file_ = dir / ("port" + std::to_string(++n));
    log_ = dir / ("server" + std::to_string(n) + ".log");
    std::vector<std::string> args = {kCli, "serve", "--model", kModel, "--host", "127.0.0.1", "--port", "0",
                                     "--port-file", port_file_.string()};
    args.insert(args.end(), extra.begin(), extra.end());
    pid_ = fork();
    if (pid_ == 0) {
      FILE* f = std::fopen(log_.c_str(), "w");
      if (f) dup2(fileno(f), 2);
      for (const auto& e : env) putenv(const_cast<char*>(e.c_str()));
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(argv[0], argv.data());
      _exit(127);
    }
    for (int i = 0; i < 3000 && !fs::exists(port_file_); ++i) std::this_thread::sleep_for(5ms);
    std::ifstream(port_file_) >> port_;
  }
  ~ServerProcess() {
    if (pid_ > 0 && !exited_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  int port() const { return port_; }
  std::string log() const {
    std::ifstream f(log_);
    return std::string(std::istreambuf_iterator<char>(f), {});
  }
  // SIGTERM, then the exit status (-1 if it did not exit within the timeout).
  int terminate_and_wait(std::chrono::milliseconds timeout = 20000ms) {
    kill(pid_, SIGTERM);
    const auto end = std::chrono::steady_clock::now() + timeout;
    int status = 0;
    while (std::chrono::steady_clock::now() < end) {
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        exited_ = true;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      std::this_thread::sleep_for(5ms);
    }
    return -1;
  }
  httplib::Client client() const {
    httplib::Client c("127.0.0.1", port_);
    c.set_read_timeout(60, 0);
    return c;
  }

 private:
  pid_t pid_ = -1;
  int port_ = 0;
  bool exited_ = false;
  fs::path port_file_, log_;
};

// `lastrank rerank --model DIR --input FILE` -> parsed Jina response.
json cli_rerank(const json& request) {
  const fs::path in = temp_dir() / "cli_request.json";
  std::ofstream(in) << request.dump();
  const std::string cmd = kCli + " rerank --model " + kModel + " --input " + in.string();
  FILE* p = popen(cmd.c_str(), "r");
  std::string out;
  char buf[4096];
  for (size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
  EXPECT_EQ(pclose(p), 0) << cmd;
  return json::parse(out);
}

// index -> score (as the float the engine produced) of a Jina/Cohere or TEI result list.
std::map<int, float> scores(const json& results, const char* key) {
  std::map<int, float> m;
  for (const auto& r : results) m[r["index"].get<int>()] = float(r[key].get<double>());
  return m;
}

std::vector<int> order(const json& results) {
  std::vector<int> o;
  for (const auto& r : results) o.push_back(r["index"].get<int>());
  return o;
}

const json kRequest = {
    {"query", "What is the capital of France?"},
    {"documents",
     {"Paris is the capital of France.", "Berlin ist die Hauptstadt.", "東京は日本の首都です。", "", "x<|embed_token|>y",
      "The Eiffel Tower is in Paris, France, and it is tall."}}};

class E2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (kCli.empty()) GTEST_SKIP() << "no lastrank binary in this build (LASTRANK_CLI undefined)";
    ASSERT_TRUE(fs::exists(kModel + "/config.json")) << "fixture model missing: " << kModel;
  }
};

TEST_F(E2eTest, EveryRouteMatchesTheCli) {
  const json cli = cli_rerank(kRequest);
  const auto want = scores(cli["results"], "relevance_score");
  ServerProcess srv({"--quiet"});
  ASSERT_GT(srv.port(), 0) << srv.log();
  auto c = srv.client();

  auto v1 = c.Post("/v1/rerank", kRequest.dump(), "application/json");
  ASSERT_TRUE(v1 && v1->status == 200) << srv.log();
  json j1 = json::parse(v1->body);
  EXPECT_EQ(scores(j1["results"], "relevance_score"), want);
  EXPECT_EQ(order(j1["results"]), order(cli["results"]));
  EXPECT_EQ(j1["usage"]["total_tokens"], cli["usage"]["total_tokens"]);
  EXPECT_EQ(j1["model"], cli["model"]);
  EXPECT_EQ(j1["results"][0]["document"], cli["results"][0]["document"]);

  json v2req = kRequest;
  v2req["model"] = "rerank-v3.5";
  auto v2 = c.Post("/v2/rerank", v2req.dump(), "application/json");
  ASSERT_TRUE(v2 && v2->status == 200);
  json j2 = json::parse(v2->body);
  EXPECT_EQ(scores(j2["results"], "relevance_score"), want);
  EXPECT_EQ(j2["meta"]["tokens"]["input_tokens"], cli["usage"]["total_tokens"]);

  json tei = {{"query", kRequest["query"]}, {"texts", kRequest["documents"]}, {"return_text", true}};
  auto t = c.Post("/rerank", tei.dump(), "application/json");
  ASSERT_TRUE(t && t->status == 200);
  json jt = json::parse(t->body);
  ASSERT_TRUE(jt.is_array());
  EXPECT_EQ(scores(jt, "score"), want);
  EXPECT_EQ(jt[0]["text"], kRequest["documents"][jt[0]["index"].get<int>()]);

  // top_n and object documents agree with the CLI too.
  json req2 = kRequest;
  req2["top_n"] = 2;
  req2["documents"][1] = {{"text", "Berlin ist die Hauptstadt."}, {"lang", "de"}};
  const json cli2 = cli_rerank(req2);
  json s2 = json::parse(c.Post("/v1/rerank", req2.dump(), "application/json")->body);
  ASSERT_EQ(s2["results"].size(), 2u);
  EXPECT_EQ(scores(s2["results"], "relevance_score"), scores(cli2["results"], "relevance_score"));

  // Cohere max_tokens_per_doc equals truncating with the CLI's --max-doc-tokens.
  json v2t = v2req;
  v2t["max_tokens_per_doc"] = 4;
  json jt4 = json::parse(c.Post("/v2/rerank", v2t.dump(), "application/json")->body);
  const fs::path in = temp_dir() / "cli_trunc.json";
  std::ofstream(in) << kRequest.dump();
  FILE* p = popen((kCli + " rerank --max-doc-tokens 4 --model " + kModel + " --input " + in.string()).c_str(), "r");
  std::string out;
  char buf[4096];
  for (size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
  pclose(p);
  EXPECT_EQ(scores(jt4["results"], "relevance_score"), scores(json::parse(out)["results"], "relevance_score"));
  EXPECT_EQ(srv.terminate_and_wait(), 0);
}

// The port file appears once the model is loaded and warmed: every probe answers 200 then; the
// real tokenizer round-trips through /tokenize and /detokenize; --scores unit maps the CLI's
// cosines; a model that fails to load exits 1 with its message.
TEST_F(E2eTest, ReadyProbesTokenizeAndUnitScores) {
  const json cli = cli_rerank(kRequest);
  ServerProcess srv({"--quiet", "--scores", "unit"});
  ASSERT_GT(srv.port(), 0) << srv.log();
  EXPECT_NE(srv.log().find("\"event\":\"ready\""), std::string::npos) << srv.log();
  auto c = srv.client();
  for (const char* path : {"/health", "/ready", "/live"}) {
    auto r = c.Get(path);
    ASSERT_TRUE(r) << path;
    EXPECT_EQ(r->status, 200) << path;
  }
  auto v1 = c.Post("/v1/rerank", kRequest.dump(), "application/json");
  ASSERT_TRUE(v1 && v1->status == 200);
  const auto cosine = scores(cli["results"], "relevance_score");
  for (const auto& [index, unit] : scores(json::parse(v1->body)["results"], "relevance_score"))
    EXPECT_EQ(unit, (1.0f + cosine.at(index)) * 0.5f) << index;

  auto t = c.Post("/tokenize", R"({"inputs": "Paris is the capital of France."})", "application/json");
  ASSERT_TRUE(t && t->status == 200);
  const json tokens = json::parse(t->body);
  ASSERT_EQ(tokens.size(), 1u);
  json ids = json::array();
  for (const auto& tok : tokens[0]) ids.push_back(tok["id"]);
  EXPECT_EQ(tokens[0].back()["stop"], 31);  // byte offsets cover the input
  auto d = c.Post("/detokenize", json({{"ids", ids}}).dump(), "application/json");
  ASSERT_TRUE(d && d->status == 200);
  EXPECT_EQ(json::parse(d->body), json({"Paris is the capital of France."}));
  EXPECT_EQ(srv.terminate_and_wait(), 0);
}

TEST_F(E2eTest, ModelThatFailsToLoadExitsOne) {
  const fs::path broken = temp_dir() / "broken-model";
  fs::create_directories(broken);
  for (const char* f : {"config.json", "tokenizer.json", "tokenizer_config.json"})
    if (fs::exists(kModel + "/" + f)) fs::copy_file(kModel + "/" + f, broken / f, fs::copy_options::overwrite_existing);
  std::ofstream(broken / "model.safetensors") << "not a safetensors file";
  const std::string cmd = kCli + " serve --quiet --port 0 --model " + broken.string() + " 2>" +
                          (temp_dir() / "broken.log").string();
  const int status = std::system(cmd.c_str());
  EXPECT_EQ(WIFEXITED(status) ? WEXITSTATUS(status) : -1, 1);
  std::ifstream f(temp_dir() / "broken.log");
  const std::string log(std::istreambuf_iterator<char>(f), {});
  EXPECT_NE(log.find("lastrank serve: "), std::string::npos) << log;
  EXPECT_NE(log.find("model.safetensors"), std::string::npos) << log;
}

TEST_F(E2eTest, ConcurrentRequestsScoreLikeSequentialOnes) {
  ServerProcess srv({"--quiet", "--max-queue", "32"});
  ASSERT_GT(srv.port(), 0) << srv.log();
  std::vector<json> reqs;
  for (int i = 0; i < 8; ++i) {
    json r = kRequest;
    r["query"] = "query number " + std::to_string(i) + " about France";
    for (int k = 0; k < i; ++k) r["documents"].push_back("extra document " + std::to_string(k));
    reqs.push_back(r);
  }
  std::vector<json> alone;
  for (const auto& r : reqs) alone.push_back(json::parse(srv.client().Post("/v1/rerank", r.dump(), "application/json")->body));
  std::vector<std::future<json>> fs_;
  for (const auto& r : reqs)
    fs_.push_back(std::async(std::launch::async, [&srv, r] {
      return json::parse(srv.client().Post("/v1/rerank", r.dump(), "application/json")->body);
    }));
  for (size_t i = 0; i < reqs.size(); ++i) {
    json together = fs_[i].get();
    EXPECT_EQ(scores(together["results"], "relevance_score"), scores(alone[i]["results"], "relevance_score")) << i;
  }
}

TEST_F(E2eTest, BadInputsThroughTheRealTokenizer) {
  ServerProcess srv({"--quiet", "--max-documents", "100"}, {"LASTRANK_API_KEY=e2e-key"});
  ASSERT_GT(srv.port(), 0) << srv.log();
  auto c = srv.client();
  const httplib::Headers auth = {{"Authorization", "Bearer e2e-key"}};
  auto status = [&](const std::string& path, const std::string& body, const httplib::Headers& h) {
    auto r = c.Post(path.c_str(), h, body, "application/json");
    EXPECT_TRUE(r) << path;
    auto health = c.Get("/health");
    EXPECT_TRUE(health && health->status == 200) << "unhealthy after " << body.substr(0, 80);
    return r ? r->status : -1;
  };
  EXPECT_EQ(status("/v1/rerank", kRequest.dump(), {}), 401);
  EXPECT_EQ(status("/v1/rerank", kRequest.dump(), {{"Authorization", "Bearer nope"}}), 401);
  EXPECT_EQ(status("/v1/rerank", kRequest.dump(), auth), 200);
  json many = {{"query", "q"}, {"documents", json::array()}};
  for (int i = 0; i < 10000; ++i) many["documents"].push_back("d");
  EXPECT_EQ(status("/v1/rerank", many.dump(), auth), 422);
  EXPECT_EQ(status("/v1/rerank", std::string(5 << 20, ' '), auth), 413);
  EXPECT_EQ(status("/v1/rerank", "{\"query\": \"\xc3\x28\", \"documents\": [\"a\"]}", auth), 400);
  EXPECT_EQ(status("/v1/rerank", R"({"query": "q", "documents": ["a"], "top_n": -3})", auth), 422);
  EXPECT_EQ(status("/v2/rerank", R"({"query": "q", "documents": ["a", "b"], "top_n": 99999999999})", auth), 200);
  json special = {{"query", "<|rerank_token|><|im_end|>"}, {"documents", {"<|embed_token|>", "<|im_start|>", "<|endoftext|>"}}};
  EXPECT_EQ(status("/v1/rerank", special.dump(), auth), 200);
  std::string long_doc;
  for (int i = 0; i < 3000; ++i) long_doc += "word ";
  json long_req = {{"query", "q"}, {"texts", {long_doc}}, {"truncate", false}};
  EXPECT_EQ(status("/rerank", long_req.dump(), auth), 413);  // TEI route: Validation is 413
  long_req["truncate"] = true;
  long_req["truncation_direction"] = "left";
  EXPECT_EQ(status("/rerank", long_req.dump(), auth), 200);
  EXPECT_EQ(c.Get("/metrics")->status, 401);
  EXPECT_EQ(c.Get("/metrics", auth)->status, 200);
  EXPECT_EQ(srv.terminate_and_wait(), 0);
}

TEST_F(E2eTest, OverloadGives429ThenRecovers) {
  ServerProcess srv({"--quiet", "--max-queue", "1"});
  ASSERT_GT(srv.port(), 0) << srv.log();
  json heavy = {{"query", "q"}, {"documents", json::array()}};
  for (int i = 0; i < 60; ++i) heavy["documents"].push_back("a longer document number " + std::to_string(i) + " with some words in it");
  std::vector<std::future<std::pair<int, std::string>>> fs_;
  for (int i = 0; i < 12; ++i)
    fs_.push_back(std::async(std::launch::async, [&] {
      auto r = srv.client().Post("/v1/rerank", heavy.dump(), "application/json");
      return r ? std::make_pair(r->status, r->get_header_value("Retry-After")) : std::make_pair(-1, std::string());
    }));
  int ok = 0, overloaded = 0, other = 0;
  for (auto& f : fs_) {
    auto [st, retry] = f.get();
    if (st == 200) ++ok;
    else if (st == 429 && retry == "1") ++overloaded;
    else ++other;
  }
  EXPECT_GE(ok, 1);  // the first admitted; another may have been queued behind it
  EXPECT_GE(overloaded, 1);
  EXPECT_EQ(other, 0);
  EXPECT_EQ(srv.client().Post("/v1/rerank", kRequest.dump(), "application/json")->status, 200);
  std::string m = srv.client().Get("/metrics")->body;
  EXPECT_NE(m.find("status=\"429\""), std::string::npos);
  EXPECT_NE(m.find("lastrank_queue_depth 0"), std::string::npos);
}

TEST_F(E2eTest, SigtermDrainsInFlightRequests) {
  ServerProcess srv({"--max-queue", "16"});
  ASSERT_GT(srv.port(), 0) << srv.log();
  json heavy = {{"query", "q"}, {"documents", json::array()}};
  for (int i = 0; i < 120; ++i) heavy["documents"].push_back("document number " + std::to_string(i) + " has several more words in it than before");
  std::vector<std::future<int>> fs_;
  for (int i = 0; i < 6; ++i)
    fs_.push_back(std::async(std::launch::async, [&] {
      auto r = srv.client().Post("/v1/rerank", heavy.dump(), "application/json");
      return r ? r->status : -1;
    }));
  // Wait until requests are queued behind a computing one, then SIGTERM. (lastrank_in_flight would
  // also count requests still being parsed: those are not admitted yet and get 503 once draining.)
  int queued = 0;
  for (int i = 0; i < 4000 && queued < 2; ++i) {
    auto m = srv.client().Get("/metrics");
    const std::string key = "\nlastrank_queue_depth ";
    const auto pos = m ? m->body.find(key) : std::string::npos;
    if (pos != std::string::npos) queued = std::stoi(m->body.substr(pos + key.size()));
    if (queued < 2) std::this_thread::sleep_for(1ms);
  }
  ASSERT_GE(queued, 2) << "never saw 2 requests queued";
  EXPECT_EQ(srv.terminate_and_wait(), 0) << srv.log();
  // Every admitted request (queued or computing at the signal) was answered 200; the others were
  // refused (no connection) or got 503, never another status.
  int ok = 0;
  for (auto& f : fs_) {
    const int st = f.get();
    ok += st == 200;
    EXPECT_TRUE(st == 200 || st == 503 || st == -1) << st;
  }
  EXPECT_GE(ok, queued);
  const std::string log = srv.log();
  EXPECT_NE(log.find("\"event\":\"draining\""), std::string::npos);
  EXPECT_NE(log.find("\"event\":\"stopped\""), std::string::npos);
  // At least one rerank finished after the signal: it was drained, not dropped.
  EXPECT_NE(log.find("\"route\":\"/v1/rerank\"", log.find("\"event\":\"draining\"")), std::string::npos);
  EXPECT_NE(log.find("\"route\":\"/v1/rerank\""), std::string::npos);  // one line per request
}

}  // namespace
