// The bounded queue in front of the single compute thread. HTTP I/O threads parse, validate and
// tokenize, then call run(): the job waits in a priority queue (lower priority value first,
// FIFO within a priority) and the compute thread runs one request per engine call.
// Queue full -> 429, draining -> 503, deadline passed (queued or computing) -> 503, client gone
// -> 499 (docs/server.md). Every job carries a CancelToken (core/cancel.h): a cancelled job leaves
// the queue without computing, or stops at the engine's next layer or block boundary.
// No cross-request batching: the listwise engine runs one request per prompt (docs/server.md).
#pragma once
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "core/cancel.h"
#include "server/engine.h"

namespace lastrank::server {

class Metrics;

struct SchedulerOptions {
  size_t max_queue = 16;  // jobs waiting (not counting the one computing); more -> 429
};

class Scheduler {
 public:
  using Clock = std::chrono::steady_clock;
  struct Timing {
    double queue_s = 0;    // admitted -> compute start
    double compute_s = 0;  // engine call
  };

  // metrics (optional, must outlive the scheduler) counts cancelled requests by reason.
  Scheduler(RerankEngine& engine, SchedulerOptions opts, Metrics* metrics = nullptr);
  ~Scheduler();  // drain()
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Runs req on the compute thread and blocks until it is done, `deadline` passes or `cancel` is
  // cancelled. The job owns `cancel` (nullptr: a token of its own); whoever gives up on the
  // request (the HTTP layer when the client goes away) may cancel it from any thread: a queued
  // job leaves the queue without computing, a computing one stops at the engine's next layer or
  // block boundary and the compute thread moves on. When the deadline passes, run() cancels the
  // token itself (reason deadline; the first reason given wins).
  // Throws ApiError: overloaded (queue full), unavailable (draining; deadline passed; shutdown),
  // cancelled (client gone), invalid_field (the engine threw lastrank::Error), internal (any
  // other engine exception).
  RerankResponse run(RerankRequest req, int64_t priority, Clock::time_point deadline, Timing* timing = nullptr,
                     std::shared_ptr<CancelToken> cancel = nullptr);

  // Later run() calls get 503; queued and running jobs still finish.
  void stop_admitting();
  // stop_admitting(), then waits for queued and running jobs and joins the compute thread.
  // Idempotent.
  void drain();
  // Cancels every queued and computing job (their run() calls throw), e.g. reason shutdown for a
  // stop that must not wait for them.
  void cancel_all(CancelReason reason);

  size_t queue_depth() const;  // waiting jobs
  bool computing() const;      // a job is inside the engine

 private:
  struct Job;
  using Key = std::pair<int64_t, uint64_t>;  // (priority, seq)
  void compute_loop();
  void compute(Job& job);
  void wait_for(std::unique_lock<std::mutex>& lock, Job& job);
  [[noreturn]] void abandon(const Key& key, Job& job);
  [[noreturn]] void throw_error(Job& job);

  RerankEngine& engine_;
  SchedulerOptions opts_;
  Metrics* metrics_;
  mutable std::mutex mu_;
  std::condition_variable cv_work_, cv_done_;
  std::map<Key, std::shared_ptr<Job>> queue_;
  std::shared_ptr<Job> running_;  // the job inside the engine, if any
  uint64_t seq_ = 0;
  bool draining_ = false;
  std::thread thread_;
};

}  // namespace lastrank::server
