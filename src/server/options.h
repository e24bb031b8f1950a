// Options of the HTTP server (`lastrank serve` flags, docs/server.md): limits, timeouts, threads.
#pragma once
#include <cstddef>
#include <string>

#include "api/scores.h"
#include "server/cors.h"
#include "server/engine.h"
#include "server/scheduler.h"

namespace lastrank::server {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;                     // 0 = any free port (bind() returns it)
  std::string api_key;                 // empty = no auth
  size_t max_body_bytes = 2u << 20;    // 2 MiB -> 413
  size_t max_header_bytes = 16 << 10;  // request line + header fields -> 431
  RequestLimits limits;
  SchedulerOptions scheduler;
  double request_timeout_s = 60;       // arrival -> response deadline (queue + compute) -> 503
  int io_threads = 2;                  // threads running the event loop (accept, read, write)
  int http_threads = 64;               // worker threads: parse, tokenize, wait for the compute thread
                                       // (must exceed max_queue + 1 to fill the queue)
  size_t max_connections = 10000;      // open connections; more are answered 503 and closed
  int read_timeout_s = 10;             // to receive a whole request, header + body (one deadline)
  int write_timeout_s = 10;            // to send a response
  int keep_alive_timeout_s = 5;        // an idle connection waits this long for its next request
  bool log_requests = true;            // one JSON line per request on stderr
  bool public_metrics = false;         // /metrics without the API key (--public-metrics)
  CorsPolicy cors;                     // --cors-allow-origin (off when empty)
  api::ScoreScale scores = api::ScoreScale::cosine;  // --scores
};

}  // namespace lastrank::server
