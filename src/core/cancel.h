// Cooperative cancellation of a rerank (docs/server.md, "Cancellation"): whoever gives up on a
// request (the HTTP layer when the client disconnects, the scheduler when the deadline passes, a
// shutdown) calls CancelToken::cancel(); the compute code polls cancelled() at its layer and block
// boundaries (model/qwen3.cpp, rerank/reranker.cpp) and throws Cancelled, which unwinds to the
// caller with the model left reusable. Polling costs one relaxed atomic load per check.
#pragma once
#include <atomic>
#include <ostream>
#include <stdexcept>

namespace lastrank {

enum class CancelReason { none, client_gone, deadline, shutdown };

// "none", "client_gone", "deadline", "shutdown".
const char* cancel_reason_name(CancelReason r);
inline std::ostream& operator<<(std::ostream& os, CancelReason r) { return os << cancel_reason_name(r); }

// Thrown by the compute code when its CancelToken is cancelled. Not a lastrank::Error: a cancelled
// request is not a bad request (the server answers 503 for a deadline, logs 499 for a client gone;
// api/error.h).
class Cancelled : public std::runtime_error {
 public:
  explicit Cancelled(CancelReason reason);
  CancelReason reason() const { return reason_; }

 private:
  CancelReason reason_;
};

// A flag plus the reason it was set. Thread-safe; set once: the first cancel() wins.
class CancelToken {
 public:
  // Returns true if this call cancelled the token, false if it was cancelled already (the first
  // reason stays). reason must not be none.
  bool cancel(CancelReason reason) noexcept;
  // Cheap enough for every layer boundary: a relaxed load.
  bool cancelled() const noexcept { return reason_.load(std::memory_order_relaxed) != CancelReason::none; }
  CancelReason reason() const noexcept { return reason_.load(std::memory_order_acquire); }
  // Throws Cancelled(reason()) if cancelled.
  void check() const {
    if (cancelled()) throw Cancelled(reason());
  }

 private:
  std::atomic<CancelReason> reason_{CancelReason::none};
};

// Throws Cancelled if token is set and cancelled (token nullptr = never cancelled).
inline void check_cancel(const CancelToken* token) {
  if (token) token->check();
}

}  // namespace lastrank
