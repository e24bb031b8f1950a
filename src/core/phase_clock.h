// Wall and CPU time of consecutive phases (model loading: config, tokenizer, weights, packing), for
// --verbose events and bench/startup.sh. CPU time is the whole process's (every thread), so on a
// shared machine it shows the work a phase did while its wall time also shows the waiting.
#pragma once
#include <time.h>

#include <chrono>
#include <string>
#include <vector>

namespace lastrank {

struct PhaseTime {
  std::string name;
  double wall_s = 0;
  double cpu_s = 0;  // CPU seconds of all the process's threads
};

class PhaseClock {
 public:
  PhaseClock() : wall_(std::chrono::steady_clock::now()), cpu_(process_cpu_s()) {}

  // Ends the running phase as `name` (appended to phases()) and starts the next.
  void lap(std::string name) {
    const auto wall = std::chrono::steady_clock::now();
    const double cpu = process_cpu_s();
    phases_.push_back({std::move(name), std::chrono::duration<double>(wall - wall_).count(), cpu - cpu_});
    wall_ = wall;
    cpu_ = cpu;
  }
  const std::vector<PhaseTime>& phases() const { return phases_; }

  static double process_cpu_s() {
    timespec ts{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
  }

 private:
  std::chrono::steady_clock::time_point wall_;
  double cpu_;
  std::vector<PhaseTime> phases_;
};

}  // namespace lastrank
