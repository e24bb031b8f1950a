// HttpServer (see http_server.h). Handlers stay thin: auth -> parse -> validate (api/request) ->
// truncate (api/truncation) -> Scheduler::run -> format (api/response); every failure is an
// ApiError rendered by write_error with the status from the one table in api/error.cpp.
#include "server/http_server.h"

#include <httplib.h>

#include <atomic>
#include <cctype>
#include <cmath>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <random>
#include <set>
#include <thread>

#include "core/error.h"
#include "api/response.h"
#include "server/metrics.h"

namespace lastrank::server {
namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

const std::set<std::string> kRoutes = {"/v1/rerank", "/v2/rerank", "/rerank", "/health", "/info", "/metrics",
                                       "/openapi.json"};

// Per-request state, set by the pre-routing handler and read by the logger; both run on the
// connection's thread, so a thread_local is enough.
struct RequestContext {
  bool active = false;
  std::string id;
  Clock::time_point start;
  Dialect dialect = Dialect::plain;
  size_t documents = 0;
  int64_t tokens = 0;
  std::string error;
};
thread_local RequestContext t_ctx;

std::string new_request_id() {
  thread_local std::mt19937_64 rng(std::random_device{}() ^ std::hash<std::thread::id>{}(std::this_thread::get_id()));
  char buf[33];
  std::snprintf(buf, sizeof buf, "%016llx%016llx", (unsigned long long)rng(), (unsigned long long)rng());
  return buf;
}

// A client's X-Request-Id is echoed if it is 1..128 characters of [A-Za-z0-9._:-].
bool acceptable_request_id(const std::string& id) {
  if (id.empty() || id.size() > 128) return false;
  for (unsigned char c : id)
    if (!(std::isalnum(c) || c == '.' || c == '_' || c == ':' || c == '-')) return false;
  return true;
}

std::string utc_now() {
  auto now = std::chrono::system_clock::now();
  std::time_t t = std::chrono::system_clock::to_time_t(now);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, int(ms));
  return buf;
}

std::string dump_json(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

}  // namespace

bool secret_equals(std::string_view presented, std::string_view expected) {
  volatile unsigned char diff = presented.size() == expected.size() ? 0 : 1;
  for (size_t i = 0; i < expected.size(); ++i) {
    const unsigned char p = i < presented.size() ? static_cast<unsigned char>(presented[i]) : 0;
    diff = diff | (p ^ static_cast<unsigned char>(expected[i]));
  }
  return diff == 0;
}

struct HttpServer::Impl {
  RerankEngine& engine;
  ServerOptions opts;
  Scheduler scheduler;
  Metrics metrics;
  httplib::Server svr;
  std::atomic<bool> stop_requested{false}, in_run{false};
  socket_t listen_fd = INVALID_SOCKET;
  static constexpr int kListenBacklog = 1024;

  Impl(RerankEngine& e, ServerOptions o) : engine(e), opts(std::move(o)), scheduler(e, opts.scheduler) {
    install();
  }

  void write_error(httplib::Response& res, Dialect dialect, ErrorKind kind, const std::string& message) {
    res.status = http_status(kind);
    if (kind == ErrorKind::overloaded) res.set_header("Retry-After", "1");
    if (kind == ErrorKind::unavailable) res.set_header("Retry-After", "5");
    if (kind == ErrorKind::unauthorized) res.set_header("WWW-Authenticate", "Bearer");
    t_ctx.error = message;
    res.set_content(dump_json(error_body(dialect, kind, message, t_ctx.id)), "application/json");
  }

  void check_auth(const httplib::Request& req) const {
    if (opts.api_key.empty()) return;
    const std::string h = req.get_header_value("Authorization");
    constexpr std::string_view kBearer = "bearer ";  // the scheme name is case-insensitive (RFC 9110)
    bool is_bearer = h.size() > kBearer.size();
    for (size_t i = 0; is_bearer && i < kBearer.size(); ++i)
      is_bearer = std::tolower(static_cast<unsigned char>(h[i])) == kBearer[i];
    if (!is_bearer)
      throw ApiError(ErrorKind::unauthorized, "missing \"Authorization: Bearer <key>\" header");
    if (!secret_equals(std::string_view(h).substr(kBearer.size()), opts.api_key))
      throw ApiError(ErrorKind::unauthorized, "invalid API key");
  }

  // Runs fn with auth and the one catch-all that turns exceptions into error responses.
  template <typename Fn>
  void guarded(const httplib::Request& req, httplib::Response& res, bool needs_auth, Fn&& fn) {
    try {
      if (needs_auth) check_auth(req);
      fn();
    } catch (const ApiError& e) {
      write_error(res, t_ctx.dialect, e.kind(), e.what());
    } catch (const lastrank::Error& e) {
      write_error(res, t_ctx.dialect, ErrorKind::invalid_field, e.what());
    } catch (const std::exception& e) {
      write_error(res, t_ctx.dialect, ErrorKind::internal, cat("internal error: ", e.what()));
    }
  }

  void handle_rerank(Dialect route_dialect, const httplib::Request& req, const std::string& body_text,
                     httplib::Response& res) {
    struct InFlight {
      Metrics& m;
      explicit InFlight(Metrics& mm) : m(mm) { m.add_in_flight(1); }
      ~InFlight() { m.add_in_flight(-1); }
    } in_flight(metrics);
    t_ctx.dialect = route_dialect;
    guarded(req, res, true, [&] {
      json body = api::parse_json_body(body_text, opts.limits.max_json_depth);
      Dialect d = route_dialect;
      if (req.path == "/rerank" && body.is_object() && body.contains("texts")) d = Dialect::tei;  // llama.cpp's rule
      t_ctx.dialect = d;
      ApiRequest request = api::parse_rerank_request(d, std::move(body), opts.limits);
      t_ctx.documents = request.documents.size();
      api::apply_truncation(request, engine, {engine.info().max_query_tokens, engine.info().max_doc_tokens}, opts.limits);
      const auto deadline = t_ctx.start + std::chrono::duration_cast<Clock::duration>(
                                              std::chrono::duration<double>(opts.request_timeout_s));
      Scheduler::Timing timing;
      RerankResponse resp = scheduler.run(std::move(request.request), request.priority, deadline, &timing);
      t_ctx.tokens = resp.total_tokens;
      metrics.record_compute(timing.queue_s, timing.compute_s, resp.total_tokens, request.documents.size());
      json out = api::make_rerank_response(request, resp, engine.info().model_name, t_ctx.id);
      res.set_header("x-compute-tokens", std::to_string(resp.total_tokens));
      res.set_header("x-queue-time", std::to_string(int64_t(timing.queue_s * 1000)));
      res.set_header("x-inference-time", std::to_string(int64_t(timing.compute_s * 1000)));
      res.set_content(dump_json(out), "application/json");
    });
  }

  json info() const {
    const EngineInfo& e = engine.info();
    return {
        {"model", e.model_name},
        {"version", LASTRANK_VERSION},
        {"kernel_set", e.kernel_set},
        {"engine", {{"precision", e.precision}, {"threads", e.threads}, {"block_size", e.block_size}}},
        {"dims",
         {{"hidden_size", e.hidden_size}, {"num_layers", e.num_layers}, {"projector_dim", e.projector_dim},
          {"vocab_size", e.vocab_size}}},
        {"limits",
         {{"max_body_bytes", opts.max_body_bytes},
          {"max_documents", opts.limits.max_documents},
          {"max_query_tokens", e.max_query_tokens},
          {"max_doc_tokens", e.max_doc_tokens},
          {"auto_truncate", opts.limits.auto_truncate},
          {"max_queue", opts.scheduler.max_queue},
          {"request_timeout_s", opts.request_timeout_s},
          {"http_threads", opts.http_threads}}},
        {"auth", !opts.api_key.empty()},
        {"routes", {"POST /v1/rerank", "POST /v2/rerank", "POST /rerank", "GET /health", "GET /info", "GET /metrics",
                    "GET /openapi.json"}},
        {"notes",
         {"max_chunks_per_doc is accepted and ignored: documents longer than max_doc_tokens are truncated "
          "(reference rule), not chunked",
          "scores are cosine similarities in [-1, 1] (jina-reranker-v3); TEI raw_scores has no effect",
          "one request per forward pass: requests are not batched together (listwise prompts)",
          "top_n larger than the number of documents is clamped; 0 or negative is rejected (422)",
          "Content-Type is not checked: any body that parses as JSON is accepted"}}};
  }

  void install() {
    svr.set_payload_max_length(opts.max_body_bytes);
    svr.set_read_timeout(opts.read_timeout_s, 0);
    svr.set_write_timeout(opts.write_timeout_s, 0);
    svr.set_keep_alive_timeout(opts.keep_alive_timeout_s);
    svr.set_keep_alive_max_count(100000);
    const size_t threads = size_t(std::max(opts.http_threads, 1));
    svr.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
    // httplib 0.11 listens with a backlog of 5: bursts of connections overflow it and clients
    // stall in SYN retries (1 s, 3 s, ...). Remember the socket to re-listen with a deeper one.
    svr.set_socket_options([this](socket_t sock) {
      int yes = 1;
      setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
      listen_fd = sock;
    });

    svr.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
      t_ctx = RequestContext{};
      t_ctx.active = true;
      t_ctx.start = Clock::now();
      const std::string given = req.get_header_value("X-Request-Id");
      t_ctx.id = acceptable_request_id(given) ? given : new_request_id();
      res.set_header("X-Request-Id", t_ctx.id);
      return httplib::Server::HandlerResponse::Unhandled;
    });

    // Bodies are read through a ContentReader so that chunked bodies are bounded too (httplib
    // 0.11 enforces the payload limit only for Content-Length bodies).
    auto post = [this](const char* path, Dialect dialect) {
      svr.Post(path, [this, dialect](const httplib::Request& req, httplib::Response& res,
                                     const httplib::ContentReader& reader) {
        std::string body;
        bool too_big = false;
        const bool read = reader([&](const char* data, size_t n) {
          if (body.size() + n > opts.max_body_bytes) {
            too_big = true;
            return false;
          }
          body.append(data, n);
          return true;
        });
        if (too_big || res.status == 413) {
          write_error(res, dialect, ErrorKind::payload_too_large,
                      cat("request body larger than ", opts.max_body_bytes, " bytes (--max-body-bytes)"));
          res.set_header("Connection", "close");
        } else if (!read) {
          write_error(res, dialect, ErrorKind::malformed_json, "could not read the request body");
        } else {
          handle_rerank(dialect, req, body, res);
        }
      });
    };
    post("/v1/rerank", Dialect::jina_v1);
    post("/v2/rerank", Dialect::cohere_v2);
    post("/rerank", Dialect::jina_v1);
    svr.Get("/health", [](const auto&, auto& res) { res.set_content(R"({"status":"ok"})", "application/json"); });
    svr.Get("/info", [this](const auto& req, auto& res) {
      guarded(req, res, true, [&] { res.set_content(dump_json(info()), "application/json"); });
    });
    svr.Get("/metrics", [this](const auto& req, auto& res) {
      guarded(req, res, true, [&] {
        res.set_content(metrics.render(scheduler.queue_depth(), scheduler.computing()), "text/plain; version=0.0.4");
      });
    });
    svr.Get("/openapi.json", [this](const auto& req, auto& res) {
      guarded(req, res, true, [&] { res.set_content(dump_json(openapi_document(LASTRANK_VERSION)), "application/json"); });
    });

    // Bodies for errors raised inside httplib (404, 413, malformed HTTP); ours already have one.
    svr.set_error_handler(httplib::Server::HandlerWithResponse([this](const httplib::Request& req,
                                                                      httplib::Response& res) {
      if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
      ErrorKind kind = ErrorKind::malformed_json;
      std::string msg = cat("bad HTTP request (status ", res.status, ")");
      if (res.status == 404) {
        kind = ErrorKind::not_found;
        msg = cat("no route for ", req.method, " ", req.path);
      } else if (res.status == 413) {
        kind = ErrorKind::payload_too_large;
        msg = cat("request body larger than ", opts.max_body_bytes, " bytes (--max-body-bytes)");
      }
      const int status = res.status;
      write_error(res, Dialect::plain, kind, msg);
      res.status = status;
      return httplib::Server::HandlerResponse::Handled;
    }));
    svr.set_exception_handler([this](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
      write_error(res, Dialect::plain, ErrorKind::internal, "internal error");
    });
    svr.set_logger([this](const httplib::Request& req, const httplib::Response& res) { log(req, res); });
  }

  void log(const httplib::Request& req, const httplib::Response& res) {
    if (!t_ctx.active) {  // malformed request line: no pre-routing ran
      t_ctx.start = Clock::now();
      t_ctx.id = new_request_id();
    }
    const double secs = std::chrono::duration<double>(Clock::now() - t_ctx.start).count();
    const std::string route = kRoutes.count(req.path) ? req.path : "other";
    metrics.record_request(route, res.status, secs);
    if (opts.log_requests) {
      nlohmann::ordered_json line = {{"ts", utc_now()},       {"request_id", t_ctx.id}, {"method", req.method},
                                     {"route", route},         {"status", res.status},   {"documents", t_ctx.documents},
                                     {"tokens", t_ctx.tokens}, {"ms", std::round(secs * 1e4) / 10}};
      if (!t_ctx.error.empty()) line["error"] = t_ctx.error;
      const std::string s = line.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
      std::fwrite(s.data(), 1, s.size(), stderr);
    }
    t_ctx = RequestContext{};
  }
};

HttpServer::HttpServer(RerankEngine& engine, ServerOptions opts)
    : impl_(std::make_unique<Impl>(engine, std::move(opts))) {}

HttpServer::~HttpServer() {
  shutdown();
  impl_->scheduler.drain();
}

int HttpServer::bind() {
  auto& s = impl_->svr;
  const auto& o = impl_->opts;
  int port = o.port;
  if (port == 0) {
    port = s.bind_to_any_port(o.host);
    if (port < 0) fail("cannot bind ", o.host, " on any port");
  } else if (!s.bind_to_port(o.host, port)) {
    fail("cannot bind ", o.host, ":", port, " (in use, or not a local address)");
  }
  if (impl_->listen_fd != INVALID_SOCKET) ::listen(impl_->listen_fd, Impl::kListenBacklog);
  return port;
}

void HttpServer::run() {
  impl_->in_run = true;
  if (!impl_->stop_requested) impl_->svr.listen_after_bind();
  impl_->in_run = false;
  impl_->scheduler.drain();
}

void HttpServer::shutdown() {
  impl_->stop_requested = true;
  impl_->scheduler.stop_admitting();
  // stop() is a no-op until listen has started: wait briefly if run() is just starting.
  for (int i = 0; i < 2000 && impl_->in_run && !impl_->svr.is_running(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  impl_->svr.stop();
}

}  // namespace lastrank::server
