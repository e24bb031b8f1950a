// The bounded queue in front of the single compute thread. HTTP I/O threads parse, validate and
// tokenize, then call run(): the job waits in a priority queue (lower priority value first,
// FIFO within a priority) and the compute thread runs one request per engine call.
// Queue full -> 429, draining -> 503, deadline passed (queued or computing) -> 503.
// No cross-request batching: the listwise engine runs one request per prompt (docs/server.md).
#pragma once
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include "server/engine.h"

namespace lastrank::server {

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

  Scheduler(RerankEngine& engine, SchedulerOptions opts);
  ~Scheduler();  // drain()
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Runs req on the compute thread and blocks until it is done or `deadline` passes.
  // Throws ApiError: overloaded (queue full), unavailable (draining; deadline passed),
  // invalid_field (the engine threw lastrank::Error), internal (any other engine exception).
  RerankResponse run(RerankRequest req, int64_t priority, Clock::time_point deadline, Timing* timing = nullptr);

  // Later run() calls get 503; queued and running jobs still finish.
  void stop_admitting();
  // stop_admitting(), then waits for queued and running jobs and joins the compute thread.
  // Idempotent.
  void drain();

  size_t queue_depth() const;  // waiting jobs
  bool computing() const;      // a job is inside the engine

 private:
  struct Job;
  void compute_loop();

  RerankEngine& engine_;
  SchedulerOptions opts_;
  mutable std::mutex mu_;
  std::condition_variable cv_work_, cv_done_;
  std::map<std::pair<int64_t, uint64_t>, std::shared_ptr<Job>> queue_;  // (priority, seq) -> job
  uint64_t seq_ = 0;
  bool draining_ = false;
  bool computing_ = false;
  std::thread thread_;
};

}  // namespace lastrank::server
