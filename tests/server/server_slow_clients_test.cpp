// 1,000 slow clients (each sends a partial header, then one more header line every 2 s) must cost
// the server memory, not service: GET /health answers in < 1 s and a rerank on the tiny fixture
// model in < 2 s while they trickle. Label `slow` (cmake/tests.cmake); about 10 s.
#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "raw_socket.h"
#include "server/http_server.h"
#include "test_paths.h"

namespace lastrank::server {
namespace {

using testing::RawSocket;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr int kSlowClients = 1000;
const std::string kModel = std::string(LASTRANK_TEST_MODELS) + "/tiny-gqa2";

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// Opens the slow connections and trickles a header line to each every 2 s until stopped.
class SlowClients {
 public:
  SlowClients(int port, int n) {
    for (int i = 0; i < n; ++i) {
      socks_.emplace_back(port);
      if (socks_.back().ok()) socks_.back().send("POST /v1/rerank HTTP/1.1\r\nHost: slow\r\n");
    }
    thread_ = std::thread([this] { trickle(); });
  }
  ~SlowClients() {
    stop_ = true;
    thread_.join();
  }
  int connected() const {
    int n = 0;
    for (const auto& s : socks_) n += s.ok();
    return n;
  }
  int lines_sent() const { return lines_; }

 private:
  void trickle() {
    for (int round = 0; !stop_; ++round) {
      for (int i = 0; i < 20 && !stop_; ++i) std::this_thread::sleep_for(100ms);
      for (auto& s : socks_)
        if (s.ok() && s.send("X-Slow-" + std::to_string(round) + ": 1\r\n")) ++lines_;
    }
  }

  std::vector<RawSocket> socks_;
  std::atomic<bool> stop_{false};
  std::atomic<int> lines_{0};
  std::thread thread_;
};

TEST(SlowClients, ThousandTricklingConnectionsDoNotStallHealthOrRerank) {
  if (!std::filesystem::exists(kModel + "/tokenizer.json")) GTEST_SKIP() << "no tiny model with a tokenizer at " << kModel;
  const rlim_t files = testing::raise_open_files(2 * kSlowClients + 256);
  if (files < rlim_t(2 * kSlowClients + 256)) GTEST_SKIP() << "open-file limit " << files << " is too low for this test";
  EngineInfo info;
  info.model_name = "tiny";
  info.precision = "fp32";
  EngineOptions eo;
  eo.precision = Precision::fp32;
  eo.threads = 1;
  auto engine = make_reranker_engine(Reranker::load(kModel, eo), info);
  ServerOptions o;
  o.host = "127.0.0.1";
  o.port = 0;
  o.log_requests = false;
  HttpServer server(*engine, o);
  const int port = server.bind();
  std::thread run([&] { server.run(); });

  {
    SlowClients slow(port, kSlowClients);
    ASSERT_EQ(slow.connected(), kSlowClients);
    httplib::Client c("127.0.0.1", port);
    c.set_read_timeout(30, 0);
    for (int round = 0; round < 3; ++round) {  // while the clients trickle (about 6 s)
      auto t0 = Clock::now();
      auto health = c.Get("/health");
      const double health_s = seconds_since(t0);
      ASSERT_TRUE(health) << "no answer to /health";
      EXPECT_EQ(health->status, 200);
      EXPECT_LT(health_s, 1.0) << "round " << round;
      t0 = Clock::now();
      auto rr = c.Post("/v1/rerank", R"({"query": "capital of france", "documents": ["paris", "berlin"]})",
                       "application/json");
      const double rerank_s = seconds_since(t0);
      ASSERT_TRUE(rr) << "no answer to /v1/rerank";
      EXPECT_EQ(rr->status, 200) << rr->body;
      EXPECT_LT(rerank_s, 2.0) << "round " << round;
      std::this_thread::sleep_for(2s);
    }
    EXPECT_GE(slow.lines_sent(), kSlowClients) << "the slow clients did not trickle";
  }
  server.shutdown();
  run.join();
}

}  // namespace
}  // namespace lastrank::server
