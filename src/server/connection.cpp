// Connection (see connection.h): the per-connection state machine on its strand.
#include "server/connection.h"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>

#include "server/connection_registry.h"

namespace lastrank::server {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using Clock = std::chrono::steady_clock;

constexpr size_t kReadChunk = kReadSlack;  // one read while idle or watching: fits the read buffer's bound
constexpr auto kLinger = std::chrono::seconds(2);  // reading and dropping a refused request's rest

}  // namespace

Connection::Connection(asio::ip::tcp::socket socket, ConnectionContext& ctx)
    : stream_(std::move(socket)), executor_(stream_.get_executor()), ctx_(ctx), buffer_(make_read_buffer(ctx.opts)) {}

Connection::~Connection() {
  if (registry_id_) ctx_.registry.remove(registry_id_);
}

void Connection::start() {
  registry_id_ = ctx_.registry.add(weak_from_this());
  asio::dispatch(executor_, [self = shared_from_this()] { self->wait_for_request(); });
}

void Connection::reject(std::string message) {
  asio::dispatch(executor_, [self = shared_from_this(), message = std::move(message)] {
    HttpRequest none;
    self->keep_alive_ = false;
    self->write(self->ctx_.router.refuse(none, ErrorKind::unavailable, message));
  });
}

void Connection::drain() {
  draining_ = true;
  if (state_ == State::idle || state_ == State::reading) close();
}

// Idle: the keep-alive timeout runs until the first byte of the next request arrives.
void Connection::wait_for_request() {
  state_ = State::idle;
  if (draining_ || ctx_.draining) return close();
  if (buffer_.size() > 0) return read_request();  // a pipelined request is already here
  stream_.expires_after(std::chrono::seconds(ctx_.opts.keep_alive_timeout_s));
  stream_.async_read_some(buffer_.prepare(kReadChunk),
                          beast::bind_front_handler(&Connection::on_first_bytes, shared_from_this()));
}

void Connection::on_first_bytes(beast::error_code ec, size_t n) {
  buffer_.commit(n);
  if (ec) return close();  // timeout, hang-up, or drain
  read_request();
}

// Header and body share one deadline, set once: a client trickling bytes cannot extend it.
void Connection::read_request() {
  state_ = State::reading;
  start_ = Clock::now();
  start_request(parser_, ctx_.opts);
  stream_.expires_after(std::chrono::seconds(ctx_.opts.read_timeout_s));
  http::async_read_header(stream_, buffer_, *parser_,
                          beast::bind_front_handler(&Connection::on_header, shared_from_this()));
}

void Connection::on_header(beast::error_code ec, size_t) {
  if (ec) return refuse_read_error(ec);
  if (!expects_continue(parser_->get())) return read_body();
  auto cont = std::make_shared<http::response<http::empty_body>>(http::status::continue_, parser_->get().version());
  http::async_write(stream_, *cont, [self = shared_from_this(), cont](beast::error_code wec, size_t) {
    if (wec) return self->close();
    self->read_body();
  });
}

void Connection::read_body() {
  http::async_read(stream_, buffer_, *parser_, beast::bind_front_handler(&Connection::on_request, shared_from_this()));
}

void Connection::on_request(beast::error_code ec, size_t) {
  if (ec) return refuse_read_error(ec);
  keep_alive_ = parser_->get().keep_alive();
  version_ = parser_->get().version();
  head_ = parser_->get().method() == http::verb::head;
  HttpRequest req = to_request(parser_->release(), start_);
  parser_.reset();
  dispatch(std::move(req));
}

// A request that could not be read: answered when the client can still read an answer.
void Connection::refuse_read_error(beast::error_code ec) {
  keep_alive_ = false;
  head_ = false;
  const std::optional<ReadRefusal> refusal = read_refusal(ec, ctx_.opts);
  if (!refusal) return close();  // nobody to answer
  const HttpRequest partial = partial_request(parser_ ? &*parser_ : nullptr, start_);
  write(ctx_.router.refuse(partial, refusal->kind, refusal->message, refusal->status));
}

void Connection::dispatch(HttpRequest req) {
  state_ = State::handling;
  if (ctx_.router.route_blocks(req)) return run_on_worker(std::move(req));
  write(ctx_.router.handle(req));
}

// The Router blocks on the compute thread there; the answer is posted back to this strand.
// The tracked executor keeps the I/O context running until the answer is posted.
void Connection::run_on_worker(HttpRequest req) {
  cancel_ = std::make_shared<CancelToken>();
  auto job = [self = shared_from_this(), req = std::move(req), cancel = cancel_,
              work = asio::prefer(executor_, asio::execution::outstanding_work.tracked)]() mutable {
    HttpResponse res = self->ctx_.router.handle(req, cancel);
    asio::post(work, [self, res = std::move(res)]() mutable { self->on_handled(std::move(res)); });
  };
  asio::post(ctx_.workers, std::move(job));
  watch_for_hangup();
}

// While the request is handled, a read stays outstanding: EOF or an error means the client is
// gone and its request's work is cancelled. Bytes of a pipelined request are kept.
void Connection::watch_for_hangup() {
  if (buffer_.size() >= ctx_.opts.max_header_bytes) return;  // enough pipelined bytes: stop reading
  watching_ = true;
  stream_.expires_never();
  stream_.async_read_some(buffer_.prepare(kReadChunk),
                          beast::bind_front_handler(&Connection::on_watch, shared_from_this()));
}

void Connection::on_watch(beast::error_code ec, size_t n) {
  watching_ = false;
  buffer_.commit(n);
  if (pending_) {  // the answer is ready; the watch was cancelled to write it
    HttpResponse res = std::move(*pending_);
    pending_.reset();
    return write(std::move(res));
  }
  if (!ec) return watch_for_hangup();
  if (ec == asio::error::operation_aborted) return;
  keep_alive_ = false;
  if (cancel_) cancel_->cancel(CancelReason::client_gone);
}

void Connection::on_handled(HttpResponse res) {
  cancel_.reset();
  if (!watching_) return write(std::move(res));
  pending_ = std::move(res);
  beast::error_code ignored;
  stream_.socket().cancel(ignored);  // on_watch writes it
}

void Connection::write(HttpResponse res) {
  state_ = State::writing;
  const bool linger = res.close;  // a refusal (Router::refuse): the client may still be sending
  keep_alive_ = keep_alive_ && !res.close && !draining_ && !ctx_.draining;
  out_ = std::make_shared<ResponseMessage>(response_message(std::move(res), version_, keep_alive_, head_));
  stream_.expires_after(std::chrono::seconds(ctx_.opts.write_timeout_s));
  http::async_write(stream_, *out_, [self = shared_from_this(), linger](beast::error_code ec, size_t) {
    self->on_written(ec, linger);
  });
}

void Connection::on_written(beast::error_code ec, bool linger) {
  out_.reset();
  if (ec) return close();
  if (linger) return linger_then_close();
  if (!keep_alive_) return close();
  wait_for_request();
}

// After refusing a request whose body is still arriving (413, bad HTTP), read and drop input for
// a moment: closing with unread data would reset the connection before the client reads the answer.
void Connection::linger_then_close() {
  beast::error_code ignored;
  stream_.socket().shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
  stream_.expires_after(kLinger);  // once: a client that keeps sending cannot extend it
  drop_input();
}

void Connection::drop_input() {
  buffer_.clear();
  stream_.async_read_some(buffer_.prepare(buffer_.max_size()), [self = shared_from_this()](beast::error_code ec, size_t) {
    if (ec) return self->close();
    self->drop_input();
  });
}

void Connection::close() {
  state_ = State::closed;
  beast::error_code ignored;
  stream_.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  stream_.close();
}

}  // namespace lastrank::server
