// The server's routes, independent of any HTTP transport: a whole request in, a whole response
// out. One declarative table (router.cpp, kRoutes) lists method, path(s), whether the bearer key
// is needed and the handler; around every handler the router assigns the request id, checks auth,
// turns exceptions into error bodies (api/error.h), records metrics and writes the JSON log line.
// The transport (http_server.cpp) only reads requests, writes responses and calls handle().
#pragma once
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/cancel.h"
#include "server/engine.h"
#include "server/metrics.h"
#include "server/options.h"
#include "server/scheduler.h"

namespace lastrank::server {

using Headers = std::vector<std::pair<std::string, std::string>>;

struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string path;    // the target without its query string
  Headers headers;
  std::string body;
  std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();  // arrival

  // The first header of that name (case-insensitive), or "".
  std::string header(std::string_view name) const;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  Headers headers;     // besides Content-Type / Content-Length
  std::string body;
  bool close = false;  // close the connection after this response

  void set_header(std::string name, std::string value);
  std::string header(std::string_view name) const;  // "" if absent
};

// What the route handlers see of one request; the log line and metrics are made from it.
struct Exchange {
  explicit Exchange(const HttpRequest& r) : req(r) {}
  const HttpRequest& req;
  HttpResponse res;
  std::string request_id;
  Dialect dialect = Dialect::plain;  // shape of error bodies
  size_t documents = 0;
  int64_t tokens = 0;
  std::string error;  // message of an error response, for the log line
  std::shared_ptr<CancelToken> cancel;  // the transport's (client_gone), else the request's own
};

class Router {
 public:
  using Handler = std::function<void(Router&, Exchange&)>;
  struct Route {
    std::string method;
    std::vector<std::string> paths;
    bool needs_auth;
    bool blocks;  // waits for the compute thread: run it off the transport's I/O threads
    Handler handler;
  };

  Router(RerankEngine& engine, Scheduler& scheduler, Metrics& metrics, const ServerOptions& opts);

  // Routes one request (404 if no route), then logs it and counts it. Thread-safe; may block
  // for the compute thread when route_blocks(req). The transport may pass the request's
  // CancelToken, to cancel it (client_gone) when the client leaves.
  HttpResponse handle(const HttpRequest& req, std::shared_ptr<CancelToken> cancel = nullptr);
  // Whether handle(req) may block (a rerank route).
  bool route_blocks(const HttpRequest& req) const;
  // A request the transport refused before routing (413 body too large, malformed HTTP, ...):
  // the error body, request id, log line and metrics of a routed error, and close = true.
  // `req` may be partial; `status` overrides the kind's status when not 0 (431).
  HttpResponse refuse(const HttpRequest& req, ErrorKind kind, const std::string& message, int status = 0);

  const std::vector<Route>& routes() const { return routes_; }

 private:
  static std::vector<Route> table();
  const Route* find(const HttpRequest& req) const;
  bool known_path(const std::string& path) const;
  void begin(Exchange& ex);
  void run_guarded(const Route& route, Exchange& ex);
  void check_auth(const HttpRequest& req) const;
  bool needs_auth(const Route& route, const HttpRequest& req) const;  // --public-metrics exempts /metrics
  void add_cors(Exchange& ex) const;  // CORS headers (server/cors.h); preflight for OPTIONS
  void health(Exchange& ex);
  void tokenize(Exchange& ex);
  void detokenize(Exchange& ex);
  // status, when not 0, overrides the kind's status, in the body's error.code too.
  void write_error(Exchange& ex, ErrorKind kind, const std::string& message, int status = 0);
  void finish(Exchange& ex);
  void rerank(Exchange& ex, Dialect route_dialect);
  void metrics_page(Exchange& ex);
  nlohmann::json info() const;

  RerankEngine& engine_;
  Scheduler& scheduler_;
  Metrics& metrics_;
  const ServerOptions& opts_;
  std::vector<Route> routes_;
  int64_t started_unix_;  // "created" of /v1/models
};

// Constant-time comparison of a presented secret with the expected one (length may leak).
bool secret_equals(std::string_view presented, std::string_view expected);

// The OpenAPI 3.0 description of the routes (GET /openapi.json).
nlohmann::json openapi_document(const std::string& version);

}  // namespace lastrank::server
