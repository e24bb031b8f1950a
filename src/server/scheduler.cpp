// Bounded priority queue + one compute thread (see scheduler.h). One mutex guards the queue and
// every job's state; waiters sleep on cv_done_ with their deadline.
#include "server/scheduler.h"

#include <optional>

#include "core/error.h"

namespace lastrank::server {

struct Scheduler::Job {
  enum class State { queued, running, done };
  RerankRequest request;
  Clock::time_point deadline, admitted, started, finished;
  State state = State::queued;
  RerankResponse response;
  std::optional<ApiError> error;
};

namespace {
double seconds(Scheduler::Clock::duration d) { return std::chrono::duration<double>(d).count(); }
}  // namespace

Scheduler::Scheduler(RerankEngine& engine, SchedulerOptions opts) : engine_(engine), opts_(opts) {
  thread_ = std::thread([this] { compute_loop(); });
}

Scheduler::~Scheduler() { drain(); }

RerankResponse Scheduler::run(RerankRequest req, int64_t priority, Clock::time_point deadline, Timing* timing) {
  auto job = std::make_shared<Job>();
  job->request = std::move(req);
  job->deadline = deadline;
  std::unique_lock lock(mu_);
  if (draining_) throw ApiError(ErrorKind::unavailable, "server is shutting down");
  if (queue_.size() >= opts_.max_queue)
    throw ApiError(ErrorKind::overloaded, cat("server is overloaded: ", queue_.size(), " requests waiting (--max-queue ",
                                              opts_.max_queue, "); retry later"));
  const auto key = std::make_pair(priority, seq_++);
  job->admitted = Clock::now();
  queue_.emplace(key, job);
  cv_work_.notify_one();
  const bool done = cv_done_.wait_until(lock, deadline, [&] { return job->state == Job::State::done; });
  if (!done) {
    if (job->state == Job::State::queued) {
      queue_.erase(key);
      throw ApiError(ErrorKind::unavailable,
                     cat("request deadline passed after ", seconds(Clock::now() - job->admitted), " s in the queue"));
    }
    // Running: the engine cannot be interrupted; its result is dropped when it finishes.
    throw ApiError(ErrorKind::unavailable, "request deadline passed while computing");
  }
  if (timing) {
    timing->queue_s = seconds(job->started - job->admitted);
    timing->compute_s = seconds(job->finished - job->started);
  }
  if (job->error) throw *job->error;
  return std::move(job->response);
}

void Scheduler::compute_loop() {
  std::unique_lock lock(mu_);
  for (;;) {
    cv_work_.wait(lock, [&] { return !queue_.empty() || draining_; });
    if (queue_.empty()) return;  // draining and nothing left
    std::shared_ptr<Job> job = queue_.begin()->second;
    queue_.erase(queue_.begin());
    job->state = Job::State::running;
    job->started = Clock::now();
    computing_ = true;
    lock.unlock();
    if (job->started > job->deadline) {
      job->error.emplace(ErrorKind::unavailable, "request deadline passed in the queue");
    } else {
      try {
        job->response = engine_.rerank(job->request);
      } catch (const lastrank::Error& e) {
        job->error.emplace(ErrorKind::invalid_field, e.what());
      } catch (const std::exception& e) {
        job->error.emplace(ErrorKind::internal, cat("engine failure: ", e.what()));
      }
    }
    lock.lock();
    job->finished = Clock::now();
    job->state = Job::State::done;
    computing_ = false;
    cv_done_.notify_all();
  }
}

void Scheduler::stop_admitting() {
  {
    std::lock_guard lock(mu_);
    draining_ = true;
  }
  cv_work_.notify_all();
}

void Scheduler::drain() {
  stop_admitting();
  if (thread_.joinable()) thread_.join();
}

size_t Scheduler::queue_depth() const {
  std::lock_guard lock(mu_);
  return queue_.size();
}

bool Scheduler::computing() const {
  std::lock_guard lock(mu_);
  return computing_;
}

}  // namespace lastrank::server
