// The server's HTTP/1.1 codec (see http_codec.h).
#include "server/http_codec.h"

#include <boost/asio/error.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/field.hpp>

#include <algorithm>
#include <cstdint>

#include "core/error.h"

namespace lastrank::server {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

// Beast's string_view (boost::core) converts to std::string_view; copying through it is unambiguous.
std::string str(std::string_view v) { return std::string(v); }

}  // namespace

size_t read_buffer_limit(const ServerOptions& opts) { return opts.max_header_bytes + kReadSlack; }

beast::flat_buffer make_read_buffer(const ServerOptions& opts) { return beast::flat_buffer(read_buffer_limit(opts)); }

void start_request(std::optional<RequestParser>& parser, const ServerOptions& opts) {
  parser.emplace();
  parser->header_limit(uint32_t(std::min<size_t>(opts.max_header_bytes, UINT32_MAX)));
  parser->body_limit(opts.max_body_bytes);
}

bool expects_continue(const RequestMessage& msg) {
  const auto it = msg.find(http::field::expect);
  return it != msg.end() && beast::iequals(it->value(), "100-continue");
}

std::string path_of(std::string_view target) { return str(target.substr(0, target.find('?'))); }

HttpRequest to_request(RequestMessage&& msg, std::chrono::steady_clock::time_point start) {
  HttpRequest r;
  r.method = str(msg.method_string());
  r.path = path_of(msg.target());
  for (const auto& f : msg) r.headers.emplace_back(str(f.name_string()), str(f.value()));
  r.body = std::move(msg.body());
  r.start = start;
  return r;
}

HttpRequest partial_request(const RequestParser* parser, std::chrono::steady_clock::time_point start) {
  HttpRequest partial;
  partial.start = start;
  if (parser && parser->is_header_done()) {
    partial.method = str(parser->get().method_string());
    partial.path = path_of(parser->get().target());
  }
  return partial;
}

std::optional<ReadRefusal> read_refusal(beast::error_code ec, const ServerOptions& opts) {
  if (ec == http::error::body_limit)
    return ReadRefusal{ErrorKind::payload_too_large,
                       cat("request body larger than ", opts.max_body_bytes, " bytes (--max-body-bytes)")};
  if (ec == http::error::header_limit)
    return ReadRefusal{ErrorKind::malformed_json,
                       cat("request header larger than ", opts.max_header_bytes, " bytes (--max-header-bytes)"), 431};
  if (ec == http::error::buffer_overflow)
    return ReadRefusal{ErrorKind::malformed_json,
                       cat("bad HTTP request: a chunk-size line or trailer longer than ", read_buffer_limit(opts),
                           " bytes (--max-header-bytes + ", kReadSlack, ")")};
  const bool hung_up = ec == http::error::end_of_stream || ec == http::error::partial_message ||
                       ec == beast::error::timeout || ec == asio::error::operation_aborted ||
                       ec.category() == asio::error::get_system_category();
  if (hung_up) return std::nullopt;  // nobody to answer: a timed-out socket is already closed
  return ReadRefusal{ErrorKind::malformed_json, cat("bad HTTP request: ", ec.message())};
}

ResponseMessage response_message(HttpResponse res, unsigned version, bool keep_alive, bool head) {
  ResponseMessage out(http::status(res.status), version);
  out.set(http::field::content_type, res.content_type);
  for (auto& [k, v] : res.headers) out.set(k, v);
  out.body() = std::move(res.body);
  out.keep_alive(keep_alive);
  out.prepare_payload();
  if (head) out.body().clear();  // HEAD: the GET answer's header (Content-Length) only
  return out;
}

}  // namespace lastrank::server
