// HTTP/1.1 on the wire <-> the Router's HttpRequest/HttpResponse (router.h), in one place shared by
// the connection (connection.cpp) and the fuzzer (tests/fuzz/fuzz_http_router.cpp), so that both
// read requests with the same settings: Beast's request parser under --max-header-bytes (431) and
// --max-body-bytes (413, chunked bodies too), a read buffer with a bound, the answer to a request
// that could not be read, and the Beast response of a Router answer.
#pragma once
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include <chrono>
#include <optional>
#include <string>

#include "server/options.h"
#include "server/router.h"

namespace lastrank::server {

using RequestParser = boost::beast::http::request_parser<boost::beast::http::string_body>;
using RequestMessage = boost::beast::http::request<boost::beast::http::string_body>;
using ResponseMessage = boost::beast::http::response<boost::beast::http::string_body>;

// Bytes a connection's read buffer may hold: --max-header-bytes plus one read (kReadSlack).
// Beast's parser needs a whole header block, chunk-size line or trailer in the buffer before it
// consumes it, and only the header block has a limit of its own: without this bound a chunk-size
// line that never ends (an endless chunk extension) would grow the buffer until the read
// deadline. A read past the bound fails with http::error::buffer_overflow (400).
constexpr size_t kReadSlack = 4096;
size_t read_buffer_limit(const ServerOptions& opts);
boost::beast::flat_buffer make_read_buffer(const ServerOptions& opts);

// A fresh parser for the next request, with the header and body limits of opts.
void start_request(std::optional<RequestParser>& parser, const ServerOptions& opts);

// The request asks for "100 Continue" before it sends its body.
bool expects_continue(const RequestMessage& msg);

// The target without its query string.
std::string path_of(std::string_view target);

// The Router's view of a parsed request; start is the arrival of its first byte.
HttpRequest to_request(RequestMessage&& msg, std::chrono::steady_clock::time_point start);

// What is known of a request that could not be read (for the refusal's log line): its method
// and path once its header was parsed. parser may be null.
HttpRequest partial_request(const RequestParser* parser, std::chrono::steady_clock::time_point start);

// The answer to a request that could not be read (Router::refuse's arguments).
struct ReadRefusal {
  ErrorKind kind;
  std::string message;
  int status = 0;  // 0: the kind's status
};
// nullopt when there is nobody to answer (hang-up, timeout, socket error): close the connection.
// Otherwise 413 (body limit), 431 (header limit) or 400 (malformed HTTP, buffer bound).
std::optional<ReadRefusal> read_refusal(boost::beast::error_code ec, const ServerOptions& opts);

// The Beast message of a Router answer to a request of HTTP version `version`: Content-Type, the
// answer's headers and body, Connection per keep_alive, Content-Length; a HEAD answer keeps the
// GET answer's Content-Length and drops the body.
ResponseMessage response_message(HttpResponse res, unsigned version, bool keep_alive, bool head);

}  // namespace lastrank::server
