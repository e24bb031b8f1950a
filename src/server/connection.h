// One HTTP/1.1 connection of the asynchronous server (http_server.h), driven by Boost.Beast on a
// strand of the I/O context. Its life, in order:
//   idle     waiting for the first byte of a request, at most --keep-alive-timeout
//   reading  header + body under ONE deadline for the whole request (--read-timeout), header at
//            most --max-header-bytes, body at most --max-body-bytes (413)
//   handling the Router answers inline (GET routes) or on the worker pool (rerank); meanwhile an
//            outstanding read notices a client that hangs up and cancels the request's token
//   writing  the response, at most --write-timeout; then idle again (keep-alive) or close.
// I/O threads never block: every step is an async operation or a post.
#pragma once
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <atomic>
#include <memory>
#include <optional>

#include "server/http_codec.h"
#include "server/router.h"

namespace lastrank::server {

class ConnectionRegistry;

// What every connection shares: the routes, the limits, the workers, the live-connection set.
struct ConnectionContext {
  Router& router;
  const ServerOptions& opts;
  boost::asio::thread_pool& workers;
  ConnectionRegistry& registry;
  std::atomic<bool>& draining;
};

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(boost::asio::ip::tcp::socket socket, ConnectionContext& ctx);
  ~Connection();

  void start();
  // Answers 503 (--max-connections reached) and closes.
  void reject(std::string message);
  // Server shutdown: an idle or half-read connection closes now, a handled request is answered
  // first. Posted to the connection's strand by the server.
  void drain();
  // The connection's strand: every member function but the constructor runs on it.
  const boost::asio::any_io_executor& executor() const { return executor_; }

 private:
  enum class State { idle, reading, handling, writing, closed };
  void wait_for_request();
  void on_first_bytes(boost::beast::error_code ec, size_t n);
  void read_request();
  void on_header(boost::beast::error_code ec, size_t n);
  void read_body();
  void on_request(boost::beast::error_code ec, size_t n);
  void refuse_read_error(boost::beast::error_code ec);
  void dispatch(HttpRequest req);
  void run_on_worker(HttpRequest req);
  void watch_for_hangup();
  void on_watch(boost::beast::error_code ec, size_t n);
  void on_handled(HttpResponse res);
  void write(HttpResponse res);
  void on_written(boost::beast::error_code ec, bool linger);
  void linger_then_close();
  void drop_input();
  void close();

  boost::beast::tcp_stream stream_;  // its executor is the connection's strand (see accept)
  boost::asio::any_io_executor executor_;
  ConnectionContext& ctx_;
  boost::beast::flat_buffer buffer_;  // bounded: read_buffer_limit (http_codec.h)
  std::optional<RequestParser> parser_;
  std::shared_ptr<ResponseMessage> out_;
  std::shared_ptr<CancelToken> cancel_;  // of the request being handled
  std::optional<HttpResponse> pending_;  // response ready while the hang-up watch is outstanding
  State state_ = State::idle;
  bool watching_ = false;
  bool keep_alive_ = true;
  bool head_ = false;      // the request being answered is a HEAD
  unsigned version_ = 11;  // HTTP version of the request being answered
  bool draining_ = false;
  std::chrono::steady_clock::time_point start_;  // first byte of the request being read
  size_t registry_id_ = 0;
};

}  // namespace lastrank::server
