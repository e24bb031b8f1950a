// One persistent pool of worker threads, owned by the engine. parallel_for splits [0, n) into
// contiguous chunks statically (chunk boundaries depend only on n, grain and the thread count),
// so results are deterministic run to run. The calling thread takes part as worker 0.
// Not re-entrant: do not call parallel_for from inside a task.
#pragma once
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace lastrank {

class ThreadPool {
 public:
  // threads <= 0: std::thread::hardware_concurrency().
  explicit ThreadPool(int threads = 0);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return int(workers_.size()) + 1; }

  // fn(begin, end, worker) for chunks covering [0, n); each chunk has at least `grain` items
  // (except possibly when n < grain). Blocks until all chunks are done.
  void parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t, int)>& fn);

  // fn(worker) once on each of the size() workers.
  void run_on_all(const std::function<void(int)>& fn);

 private:
  void worker_loop(int index);

  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable cv_start_, cv_done_;
  const std::function<void(int)>* task_ = nullptr;
  uint64_t generation_ = 0;
  int pending_ = 0;
  bool stop_ = false;
};

}  // namespace lastrank
