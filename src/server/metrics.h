// Prometheus metrics of the server (text exposition format 0.0.4): requests by route and status,
// latency / queue / compute histograms, tokens and documents counters, cancelled requests by
// reason, queue depth and in-flight gauges. Thread-safe; updates take one short mutex.
#pragma once
#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>

#include "core/cancel.h"

namespace lastrank::server {

class Histogram {
 public:
  static constexpr std::array<double, 14> kBounds = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
                                                     1,     2.5,  5,     10,   30,  60,  120};  // seconds
  void observe(double v);
  // Appends name_bucket/_sum/_count lines with the given label set ("" or `route="x"`).
  void render(std::string& out, const std::string& name, const std::string& labels) const;

 private:
  std::array<uint64_t, kBounds.size() + 1> counts_{};  // last = +Inf
  double sum_ = 0;
  uint64_t count_ = 0;
};

class Metrics {
 public:
  // route: a known route path or "other" (bounded label cardinality).
  void record_request(const std::string& route, int status, double seconds);
  void record_compute(double queue_s, double compute_s, int64_t tokens, size_t documents);
  void add_in_flight(int delta);
  // A request given up before it finished (left the queue, or stopped computing).
  void record_cancelled(CancelReason reason);

  // Gauges read at scrape time (queue depth, computing) come from the caller.
  std::string render(size_t queue_depth, bool computing) const;

 private:
  mutable std::mutex mu_;
  std::map<std::pair<std::string, int>, uint64_t> requests_;
  std::map<std::string, Histogram> latency_;
  Histogram queue_wait_, compute_;
  uint64_t tokens_ = 0, documents_ = 0, computed_ = 0;
  std::map<CancelReason, uint64_t> cancelled_;
  int64_t in_flight_ = 0;
};

}  // namespace lastrank::server
