// Transport tests of the asynchronous HttpServer (docs/server.md, "Connections") with the fake
// engine and raw loopback sockets: the whole-request deadline closes a client that trickles its
// header, the keep-alive idle timeout, --max-connections, --max-header-bytes, hostile bytes (a 4xx
// or a close, never a crash or a hang, and /health keeps answering), the read buffer's bound,
// Expect: 100-continue, pipelined requests, and a client that hangs up while its request waits.
#include <gtest/gtest.h>
#include <httplib.h>

#include <chrono>
#include <future>
#include <random>
#include <string>
#include <thread>

#include "fake_server_test.h"
#include "raw_socket.h"
#include "server/http_server.h"

namespace lastrank::server {
namespace {

using nlohmann::json;
using testing::FakeEngine;
using testing::RawSocket;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

const std::string kBody = R"({"query": "b c", "documents": ["a b", "b c"]})";

std::string post_request(const std::string& body, const std::string& extra_headers = "") {
  return "POST /v1/rerank HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n" + extra_headers + "\r\n" + body;
}

class TransportTest : public testing::FakeServerTest {
 protected:
  httplib::Result get(const std::string& path) {
    httplib::Client c("127.0.0.1", port_);
    c.set_read_timeout(10, 0);
    return c.Get(path.c_str());
  }
  double metric(const std::string& name) {
    auto r = get("/metrics");
    if (!r) return -1;
    const auto at = r->body.find("\n" + name + " ");
    return at == std::string::npos ? -1 : std::stod(r->body.substr(at + name.size() + 2));
  }

};

// A per-read timeout never fires on a client that sends a header line every 300 ms; the
// deadline for the whole request does.
TEST_F(TransportTest, WholeRequestDeadlineClosesATricklingClient) {
  ServerOptions o;
  o.read_timeout_s = 1;
  start(o);
  RawSocket s(port_);
  ASSERT_TRUE(s.send("POST /v1/rerank HTTP/1.1\r\nHost: t\r\n"));
  const auto t0 = Clock::now();
  bool open = true;
  for (int i = 0; i < 20 && open; ++i) {  // up to 6 s of trickling
    open = s.send("X-Trickle-" + std::to_string(i) + ": 1\r\n");
    s.read_until_close(300ms);
    open = open && !s.peer_closed();
  }
  const double waited = std::chrono::duration<double>(Clock::now() - t0).count();
  EXPECT_FALSE(open) << "the server kept a trickling client for " << waited << " s";
  EXPECT_GT(waited, 0.8);
  EXPECT_LT(waited, 4.0);
  EXPECT_EQ(get("/health")->status, 200);
}

TEST_F(TransportTest, IdleKeepAliveConnectionIsClosed) {
  ServerOptions o;
  o.keep_alive_timeout_s = 1;
  start(o);
  RawSocket s(port_);
  ASSERT_TRUE(s.send("GET /health HTTP/1.1\r\nHost: t\r\n\r\n"));
  const std::string first = s.read_until("{\"status\":\"ok\"}", 5s);
  EXPECT_NE(first.find("200 OK"), std::string::npos) << first;
  const auto t0 = Clock::now();
  s.read_until_close(5s);
  EXPECT_TRUE(s.peer_closed());
  EXPECT_LT(std::chrono::duration<double>(Clock::now() - t0).count(), 3.0);
}

TEST_F(TransportTest, MaxConnectionsGives503ThenRecovers) {
  ServerOptions o;
  o.max_connections = 3;
  start(o);
  std::vector<RawSocket> held;
  for (int i = 0; i < 3; ++i) {
    held.emplace_back(port_);
    ASSERT_TRUE(held.back().send("GET /health HTTP/1.1\r\nHost: t\r\n\r\n"));
    ASSERT_NE(held.back().read_until("ok", 5s).find("200 OK"), std::string::npos);  // admitted, kept alive
  }
  auto r = get("/health");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 503);
  EXPECT_NE(r->body.find("max-connections"), std::string::npos) << r->body;
  EXPECT_EQ(r->get_header_value("Retry-After"), "5");
  held.pop_back();  // one hangs up: room for one more
  int status = 0;
  for (int i = 0; i < 100 && status != 200; ++i) {
    auto again = get("/health");
    status = again ? again->status : 0;
    if (status != 200) std::this_thread::sleep_for(20ms);
  }
  EXPECT_EQ(status, 200);
}

TEST_F(TransportTest, OversizedHeaderGets431) {
  ServerOptions o;
  o.max_header_bytes = 4096;
  start(o);
  RawSocket s(port_);
  ASSERT_TRUE(s.send("GET /health HTTP/1.1\r\nHost: t\r\nX-Big: " + std::string(8192, 'a') + "\r\n\r\n"));
  const std::string answer = s.read_until_close(5s);
  EXPECT_NE(answer.find("HTTP/1.1 431"), std::string::npos) << answer.substr(0, 200);
  EXPECT_NE(answer.find("max-header-bytes"), std::string::npos);
  EXPECT_NE(answer.find("\"code\":431"), std::string::npos) << answer.substr(0, 400);  // the body agrees
  EXPECT_EQ(get("/health")->status, 200);
}

TEST_F(TransportTest, MalformedRequestLineGets400) {
  start();
  RawSocket s(port_);
  ASSERT_TRUE(s.send("HELLO\r\n\r\n"));
  const std::string answer = s.read_until_close(5s);
  EXPECT_NE(answer.find("HTTP/1.1 400"), std::string::npos) << answer;
  EXPECT_NE(answer.find("\"message\""), std::string::npos) << answer;
}

// A chunk-size line that never ends (an endless chunk extension) is refused once it passes the
// read buffer's bound (--max-header-bytes + 4096, http_codec.h), long before the read deadline;
// without the bound the server buffered it until the deadline and then closed without an answer.
TEST_F(TransportTest, EndlessChunkSizeLineGets400) {
  ServerOptions o;
  o.read_timeout_s = 5;
  start(o);
  RawSocket s(port_);
  ASSERT_TRUE(s.send("POST /v1/rerank HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n1;ext="));
  ASSERT_TRUE(s.send(std::string(64 << 10, 'e')));  // 64 KiB, never a CRLF
  const std::string answer = s.read_until_close(3s);
  EXPECT_NE(answer.find("HTTP/1.1 400"), std::string::npos) << answer.substr(0, 200);
  EXPECT_NE(answer.find("chunk-size line"), std::string::npos) << answer.substr(0, 300);
  EXPECT_EQ(get("/health")->status, 200);
}

// Hostile bytes on a real socket get a 4xx or a close, promptly, and the server keeps serving.
TEST_F(TransportTest, HostileBytesGetA4xxOrACloseAndHealthStays) {
  ServerOptions o;
  o.read_timeout_s = 1;
  o.max_header_bytes = 4096;
  start(o);
  std::mt19937 rng(7);
  std::string garbage(2048, '\0');
  for (char& c : garbage) c = char(rng());
  const std::string post_head = "POST /v1/rerank HTTP/1.1\r\nHost: t\r\n";
  struct Case {
    const char* name;
    std::string bytes;
    bool half_close;
    const char* expect;  // the answer's status line prefix; "" = closed without an answer
  };
  const Case cases[] = {
      {"garbage", garbage, false, "HTTP/1.1 400"},
      {"endless header line", "GET /health HTTP/1.1\r\nX-A: " + std::string(64 << 10, 'a'), false, "HTTP/1.1 431"},
      {"header that never ends", "GET /health HTTP/1.1\r\nHost: t\r\n", false, ""},
      {"header cut by a half-close", "GET /health HTTP/1.1\r\nHo", true, ""},
      {"body shorter than Content-Length", post_head + "Content-Length: 100\r\n\r\n{\"query\"", false, ""},
      {"short body, then a half-close", post_head + "Content-Length: 100\r\n\r\n{\"query\"", true, ""},
      {"bad chunk size", post_head + "Transfer-Encoding: chunked\r\n\r\nzz\r\n", false, "HTTP/1.1 400"},
      {"two Content-Lengths", post_head + "Content-Length: 5\r\nContent-Length: 6\r\n\r\n{}", false, "HTTP/1.1 400"},
      {"negative Content-Length", post_head + "Content-Length: -1\r\n\r\n", false, "HTTP/1.1 400"},
      {"Content-Length overflow", post_head + "Content-Length: 99999999999999999999999\r\n\r\n", false, "HTTP/1.1 4"},
      {"NUL in a header", std::string("GET /health HTTP/1.1\r\nX: a\0b\r\n\r\n", 32), false, "HTTP/1.1 400"},
      {"HTTP/2 preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", false, "HTTP/1.1 4"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    RawSocket s(port_);
    ASSERT_TRUE(s.send(c.bytes));
    if (c.half_close) s.shutdown_write();
    const auto t0 = Clock::now();
    const std::string answer = s.read_until_close(4s);
    EXPECT_TRUE(s.peer_closed()) << "still open after " << std::chrono::duration<double>(Clock::now() - t0).count() << " s";
    if (*c.expect)
      EXPECT_EQ(answer.rfind(c.expect, 0), 0u) << answer.substr(0, 200);
    else
      EXPECT_EQ(answer, "");
    auto health = get("/health");
    ASSERT_TRUE(health);
    EXPECT_EQ(health->status, 200);
  }
}

TEST_F(TransportTest, ExpectContinueAndPipelinedRequests) {
  start();
  RawSocket s(port_);
  const std::string request = post_request(kBody, "Expect: 100-continue\r\n");
  ASSERT_TRUE(s.send(request.substr(0, request.size() - kBody.size())));  // header only
  const std::string cont = s.read_until("\r\n\r\n", 5s);
  EXPECT_NE(cont.find("HTTP/1.1 100 Continue"), std::string::npos) << cont;
  ASSERT_TRUE(s.send(kBody));
  EXPECT_NE(s.read_until("\"results\"", 5s).find("200 OK"), std::string::npos);
  // Two requests in one write: both answered, in order, on the same connection.
  RawSocket p(port_);
  ASSERT_TRUE(p.send(post_request(kBody, "X-Request-Id: first\r\n") + post_request(kBody, "X-Request-Id: second\r\n")));
  const std::string both = p.read_until("\"second\"", 5s);
  const auto a = both.find("first"), b = both.find("second");
  ASSERT_NE(a, std::string::npos) << both;
  ASSERT_NE(b, std::string::npos) << both;
  EXPECT_LT(a, b);
}

// A client that hangs up cancels its request: a computing one stops (the fake engine honours its
// token, as the real one does at layer boundaries) and the compute thread moves on; a queued one
// leaves the queue without computing. Both are counted as client_gone.
TEST_F(TransportTest, ClientHangupCancelsItsRequest) {
  start();
  engine_.close();
  const std::string gone = "lastrank_requests_cancelled_total{reason=\"client_gone\"}";
  {
    RawSocket computing(port_);
    ASSERT_TRUE(computing.send(post_request(kBody)));
    ASSERT_TRUE(engine_.wait_entered(1));
  }  // hangs up while its request is inside the engine
  for (int i = 0; i < 250 && metric(gone) < 1; ++i) std::this_thread::sleep_for(20ms);
  EXPECT_EQ(metric(gone), 1);
  // The gate is still closed: the next request reaching the engine proves the first one left it.
  auto held = std::async(std::launch::async, [&] {
    httplib::Client c("127.0.0.1", port_);
    c.set_read_timeout(20, 0);
    auto r = c.Post("/v1/rerank", kBody, "application/json");
    return r ? r->status : 0;
  });
  ASSERT_TRUE(engine_.wait_entered(2));
  {
    RawSocket queued(port_);
    ASSERT_TRUE(queued.send(post_request(kBody)));
    for (int i = 0; i < 250 && metric("lastrank_queue_depth") < 1; ++i) std::this_thread::sleep_for(20ms);
    ASSERT_EQ(metric("lastrank_queue_depth"), 1);
  }  // hangs up while queued
  for (int i = 0; i < 250 && metric(gone) < 2; ++i) std::this_thread::sleep_for(20ms);
  EXPECT_EQ(metric(gone), 2);
  EXPECT_EQ(metric("lastrank_queue_depth"), 0);  // left the queue without computing
  engine_.open();
  EXPECT_EQ(held.get(), 200);
  EXPECT_EQ(engine_.order().size(), 1u);  // only the kept request finished in the engine
}

}  // namespace
}  // namespace lastrank::server
