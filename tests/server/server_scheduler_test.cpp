// Scheduler unit tests with the gated fake engine (no model, no HTTP): results pass through,
// a full queue gives 429 and recovers, priorities order the queue, deadlines give 503 and free
// their slot, draining finishes queued work and refuses new work, engine errors map to statuses.
#include <gtest/gtest.h>

#include <future>

#include "fake_engine.h"
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

}  // namespace
}  // namespace lastrank::server
