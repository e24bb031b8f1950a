// The HTTP server: an event-driven HTTP/1.1 transport (Boost.Beast/Asio: a few I/O threads, a
// worker pool, connection.h) in front of the Router (router.h), which owns the routes, auth,
// request ids, error bodies, log lines and metrics; rerank work goes through the Scheduler to one
// compute thread. docs/server.md ("Architecture") has the picture.
#pragma once
#include <memory>
#include <string>

#include "server/engine.h"
#include "server/options.h"
#include "server/router.h"

namespace lastrank::server {

class HttpServer {
 public:
  HttpServer(RerankEngine& engine, ServerOptions opts);
  ~HttpServer();

  // Binds host:port; returns the bound port. Throws lastrank::Error if it cannot bind.
  int bind();
  // Serves until shutdown(); returns once every in-flight request has been answered and the
  // compute thread has finished.
  void run();
  // Thread-safe, returns at once: stop admitting work (503), stop accepting connections, close
  // idle ones; run() returns once the requests being handled are answered.
  void shutdown();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace lastrank::server
