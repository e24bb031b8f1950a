// libFuzzer target: the server's HTTP layer above the socket. The input is one connection: byte 0
// picks the server's options, byte 1 how many bytes each read returns (1..15, or all), the rest is
// what the client sends (one or several pipelined requests, any header, chunked bodies,
// Expect: 100-continue, garbage). It is read with the connection's own codec
// (src/server/http_codec.h: Beast's parser under the server's limits, the bounded read buffer,
// the refusal of a request that cannot be read) through Beast's synchronous reads, as
// connection.cpp does asynchronously, and every request is answered by the Router (all routes)
// over a fake engine (tests/server/fake_engine.h).
// Options (byte 0): bit 0 API key, bits 1-2 CORS (off, two origins, "*", both), bit 3
// --public-metrics, bit 4 small limits (256-byte header, 512-byte body, 4 documents), bit 5
// --scores unit, bit 6 --max-chunks-per-doc 3, bit 7 --no-auto-truncate.
// Checks, for every answer: the status is 200, 204 or one of src/api/error.cpp's table (a read
// refusal 400, 413 or 431, closing); 500/424 only when the engine failed on purpose (query
// "nan-score"); JSON bodies parse, errors in the dialect's error shape; X-Request-Id set (the
// client's when acceptable); 401 exactly when a keyed route lacks the key; 404 exactly when no
// route matches; CORS headers exactly for allowed origins; the answer serializes; no exception.
// Seeds: tests/fuzz/seeds/fuzz_http_router/ (two option bytes, then the requests). With
// FUZZ_HTTP_ROUTER_TRACE=1 every answer's method, path and status go to stderr (to see what a
// seed reaches).
#include <boost/asio/buffer.hpp>
#include <boost/asio/error.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <set>
#include <string>
#include <string_view>

#include "../server/fake_engine.h"
#include "server/http_codec.h"
#include "server/metrics.h"
#include "server/router.h"
#include "server/scheduler.h"

namespace {

using namespace lastrank;
using namespace lastrank::server;
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using nlohmann::json;

constexpr const char* kKey = "fuzz-key";
constexpr int kMaxRequests = 64;  // per connection (pipelined)

void check(bool ok, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "fuzz_http_router: %s\n", what);
  std::abort();
}

// The fake engine's tokens and scores without its test gate, call log or slow queries; the query
// "nan-score" yields a non-finite score (an engine failure: 500, or TEI's 424).
class FuzzEngine final : public testing::FakeEngine {
 public:
  RerankResponse rerank(const RerankRequest& req, const CancelToken&) override {
    failed_on_purpose = failed_on_purpose || req.query == "nan-score";
    return scored(req);
  }
  std::atomic<bool> failed_on_purpose{false};
};

// The client's bytes as a Beast SyncReadStream (at most `piece` bytes per read, EOF at the end);
// what the server writes is counted and dropped.
class ClientBytes {
 public:
  ClientBytes(std::string_view in, size_t piece) : in_(in), piece_(piece) {}
  template <class Buffers>
  size_t read_some(const Buffers& buffers, beast::error_code& ec) {
    ec = {};
    if (in_.empty()) {
      ec = asio::error::eof;
      return 0;
    }
    const size_t n = asio::buffer_copy(buffers, asio::buffer(in_.data(), std::min(in_.size(), piece_)));
    in_.remove_prefix(n);
    return n;
  }
  template <class Buffers>
  size_t read_some(const Buffers& buffers) {
    beast::error_code ec;
    const size_t n = read_some(buffers, ec);
    if (ec) throw beast::system_error(ec);
    return n;
  }
  template <class Buffers>
  size_t write_some(const Buffers& buffers, beast::error_code& ec) {
    ec = {};
    const size_t n = asio::buffer_size(buffers);
    written_ += n;
    return n;
  }
  template <class Buffers>
  size_t write_some(const Buffers& buffers) {
    beast::error_code ec;
    return write_some(buffers, ec);
  }
  bool exhausted() const { return in_.empty(); }
  size_t written() const { return written_; }

 private:
  std::string_view in_;
  size_t piece_;
  size_t written_ = 0;
};

ServerOptions options_of(uint8_t bits) {
  ServerOptions o;
  o.log_requests = false;
  if (bits & 1) o.api_key = kKey;
  const int cors = (bits >> 1) & 3;
  if (cors & 1) o.cors.allowed_origins = {"https://app.example", "http://localhost:3000"};
  if (cors & 2) o.cors.allowed_origins.push_back("*");
  o.public_metrics = bits & 8;
  if (bits & 16) {
    o.max_header_bytes = 256;
    o.max_body_bytes = 512;
    o.limits.max_documents = 4;
  }
  if (bits & 32) o.scores = api::ScoreScale::unit;
  if (bits & 64) o.limits.max_chunks_per_doc = 3;
  o.limits.auto_truncate = !(bits & 128);
  return o;
}

// One engine, scheduler and metrics; one Router per option byte, made when first needed.
struct Servers {
  FuzzEngine engine;
  Metrics metrics;
  Scheduler scheduler{engine, SchedulerOptions{}, &metrics};
  std::array<std::unique_ptr<ServerOptions>, 256> opts;
  std::array<std::unique_ptr<Router>, 256> routers;
  std::set<int> statuses;  // 200, 204 and every status of api/error.cpp's table

  Servers() {
    statuses = {200, 204};
    for (int k = 0; k <= int(ErrorKind::internal); ++k)
      for (Dialect d : {Dialect::jina_v1, Dialect::cohere_v2, Dialect::tei, Dialect::plain})
        statuses.insert(http_status(ErrorKind(k), d));
  }
  Router& router(uint8_t bits) {
    if (!routers[bits]) {
      opts[bits] = std::make_unique<ServerOptions>(options_of(bits));
      routers[bits] = std::make_unique<Router>(engine, scheduler, metrics, *opts[bits]);
    }
    return *routers[bits];
  }
};

Servers& servers() {
  static Servers* s = new Servers;  // never destroyed: the scheduler's thread outlives main's return
  return *s;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

bool acceptable_request_id(const std::string& id) {
  if (id.empty() || id.size() > 128) return false;
  return std::all_of(id.begin(), id.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '.' || c == '_' || c == ':' || c == '-';
  });
}

bool has_key(const HttpRequest& req) {
  const std::string h = req.header("Authorization");
  return h.size() > 7 && iequals(std::string_view(h).substr(0, 7), "bearer ") && h.substr(7) == kKey;
}

const Router::Route* route_of(const Router& router, const HttpRequest& req) {
  const std::string method = req.method == "HEAD" ? "GET" : req.method;
  for (const Router::Route& r : router.routes())
    if (r.method == method && std::find(r.paths.begin(), r.paths.end(), req.path) != r.paths.end()) return &r;
  return nullptr;
}

bool origin_allowed(const CorsPolicy& cors, const std::string& origin) {
  const auto& o = cors.allowed_origins;
  return !origin.empty() && (std::find(o.begin(), o.end(), "*") != o.end() || std::find(o.begin(), o.end(), origin) != o.end());
}

// Every answer, routed or refused: request id, body shape, CORS.
void check_answer(const HttpRequest& req, const HttpResponse& res, const ServerOptions& opts) {
  const std::string id = res.header("X-Request-Id");
  check(acceptable_request_id(id), "X-Request-Id missing or not [A-Za-z0-9._:-]{1,128}");
  const std::string given = req.header("X-Request-Id");
  check(!acceptable_request_id(given) || id == given, "an acceptable client X-Request-Id was not echoed");
  if (res.status == 204) {
    check(res.body.empty(), "204 with a body");
  } else if (res.content_type == "application/json") {
    check(json::accept(res.body), "application/json body that does not parse");
  } else {
    check(res.status == 200 && req.path == "/metrics", "a non-JSON answer other than /metrics");
  }
  if (res.status >= 400) {
    const json body = json::parse(res.body);
    const bool tei = body.is_object() && body.contains("error_type");
    check(body.is_object() && body.contains("error"), "error body without \"error\"");
    if (tei) {
      check(body["error"].is_string() && body["error_type"].is_string(), "TEI error body fields");
    } else {
      check(body["message"].is_string() && body["error"].is_object() && body["request_id"] == id,
            "error body without message, error object or the request id");
      check(body["error"]["code"] == res.status, "error.code is not the answer's status");
    }
  }
  const std::string allow = res.header("Access-Control-Allow-Origin");
  if (!opts.cors.enabled()) {
    check(allow.empty() && res.header("Vary").empty(), "CORS headers while CORS is off");
    return;
  }
  check(res.header("Vary") == "Origin", "CORS on without Vary: Origin");
  const std::string origin = req.header("Origin");
  const bool wildcard = std::find(opts.cors.allowed_origins.begin(), opts.cors.allowed_origins.end(), "*") !=
                        opts.cors.allowed_origins.end();
  if (origin_allowed(opts.cors, origin))
    check(allow == (wildcard ? "*" : origin), "allowed origin without its Access-Control-Allow-Origin");
  else
    check(allow.empty(), "Access-Control-Allow-Origin for an origin that is not allowed");
}

// A routed answer: also auth, 404, preflight and the success shapes.
void check_routed(const Router& router, const HttpRequest& req, const HttpResponse& res, const ServerOptions& opts,
                  bool engine_failed) {
  check(servers().statuses.count(res.status) == 1, "status outside api/error.cpp's table, 200 and 204");
  check_answer(req, res, opts);
  check(!res.close, "a routed answer closes the connection");
  const bool preflight = opts.cors.enabled() && req.method == "OPTIONS";
  const Router::Route* route = route_of(router, req);
  if (preflight) return check(res.status == 204, "CORS preflight not answered 204");
  check((res.status == 404) == (route == nullptr), "404 and an unknown route are not the same thing");
  if (!route) return;
  const bool keyed = !opts.api_key.empty() && route->needs_auth && !(opts.public_metrics && req.path == "/metrics");
  check((res.status == 401) == (keyed && !has_key(req)), "401 and a missing key are not the same thing");
  check(engine_failed || (res.status != 500 && res.status != 424), "bad input answered as an internal error");
  if (res.status != 200 || !route->blocks) return;
  const json body = json::parse(res.body);
  if (req.path == "/tokenize" || req.path == "/detokenize" || req.path == "/decode")
    check(body.is_array() && !body.empty(), "/tokenize or /detokenize answer is not a non-empty array");
  else
    check(body.is_array() || (body.is_object() && body["results"].is_array()), "rerank answer without results");
}

void send(ClientBytes& client, HttpResponse res, unsigned version, bool keep_alive, bool head,
          const HttpRequest& req) {
  static const bool trace = std::getenv("FUZZ_HTTP_ROUTER_TRACE") != nullptr;
  if (trace) std::fprintf(stderr, "%s %s -> %d %s\n", req.method.c_str(), req.path.c_str(), res.status, res.body.substr(0, 160).c_str());
  ResponseMessage msg = response_message(std::move(res), version, keep_alive, head);
  beast::error_code ec;
  const size_t before = client.written();
  http::write(client, msg, ec);
  check(!ec && client.written() > before, "the answer does not serialize");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  Servers& s = servers();
  Router& router = s.router(data[0]);
  const ServerOptions& opts = *s.opts[data[0]];
  const size_t piece = data[1] % 16 == 0 ? SIZE_MAX : data[1] % 16;
  ClientBytes client(std::string_view(reinterpret_cast<const char*>(data) + 2, size - 2), piece);
  beast::flat_buffer buffer = make_read_buffer(opts);
  std::optional<RequestParser> parser;
  for (int i = 0; i < kMaxRequests; ++i) {
    start_request(parser, opts);
    const auto start = std::chrono::steady_clock::now();
    beast::error_code ec;
    http::read_header(client, buffer, *parser, ec);
    if (!ec && expects_continue(parser->get())) {
      http::response<http::empty_body> cont{http::status::continue_, parser->get().version()};
      http::write(client, cont, ec);
    }
    if (!ec) http::read(client, buffer, *parser, ec);
    check(buffer.size() <= read_buffer_limit(opts), "read buffer past its bound");
    if (ec) {
      const std::optional<ReadRefusal> refusal = read_refusal(ec, opts);
      if (!refusal) {  // the only hang-up an in-memory client makes: its bytes ran out
        check(client.exhausted() && (ec == http::error::end_of_stream || ec == http::error::partial_message),
              "a read error taken for a hang-up");
        break;
      }
      const HttpRequest partial = partial_request(&*parser, start);
      HttpResponse res = router.refuse(partial, refusal->kind, refusal->message, refusal->status);
      check(res.close && (res.status == 400 || res.status == 413 || res.status == 431), "a refusal is not 400/413/431");
      check_answer(partial, res, opts);
      send(client, std::move(res), 11, false, false, partial);
      break;
    }
    const bool keep_alive = parser->get().keep_alive();
    const unsigned version = parser->get().version();
    const bool head = parser->get().method() == http::verb::head;
    const HttpRequest req = to_request(parser->release(), start);
    s.engine.failed_on_purpose = false;
    HttpResponse res = router.handle(req);
    check_routed(router, req, res, opts, s.engine.failed_on_purpose);
    const bool close = res.close;
    send(client, std::move(res), version, keep_alive && !close, head, req);
    if (!keep_alive || close || (client.exhausted() && buffer.size() == 0)) break;
  }
  return 0;
}
