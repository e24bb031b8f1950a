// HttpServer (see http_server.h): Boost.Asio/Beast transport. A few I/O threads run one
// io_context (accept, read, write, timers: never a blocking call); blocking routes run on the
// worker pool (Connection::run_on_worker); routes, errors, logs and metrics are the Router's.
#include "server/http_server.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>

#include <atomic>
#include <thread>
#include <vector>

#include "core/error.h"
#include "server/connection.h"
#include "server/connection_registry.h"

namespace lastrank::server {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

constexpr int kListenBacklog = 1024;
constexpr auto kAcceptRetry = std::chrono::milliseconds(100);  // after EMFILE and the like

}  // namespace

struct HttpServer::Impl {
  RerankEngine& engine;
  ServerOptions opts;
  Metrics metrics;  // before scheduler, which counts cancellations into it
  Scheduler scheduler;
  Router router;
  ConnectionRegistry registry;
  std::atomic<bool> draining{false};
  asio::thread_pool workers;
  ConnectionContext ctx{router, opts, workers, registry, draining};
  // Declared last, destroyed first: pending handlers own connections, which use ctx.
  asio::io_context ioc;
  asio::strand<asio::io_context::executor_type> accept_strand{asio::make_strand(ioc)};
  tcp::acceptor acceptor{accept_strand};
  asio::steady_timer accept_retry{accept_strand};

  Impl(RerankEngine& e, ServerOptions o)
      : engine(e),
        opts(std::move(o)),
        scheduler(e, opts.scheduler, &metrics),
        router(e, scheduler, metrics, opts),
        workers(size_t(std::max(opts.http_threads, 1))) {}

  void accept() {
    acceptor.async_accept(asio::make_strand(ioc), [this](boost::system::error_code ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted || !acceptor.is_open()) return;  // shutdown
      if (ec) return retry_accept();
      admit(std::move(socket));
      accept();
    });
  }

  // Out of file descriptors (or another transient accept error): try again shortly.
  void retry_accept() {
    accept_retry.expires_after(kAcceptRetry);
    accept_retry.async_wait([this](boost::system::error_code ec) {
      if (!ec && acceptor.is_open()) accept();
    });
  }

  void admit(tcp::socket socket) {
    auto conn = std::make_shared<Connection>(std::move(socket), ctx);
    if (registry.size() >= opts.max_connections)
      return conn->reject(cat("too many connections (--max-connections ", opts.max_connections, ")"));
    conn->start();
  }

  void stop_accepting() {
    asio::post(accept_strand, [this] {
      boost::system::error_code ignored;
      acceptor.close(ignored);
      accept_retry.cancel();
    });
  }
};

HttpServer::HttpServer(RerankEngine& engine, ServerOptions opts)
    : impl_(std::make_unique<Impl>(engine, std::move(opts))) {}

HttpServer::~HttpServer() {
  shutdown();
  impl_->scheduler.drain();
}

int HttpServer::bind() {
  auto& a = impl_->acceptor;
  const auto& o = impl_->opts;
  boost::system::error_code ec;
  tcp::resolver resolver(impl_->ioc);
  const auto endpoints = resolver.resolve(o.host, std::to_string(o.port), tcp::resolver::passive, ec);
  if (ec || endpoints.empty()) fail("cannot bind ", o.host, ":", o.port, " (", ec.message(), ")");
  const tcp::endpoint ep = endpoints.begin()->endpoint();
  a.open(ep.protocol(), ec);
  if (!ec) a.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) a.bind(ep, ec);
  if (!ec) a.listen(kListenBacklog, ec);
  if (ec) fail("cannot bind ", o.host, ":", o.port, " (", ec.message(), ")");
  return a.local_endpoint().port();
}

void HttpServer::run() {
  Impl& s = *impl_;
  if (!s.draining && s.acceptor.is_open()) asio::post(s.accept_strand, [&s] { s.accept(); });
  std::vector<std::thread> io_threads;
  for (int i = 1; i < std::max(s.opts.io_threads, 1); ++i) io_threads.emplace_back([&s] { s.ioc.run(); });
  s.ioc.run();  // returns when the acceptor is closed and every connection has ended
  for (auto& t : io_threads) t.join();
  s.workers.join();
  s.scheduler.drain();
}

void HttpServer::shutdown() {
  Impl& s = *impl_;
  if (s.draining.exchange(true)) return;
  s.scheduler.stop_admitting();
  s.stop_accepting();
  s.registry.drain_all();
}

}  // namespace lastrank::server
