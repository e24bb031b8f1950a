// The progress line of `lastrank rerank --jsonl` on stderr: requests done[/total], tokens/s and
// the ETA when the total is known; redrawn in place at most 5 times a second. Silent unless
// stderr is a terminal (so logs and pipes get nothing).
#pragma once
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <optional>

namespace lastrank {

class BatchProgress {
 public:
  explicit BatchProgress(std::optional<size_t> total) : enabled_(isatty(2) == 1), total_(total) {}
  bool enabled() const { return enabled_; }

  void update(size_t done, int64_t tokens, bool final = false) {
    if (!enabled_) return;
    const auto now = Clock::now();
    if (!final && now - last_ < std::chrono::milliseconds(200)) return;
    last_ = now;
    const double secs = std::chrono::duration<double>(now - start_).count();
    const double tok_s = secs > 0 ? double(tokens) / secs : 0;
    if (total_) {
      const double eta = done ? secs * double(*total_ - std::min(done, *total_)) / double(done) : 0;
      std::fprintf(stderr, "\r\033[Klastrank: %zu/%zu requests, %.0f tokens/s, ETA %.0f s", done, *total_, tok_s, eta);
    } else {
      std::fprintf(stderr, "\r\033[Klastrank: %zu requests, %.0f tokens/s", done, tok_s);
    }
    if (final) std::fputc('\n', stderr);
    std::fflush(stderr);
  }

 private:
  using Clock = std::chrono::steady_clock;
  bool enabled_;
  std::optional<size_t> total_;
  Clock::time_point start_ = Clock::now(), last_{};
};

}  // namespace lastrank
