// Scheduler unit tests with the gated fake engine (no model, no HTTP): results pass through,
// a full queue gives 429 and recovers, priorities order the queue, deadlines give 503 and free
// their slot, draining finishes queued work and refuses new work, engine errors map to statuses;
// cancellation: a cancelled queued job never runs, a deadline or a client gone stops a computing
// job and frees the compute thread at once, and every cancellation is counted by reason.
#include <gtest/gtest.h>

#include <future>

#include "fake_engine.h"
#include "server/metrics.h"
#include "server/scheduler.h"

namespace lastrank::server {
namespace {

using testing::FakeEngine;
using Clock = Scheduler::Clock;
using namespace std::chrono_literals;

RerankRequest make(const std::string& q, std::vector<std::string> docs = {"a b", "b c", "x"}) {
  RerankRequest r;
  r.query = q;
  r.documents = std::move(docs);
  return r;
}

Clock::time_point far() { return Clock::now() + 30s; }

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

bool has_line(const Metrics& m, const std::string& line) {
  return m.render(0, false).find(line + "\n") != std::string::npos;
}

ErrorKind kind_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const ApiError& e) {
    return e.kind();
  }
  ADD_FAILURE() << "no ApiError thrown";
  return ErrorKind::internal;
}

TEST(Scheduler, ReturnsTheEngineResult) {
  FakeEngine engine;
  Scheduler s(engine, {4});
  Scheduler::Timing t;
  RerankResponse r = s.run(make("b c"), 0, far(), &t);
  ASSERT_EQ(r.results.size(), 3u);
  EXPECT_EQ(r.results[0].index, 1u);
  EXPECT_FLOAT_EQ(r.results[0].relevance_score, 1.f);
  EXPECT_GE(t.compute_s, 0.0);
}

TEST(Scheduler, FullQueueRejectsWith429AndRecovers) {
  FakeEngine engine;
  engine.close();
  Scheduler s(engine, {2});
  auto running = std::async(std::launch::async, [&] { return s.run(make("first"), 0, far()); });
  ASSERT_TRUE(engine.wait_entered(1));
  auto q1 = std::async(std::launch::async, [&] { return s.run(make("q1"), 0, far()); });
  auto q2 = std::async(std::launch::async, [&] { return s.run(make("q2"), 0, far()); });
  while (s.queue_depth() < 2) std::this_thread::sleep_for(1ms);
  EXPECT_EQ(kind_of([&] { s.run(make("over"), 0, far()); }), ErrorKind::overloaded);
  EXPECT_EQ(http_status(ErrorKind::overloaded), 429);
  engine.open();
  EXPECT_EQ(running.get().results.size(), 3u);
  q1.get();
  q2.get();
  EXPECT_EQ(s.queue_depth(), 0u);
  EXPECT_EQ(s.run(make("after"), 0, far()).results.size(), 3u);  // recovered
}

TEST(Scheduler, LowerPriorityValueRunsFirstFifoWithin) {
  FakeEngine engine;
  engine.close();
  Scheduler s(engine, {8});
  auto blocker = std::async(std::launch::async, [&] { s.run(make("blocker"), 0, far()); });
  ASSERT_TRUE(engine.wait_entered(1));
  std::vector<std::future<void>> fs;
  auto submit = [&](const std::string& q, int64_t prio) {
    size_t before = s.queue_depth();
    fs.push_back(std::async(std::launch::async, [&s, q, prio] { s.run(make(q), prio, far()); }));
    while (s.queue_depth() == before) std::this_thread::sleep_for(1ms);
  };
  submit("late-low", 5);
  submit("urgent", -1);
  submit("normal-1", 0);
  submit("normal-2", 0);
  engine.open();
  blocker.get();
  for (auto& f : fs) f.get();
  EXPECT_EQ(engine.order(), (std::vector<std::string>{"blocker", "urgent", "normal-1", "normal-2", "late-low"}));
}

TEST(Scheduler, DeadlineInQueueGives503AndFreesTheSlot) {
  FakeEngine engine;
  engine.close();
  Scheduler s(engine, {1});
  auto running = std::async(std::launch::async, [&] { return s.run(make("first"), 0, far()); });
  ASSERT_TRUE(engine.wait_entered(1));
  EXPECT_EQ(kind_of([&] { s.run(make("late"), 0, Clock::now() + 50ms); }), ErrorKind::unavailable);
  EXPECT_EQ(s.queue_depth(), 0u);  // the expired job left the queue
  engine.open();
  running.get();
  EXPECT_EQ(engine.order(), (std::vector<std::string>{"first"}));  // the expired job never ran
}

TEST(Scheduler, DeadlineWhileComputingGives503) {
  FakeEngine engine;
  engine.set_delay_ms(300);
  Scheduler s(engine, {1});
  EXPECT_EQ(kind_of([&] { s.run(make("slow"), 0, Clock::now() + 50ms); }), ErrorKind::unavailable);
  EXPECT_EQ(http_status(ErrorKind::unavailable), 503);
}

TEST(Scheduler, DrainFinishesQueuedWorkAndRefusesNewWork) {
  FakeEngine engine;
  engine.close();
  Scheduler s(engine, {4});
  auto a = std::async(std::launch::async, [&] { return s.run(make("a"), 0, far()); });
  ASSERT_TRUE(engine.wait_entered(1));
  auto b = std::async(std::launch::async, [&] { return s.run(make("b"), 0, far()); });
  while (s.queue_depth() < 1) std::this_thread::sleep_for(1ms);
  s.stop_admitting();
  EXPECT_EQ(kind_of([&] { s.run(make("new"), 0, far()); }), ErrorKind::unavailable);
  auto drained = std::async(std::launch::async, [&] { s.drain(); });
  engine.open();
  EXPECT_EQ(a.get().results.size(), 3u);
  EXPECT_EQ(b.get().results.size(), 3u);
  drained.get();
  EXPECT_EQ(engine.order(), (std::vector<std::string>{"a", "b"}));
}

TEST(Scheduler, EngineErrorsMapToStatuses) {
  FakeEngine engine;
  Scheduler s(engine, {4});
  EXPECT_EQ(kind_of([&] { s.run(make("throw-error"), 0, far()); }), ErrorKind::invalid_field);
  EXPECT_EQ(kind_of([&] { s.run(make("throw-runtime"), 0, far()); }), ErrorKind::internal);
  EXPECT_EQ(s.run(make("fine"), 0, far()).results.size(), 3u);  // compute thread survived
}

TEST(SchedulerCancel, CancelledQueuedJobIsDroppedWithoutComputing) {
  FakeEngine engine;
  engine.close();
  Metrics metrics;
  Scheduler s(engine, {4}, &metrics);
  auto running = std::async(std::launch::async, [&] { return s.run(make("first"), 0, far()); });
  ASSERT_TRUE(engine.wait_entered(1));
  auto token = std::make_shared<CancelToken>();
  auto queued = std::async(std::launch::async, [&] { s.run(make("gone"), 0, far(), nullptr, token); });
  while (s.queue_depth() < 1) std::this_thread::sleep_for(1ms);
  const auto t0 = Clock::now();
  token->cancel(CancelReason::client_gone);
  EXPECT_EQ(kind_of([&] { queued.get(); }), ErrorKind::cancelled);
  EXPECT_LT(seconds_since(t0), 1.0);  // the waiter noticed while "first" still holds the engine
  EXPECT_EQ(s.queue_depth(), 0u);
  engine.open();
  running.get();
  EXPECT_EQ(engine.order(), (std::vector<std::string>{"first"}));  // "gone" never ran
  EXPECT_TRUE(has_line(metrics, "lastrank_requests_cancelled_total{reason=\"client_gone\"} 1"));
  EXPECT_TRUE(has_line(metrics, "lastrank_requests_cancelled_total{reason=\"deadline\"} 0"));
}

TEST(SchedulerCancel, TokenCancelledBeforeRunNeverReachesTheEngine) {
  FakeEngine engine;
  Scheduler s(engine, {4});
  auto token = std::make_shared<CancelToken>();
  token->cancel(CancelReason::client_gone);
  EXPECT_EQ(kind_of([&] { s.run(make("gone"), 0, far(), nullptr, token); }), ErrorKind::cancelled);
  EXPECT_EQ(s.run(make("next"), 0, far()).results.size(), 3u);
  EXPECT_EQ(engine.order(), (std::vector<std::string>{"next"}));
}

// Without cancellation "hang" would hold the compute thread for a minute and "next" would wait
// for it; with it the compute thread is free within the fake engine's poll interval.
TEST(SchedulerCancel, DeadlineStopsTheComputingJobAndTheNextOneRunsPromptly) {
  FakeEngine engine;
  Metrics metrics;
  Scheduler s(engine, {4}, &metrics);
  auto hang = std::async(std::launch::async, [&] { s.run(make("hang"), 0, Clock::now() + 200ms); });
  ASSERT_TRUE(engine.wait_entered(1));
  EXPECT_EQ(kind_of([&] { hang.get(); }), ErrorKind::unavailable);
  const auto t0 = Clock::now();
  EXPECT_EQ(s.run(make("next"), 0, far()).results.size(), 3u);
  EXPECT_LT(seconds_since(t0), 2.0);
  EXPECT_EQ(engine.stopped(), 1);
  EXPECT_EQ(engine.order(), (std::vector<std::string>{"hang", "next"}));
  EXPECT_TRUE(has_line(metrics, "lastrank_requests_cancelled_total{reason=\"deadline\"} 1"));
}

TEST(SchedulerCancel, ClientGoneWhileComputingGives499AndFreesTheComputeThread) {
  FakeEngine engine;
  engine.close();
  Metrics metrics;
  Scheduler s(engine, {4}, &metrics);
  auto token = std::make_shared<CancelToken>();
  auto gone = std::async(std::launch::async, [&] { s.run(make("gone"), 0, far(), nullptr, token); });
  ASSERT_TRUE(engine.wait_entered(1));
  token->cancel(CancelReason::client_gone);
  EXPECT_EQ(kind_of([&] { gone.get(); }), ErrorKind::cancelled);
  EXPECT_EQ(http_status(ErrorKind::cancelled), 499);
  for (int i = 0; i < 2000 && s.computing(); ++i) std::this_thread::sleep_for(1ms);
  EXPECT_FALSE(s.computing());  // the engine call returned although the gate is still closed
  EXPECT_EQ(engine.stopped(), 1);
  EXPECT_TRUE(has_line(metrics, "lastrank_requests_cancelled_total{reason=\"client_gone\"} 1"));
}

TEST(SchedulerCancel, CancelAllStopsQueuedAndComputingJobs) {
  FakeEngine engine;
  engine.close();
  Metrics metrics;
  Scheduler s(engine, {4}, &metrics);
  auto a = std::async(std::launch::async, [&] { s.run(make("a"), 0, far()); });
  ASSERT_TRUE(engine.wait_entered(1));
  auto b = std::async(std::launch::async, [&] { s.run(make("b"), 0, far()); });
  while (s.queue_depth() < 1) std::this_thread::sleep_for(1ms);
  s.cancel_all(CancelReason::shutdown);
  EXPECT_EQ(kind_of([&] { a.get(); }), ErrorKind::unavailable);
  EXPECT_EQ(kind_of([&] { b.get(); }), ErrorKind::unavailable);
  EXPECT_TRUE(has_line(metrics, "lastrank_requests_cancelled_total{reason=\"shutdown\"} 2"));
  engine.open();
  EXPECT_EQ(s.run(make("after"), 0, far()).results.size(), 3u);
  EXPECT_EQ(engine.order(), (std::vector<std::string>{"after"}));  // a stopped at the gate, b never ran
}

}  // namespace
}  // namespace lastrank::server
