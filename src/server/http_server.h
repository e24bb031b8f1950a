// The HTTP front end (cpp-httplib): routes, bearer auth, request ids, one JSON log line per
// request, error bodies, metrics; rerank work goes through the Scheduler to one compute thread.
// Routes: POST /v1/rerank, /v2/rerank, /rerank; GET /health, /info, /metrics, /openapi.json.
#pragma once
#include <memory>
#include <string>

#include "server/engine.h"
#include "server/scheduler.h"

namespace lastrank::server {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;                     // 0 = any free port (bind() returns it)
  std::string api_key;                 // empty = no auth
  size_t max_body_bytes = 2u << 20;    // 2 MiB -> 413
  RequestLimits limits;
  SchedulerOptions scheduler;
  double request_timeout_s = 60;       // admission -> response deadline -> 503
  int http_threads = 64;               // connections served at once (must exceed max_queue + 1)
  int read_timeout_s = 10;             // per socket read (slow clients)
  int write_timeout_s = 10;
  int keep_alive_timeout_s = 5;
  bool log_requests = true;            // one JSON line per request on stderr
};

class HttpServer {
 public:
  HttpServer(RerankEngine& engine, ServerOptions opts);
  ~HttpServer();

  // Binds host:port; returns the bound port. Throws lastrank::Error if it cannot bind.
  int bind();
  // Serves until shutdown(); returns once every in-flight request has been answered and the
  // compute thread has finished.
  void run();
  // Thread-safe: stop admitting work (503), stop accepting connections; run() then drains.
  void shutdown();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Constant-time comparison of a presented secret with the expected one (length may leak).
bool secret_equals(std::string_view presented, std::string_view expected);

// The OpenAPI 3.0 description of the routes (GET /openapi.json).
nlohmann::json openapi_document(const std::string& version);

}  // namespace lastrank::server
