// Bounded priority queue + one compute thread (see scheduler.h). One mutex guards the queue and
// every job's state; waiters sleep on cv_done_ until their job is done, their deadline passes or
// their token is cancelled.
#include "server/scheduler.h"

#include <algorithm>
#include <optional>

#include "core/error.h"
#include "server/metrics.h"

namespace lastrank::server {

struct Scheduler::Job {
  enum class State { queued, running, done };
  RerankRequest request;
  std::shared_ptr<CancelToken> cancel;
  Clock::time_point deadline, admitted, started, finished;
  State state = State::queued;
  RerankResponse response;
  std::optional<ApiError> error;
  bool stopped = false;  // error is the token's: the job was dropped or stopped because it was cancelled
};

namespace {

// A CancelToken is a bare flag (cheap for the engine to poll) that wakes nobody: waiters look at
// it this often. It bounds how long a cancelled queued job holds its queue slot.
constexpr auto kCancelPoll = std::chrono::milliseconds(10);

double seconds(Scheduler::Clock::duration d) { return std::chrono::duration<double>(d).count(); }

std::string cancel_message(CancelReason reason, bool queued, double waited_s) {
  const char* where = queued ? "in the queue" : "while computing (computation stopped)";
  switch (reason) {
    case CancelReason::client_gone: return cat("client went away ", where, "; request cancelled");
    case CancelReason::deadline:
      return queued ? cat("request deadline passed after ", waited_s, " s in the queue")
                    : cat("request deadline passed ", where);
    case CancelReason::shutdown: return cat("server is shutting down; request cancelled ", where);
    case CancelReason::none: break;
  }
  return cat("request cancelled ", where);
}

}  // namespace

Scheduler::Scheduler(RerankEngine& engine, SchedulerOptions opts, Metrics* metrics)
    : engine_(engine), opts_(opts), metrics_(metrics) {
  thread_ = std::thread([this] { compute_loop(); });
}

Scheduler::~Scheduler() { drain(); }

RerankResponse Scheduler::run(RerankRequest req, int64_t priority, Clock::time_point deadline, Timing* timing,
                              std::shared_ptr<CancelToken> cancel) {
  auto job = std::make_shared<Job>();
  job->request = std::move(req);
  job->deadline = deadline;
  job->cancel = cancel ? std::move(cancel) : std::make_shared<CancelToken>();
  std::unique_lock lock(mu_);
  if (draining_) throw ApiError(ErrorKind::unavailable, "server is shutting down");
  if (queue_.size() >= opts_.max_queue)
    throw ApiError(ErrorKind::overloaded, cat("server is overloaded: ", queue_.size(), " requests waiting (--max-queue ",
                                              opts_.max_queue, "); retry later"));
  const Key key{priority, seq_++};
  job->admitted = Clock::now();
  queue_.emplace(key, job);
  cv_work_.notify_one();
  wait_for(lock, *job);
  if (job->state != Job::State::done) abandon(key, *job);
  if (timing) {
    timing->queue_s = seconds(job->started - job->admitted);
    timing->compute_s = seconds(job->finished - job->started);
  }
  if (job->error) throw_error(*job);
  return std::move(job->response);
}

// Returns when the job is done or cancelled; cancels it (reason deadline) once the deadline passes.
void Scheduler::wait_for(std::unique_lock<std::mutex>& lock, Job& job) {
  for (;;) {
    if (job.state == Job::State::done) return;
    const auto now = Clock::now();
    if (now >= job.deadline) job.cancel->cancel(CancelReason::deadline);
    if (job.cancel->cancelled()) return;
    cv_done_.wait_until(lock, std::min(job.deadline, now + kCancelPoll));
  }
}

// The waiter gives up on a cancelled job: a queued one leaves the queue; a computing one is left
// to the engine, which stops at its next layer or block boundary (compute() then drops it).
void Scheduler::abandon(const Key& key, Job& job) {
  const bool queued = job.state == Job::State::queued;
  if (queued) queue_.erase(key);
  const CancelReason reason = job.cancel->reason();
  if (metrics_) metrics_->record_cancelled(reason);
  throw ApiError(cancelled_kind(reason), cancel_message(reason, queued, seconds(Clock::now() - job.admitted)));
}

void Scheduler::throw_error(Job& job) {
  if (job.stopped && metrics_) metrics_->record_cancelled(job.cancel->reason());
  throw *job.error;
}

void Scheduler::compute_loop() {
  std::unique_lock lock(mu_);
  for (;;) {
    cv_work_.wait(lock, [&] { return !queue_.empty() || draining_; });
    if (queue_.empty()) return;  // draining and nothing left
    running_ = queue_.begin()->second;
    queue_.erase(queue_.begin());
    Job& job = *running_;
    job.state = Job::State::running;
    job.started = Clock::now();
    lock.unlock();
    compute(job);
    lock.lock();
    job.finished = Clock::now();
    job.state = Job::State::done;
    running_.reset();
    cv_done_.notify_all();
  }
}

// Runs one job on the compute thread (no lock held); a job cancelled before it starts never runs.
void Scheduler::compute(Job& job) {
  if (job.started > job.deadline) job.cancel->cancel(CancelReason::deadline);
  auto stop = [&job](CancelReason reason, bool queued) {
    job.stopped = true;
    job.error.emplace(cancelled_kind(reason), cancel_message(reason, queued, seconds(job.started - job.admitted)));
  };
  if (job.cancel->cancelled()) return stop(job.cancel->reason(), true);
  try {
    job.response = engine_.rerank(job.request, *job.cancel);
  } catch (const Cancelled& e) {
    stop(e.reason(), false);
  } catch (const lastrank::Error& e) {
    job.error.emplace(ErrorKind::invalid_field, e.what());
  } catch (const std::exception& e) {
    job.error.emplace(ErrorKind::internal, cat("engine failure: ", e.what()));
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

void Scheduler::cancel_all(CancelReason reason) {
  std::lock_guard lock(mu_);
  for (auto& [key, job] : queue_) job->cancel->cancel(reason);
  if (running_) running_->cancel->cancel(reason);
}

size_t Scheduler::queue_depth() const {
  std::lock_guard lock(mu_);
  return queue_.size();
}

bool Scheduler::computing() const {
  std::lock_guard lock(mu_);
  return running_ != nullptr;
}

}  // namespace lastrank::server
