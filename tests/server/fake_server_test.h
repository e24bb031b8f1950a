// The fixture the in-process server tests share: an HttpServer over a FakeEngine (fake_engine.h)
// on 127.0.0.1 with an ephemeral port, run on a thread of its own; TearDown releases the engine's
// gate and shuts the server down.
#pragma once
#include <gtest/gtest.h>

#include <memory>
#include <thread>

#include "fake_engine.h"
#include "server/http_server.h"

namespace lastrank::server::testing {

class FakeServerTest : public ::testing::Test {
 protected:
  // Serves `engine` (default: engine_) with o; host, port and request logging are set here.
  void start(ServerOptions o = {}, RerankEngine* engine = nullptr) {
    o.host = "127.0.0.1";
    o.port = 0;
    o.log_requests = false;
    server_ = std::make_unique<HttpServer>(engine ? *engine : engine_, o);
    port_ = server_->bind();
    thread_ = std::thread([this] { server_->run(); });
  }
  void TearDown() override { stop(); }
  // Opens the engine's gate (held requests finish), shuts the server down and joins it.
  void stop() {
    if (!server_) return;
    engine_.open();
    server_->shutdown();
    thread_.join();
    server_.reset();
  }

  FakeEngine engine_;
  std::unique_ptr<HttpServer> server_;
  std::thread thread_;
  int port_ = 0;
};

}  // namespace lastrank::server::testing
