// Router (see router.h). Handlers stay thin: auth -> parse -> validate (api/request) ->
// truncate (api/truncation) -> Scheduler::run -> format (api/response); every failure is an
// ApiError rendered by write_error with the status from the one table in api/error.cpp.
#include "server/router.h"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <random>
#include <thread>

#include "api/response.h"
#include "api/scores.h"
#include "api/tokenize.h"
#include "core/error.h"

namespace lastrank::server {
namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  return true;
}

std::string find_header(const Headers& headers, std::string_view name) {
  for (const auto& [k, v] : headers)
    if (iequals(k, name)) return v;
  return "";
}

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

void set_json(HttpResponse& res, const json& j) {
  res.content_type = "application/json";
  res.body = dump_json(j);
}

// Counts a rerank request as in flight for the lifetime of the object.
struct InFlight {
  Metrics& m;
  explicit InFlight(Metrics& mm) : m(mm) { m.add_in_flight(1); }
  ~InFlight() { m.add_in_flight(-1); }
};

}  // namespace

std::string HttpRequest::header(std::string_view name) const { return find_header(headers, name); }
std::string HttpResponse::header(std::string_view name) const { return find_header(headers, name); }

void HttpResponse::set_header(std::string name, std::string value) {
  for (auto& [k, v] : headers)
    if (iequals(k, name)) {
      v = std::move(value);
      return;
    }
  headers.emplace_back(std::move(name), std::move(value));
}

bool secret_equals(std::string_view presented, std::string_view expected) {
  volatile unsigned char diff = presented.size() == expected.size() ? 0 : 1;
  for (size_t i = 0; i < expected.size(); ++i) {
    const unsigned char p = i < presented.size() ? static_cast<unsigned char>(presented[i]) : 0;
    diff = diff | (p ^ static_cast<unsigned char>(expected[i]));
  }
  return diff == 0;
}

constexpr bool kAuth = true, kOpen = false;
constexpr bool kBlocks = true, kInline = false;

// THE route table: one line per route (method, paths, needs the key, may block, handler).
std::vector<Router::Route> Router::table() {
  using E = Exchange;
  using R = Router;
  return {
      {"POST", {"/v1/rerank"}, kAuth, kBlocks, [](R& r, E& e) { r.rerank(e, Dialect::jina_v1); }},
      {"POST", {"/v2/rerank"}, kAuth, kBlocks, [](R& r, E& e) { r.rerank(e, Dialect::cohere_v2); }},
      // /rerank and llama.cpp's paths: TEI when the body has "texts" (api::rerank_dialect)
      {"POST", {"/rerank", "/reranking", "/v1/reranking"}, kAuth, kBlocks, [](R& r, E& e) { r.rerank(e, Dialect::jina_v1); }},
      {"POST", {"/tokenize"}, kAuth, kBlocks, [](R& r, E& e) { r.tokenize(e); }},
      {"POST", {"/detokenize", "/decode"}, kAuth, kBlocks, [](R& r, E& e) { r.detokenize(e); }},
      {"GET", {"/health", "/ready"}, kOpen, kInline, [](R& r, E& e) { r.health(e); }},
      {"GET", {"/live"}, kOpen, kInline, [](R&, E& e) { e.res.body = R"({"status":"ok"})"; }},
      {"GET", {"/v1/models"}, kAuth, kInline, [](R& r, E& e) { set_json(e.res, api::models_response(r.engine_.info().model_name, r.started_unix_)); }},
      {"GET", {"/info"}, kAuth, kInline, [](R& r, E& e) { set_json(e.res, r.info()); }},
      {"GET", {"/metrics"}, kAuth, kInline, [](R& r, E& e) { r.metrics_page(e); }},
      {"GET", {"/openapi.json"}, kAuth, kInline, [](R&, E& e) { set_json(e.res, openapi_document(LASTRANK_VERSION)); }},
  };
}

Router::Router(RerankEngine& engine, Scheduler& scheduler, Metrics& metrics, const ServerOptions& opts)
    : engine_(engine),
      scheduler_(scheduler),
      metrics_(metrics),
      opts_(opts),
      routes_(table()),
      started_unix_(int64_t(std::time(nullptr))) {}

// HEAD is answered like GET (the transport sends the header only).
const Router::Route* Router::find(const HttpRequest& req) const {
  const std::string& method = req.method == "HEAD" ? std::string("GET") : req.method;
  for (const Route& r : routes_)
    if (r.method == method)
      for (const std::string& p : r.paths)
        if (p == req.path) return &r;
  return nullptr;
}

bool Router::route_blocks(const HttpRequest& req) const {
  const Route* r = find(req);
  return r && r->blocks;
}

bool Router::known_path(const std::string& path) const {
  for (const Route& r : routes_)
    for (const std::string& p : r.paths)
      if (p == path) return true;
  return false;
}

HttpResponse Router::handle(const HttpRequest& req, std::shared_ptr<CancelToken> cancel) {
  Exchange ex{req};
  ex.cancel = cancel ? std::move(cancel) : std::make_shared<CancelToken>();
  begin(ex);
  const bool preflight = opts_.cors.enabled() && req.method == "OPTIONS";
  if (preflight) {
    ex.res.status = 204;  // CORS preflight: no key, no body; the headers below say what is allowed
  } else if (const Route* route = find(req)) {
    run_guarded(*route, ex);
  } else {
    write_error(ex, ErrorKind::not_found, cat("no route for ", req.method, " ", req.path));
  }
  finish(ex);
  return std::move(ex.res);
}

HttpResponse Router::refuse(const HttpRequest& req, ErrorKind kind, const std::string& message, int status) {
  Exchange ex{req};
  begin(ex);
  write_error(ex, kind, message, status);
  ex.res.close = true;
  finish(ex);
  return std::move(ex.res);
}

void Router::begin(Exchange& ex) {
  const std::string given = ex.req.header("X-Request-Id");
  ex.request_id = acceptable_request_id(given) ? given : new_request_id();
  ex.res.set_header("X-Request-Id", ex.request_id);
}

void Router::run_guarded(const Route& route, Exchange& ex) {
  try {
    if (needs_auth(route, ex.req)) check_auth(ex.req);
    route.handler(*this, ex);
  } catch (const ApiError& e) {
    write_error(ex, e.kind(), e.what());
  } catch (const lastrank::Error& e) {
    write_error(ex, ErrorKind::invalid_field, e.what());
  } catch (const std::exception& e) {
    write_error(ex, ErrorKind::internal, cat("internal error: ", e.what()));
  }
}

bool Router::needs_auth(const Route& route, const HttpRequest& req) const {
  return route.needs_auth && !(opts_.public_metrics && req.path == "/metrics");
}

void Router::add_cors(Exchange& ex) const {
  const bool preflight = ex.req.method == "OPTIONS";
  for (auto& [name, value] : cors_headers(opts_.cors, ex.req.header("Origin"), preflight))
    ex.res.set_header(std::move(name), std::move(value));
}

void Router::check_auth(const HttpRequest& req) const {
  if (opts_.api_key.empty()) return;
  const std::string h = req.header("Authorization");
  constexpr std::string_view kBearer = "bearer ";  // the scheme name is case-insensitive (RFC 9110)
  const bool is_bearer = h.size() > kBearer.size() && iequals(std::string_view(h).substr(0, kBearer.size()), kBearer);
  if (!is_bearer) throw ApiError(ErrorKind::unauthorized, "missing \"Authorization: Bearer <key>\" header");
  if (!secret_equals(std::string_view(h).substr(kBearer.size()), opts_.api_key))
    throw ApiError(ErrorKind::unauthorized, "invalid API key");
}

void Router::write_error(Exchange& ex, ErrorKind kind, const std::string& message, int status) {
  HttpResponse& res = ex.res;
  res.status = status ? status : http_status(kind, ex.dialect);
  if (kind == ErrorKind::overloaded) res.set_header("Retry-After", "1");
  if (kind == ErrorKind::unavailable) res.set_header("Retry-After", "5");
  if (kind == ErrorKind::unauthorized) res.set_header("WWW-Authenticate", "Bearer");
  ex.error = message;
  json body = error_body(ex.dialect, kind, message, ex.request_id);
  if (status && body.contains("error") && body["error"].is_object()) body["error"]["code"] = status;  // 431
  set_json(res, body);
}

// Metrics and the JSON log line, once per request.
void Router::finish(Exchange& ex) {
  add_cors(ex);  // every answer, errors and refusals included
  const double secs = std::chrono::duration<double>(Clock::now() - ex.req.start).count();
  const std::string route = known_path(ex.req.path) ? ex.req.path : "other";
  metrics_.record_request(route, ex.res.status, secs);
  if (!opts_.log_requests) return;
  nlohmann::ordered_json line = {{"ts", utc_now()},        {"request_id", ex.request_id}, {"method", ex.req.method},
                                 {"route", route},          {"status", ex.res.status},     {"documents", ex.documents},
                                 {"tokens", ex.tokens},     {"ms", std::round(secs * 1e4) / 10}};
  if (!ex.error.empty()) line["error"] = ex.error;
  if (ex.cancel && ex.cancel->cancelled()) line["cancelled"] = cancel_reason_name(ex.cancel->reason());
  const std::string s = line.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
  std::fwrite(s.data(), 1, s.size(), stderr);
}

void Router::rerank(Exchange& ex, Dialect route_dialect) {
  InFlight in_flight(metrics_);
  ex.dialect = route_dialect;
  json body = api::parse_json_body(ex.req.body, opts_.limits.max_json_depth);
  const Dialect d = api::rerank_dialect(ex.req.path, body);  // TEI on /rerank & co when the body has "texts"
  ex.dialect = d;
  ApiRequest request = api::parse_rerank_request(d, std::move(body), opts_.limits);
  ex.documents = request.documents.size();
  api::apply_truncation(request, engine_, {engine_.info().max_query_tokens, engine_.info().max_doc_tokens}, opts_.limits);
  const auto deadline =
      ex.req.start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(opts_.request_timeout_s));
  Scheduler::Timing timing;
  RerankResponse resp = scheduler_.run(std::move(request.request), request.priority, deadline, &timing, ex.cancel);
  api::apply_score_scale(resp, opts_.scores);
  ex.tokens = resp.total_tokens;
  metrics_.record_compute(timing.queue_s, timing.compute_s, resp.total_tokens, request.documents.size());
  set_json(ex.res, api::make_rerank_response(request, resp, engine_.info().model_name, ex.request_id));
  ex.res.set_header("x-compute-tokens", std::to_string(resp.total_tokens));
  ex.res.set_header("x-queue-time", std::to_string(int64_t(timing.queue_s * 1000)));
  ex.res.set_header("x-inference-time", std::to_string(int64_t(timing.compute_s * 1000)));
}

// /health and /ready: 200 once the engine is loaded and warmed up (EngineSlot), else 503.
void Router::health(Exchange& ex) {
  if (!engine_.ready()) throw ApiError(ErrorKind::unavailable, "model is loading");
  ex.res.body = R"({"status":"ok"})";
}

// TEI /tokenize and /detokenize: the request module parses and answers (api/tokenize.h).
void Router::tokenize(Exchange& ex) {
  ex.dialect = Dialect::tei;
  json body = api::parse_json_body(ex.req.body, opts_.limits.max_json_depth);
  const api::TokenizeRequest request = api::parse_tokenize_request(std::move(body), opts_.limits);
  ex.documents = request.inputs.size();
  set_json(ex.res, api::tokenize_response(request, engine_.tokenizer()));
}

void Router::detokenize(Exchange& ex) {
  ex.dialect = Dialect::tei;
  json body = api::parse_json_body(ex.req.body, opts_.limits.max_json_depth);
  const Tokenizer& tokenizer = engine_.tokenizer();
  const api::DetokenizeRequest request = api::parse_detokenize_request(std::move(body), opts_.limits, tokenizer.vocab_size());
  ex.documents = request.ids.size();
  set_json(ex.res, api::detokenize_response(request, tokenizer));
}

void Router::metrics_page(Exchange& ex) {
  ex.res.content_type = "text/plain; version=0.0.4";
  ex.res.body = metrics_.render(scheduler_.queue_depth(), scheduler_.computing());
}

json Router::info() const {
  const EngineInfo& e = engine_.info();
  json routes = json::array();
  for (const Route& r : routes_)
    for (const std::string& p : r.paths) routes.push_back(r.method + " " + p);
  return {
      {"model", e.model_name},
      {"version", LASTRANK_VERSION},
      {"kernel_set", e.kernel_set},
      {"engine", {{"precision", e.precision}, {"threads", e.threads}, {"block_size", e.block_size}}},
      {"dims",
       {{"hidden_size", e.hidden_size}, {"num_layers", e.num_layers}, {"projector_dim", e.projector_dim},
        {"vocab_size", e.vocab_size}}},
      {"limits",
       {{"max_body_bytes", opts_.max_body_bytes},
        {"max_documents", opts_.limits.max_documents},
        {"max_query_tokens", e.max_query_tokens},
        {"max_doc_tokens", e.max_doc_tokens},
        {"auto_truncate", opts_.limits.auto_truncate},
        {"max_queue", opts_.scheduler.max_queue},
        {"request_timeout_s", opts_.request_timeout_s},
        {"http_threads", opts_.http_threads},
        {"io_threads", opts_.io_threads},
        {"max_connections", opts_.max_connections},
        {"max_header_bytes", opts_.max_header_bytes},
        {"read_timeout_s", opts_.read_timeout_s},
        {"keep_alive_timeout_s", opts_.keep_alive_timeout_s}}},
      {"auth", !opts_.api_key.empty()},
      {"public_metrics", opts_.public_metrics},
      {"cors_allow_origins", opts_.cors.allowed_origins},
      {"scores", api::score_scale_name(opts_.scores)},
      {"routes", routes},
      {"notes",
       {cat("documents longer than max_doc_tokens are split into up to max_chunks_per_doc chunks (default ",
            opts_.limits.max_chunks_per_doc, "; 1 = truncated by the reference rule), scored by their best chunk"),
        "scores are cosine similarities in [-1, 1] (jina-reranker-v3), or (1 + cos) / 2 with --scores unit; TEI "
        "raw_scores has no effect",
        "one request per forward pass: requests are not batched together (listwise prompts)",
        "top_n 0 or larger than the number of documents means all documents; negative is rejected (422)",
        "Content-Type is not checked: any body that parses as JSON is accepted"}}};
}

}  // namespace lastrank::server
