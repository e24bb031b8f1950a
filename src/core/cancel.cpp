// CancelToken and the reason names (core/cancel.h).
#include "core/cancel.h"

#include <string>

namespace lastrank {

const char* cancel_reason_name(CancelReason r) {
  switch (r) {
    case CancelReason::none: return "none";
    case CancelReason::client_gone: return "client_gone";
    case CancelReason::deadline: return "deadline";
    case CancelReason::shutdown: return "shutdown";
  }
  return "unknown";
}

Cancelled::Cancelled(CancelReason reason)
    : std::runtime_error(std::string("request cancelled (") + cancel_reason_name(reason) + ")"), reason_(reason) {}

bool CancelToken::cancel(CancelReason reason) noexcept {
  if (reason == CancelReason::none) return false;
  CancelReason expected = CancelReason::none;
  return reason_.compare_exchange_strong(expected, reason, std::memory_order_acq_rel, std::memory_order_acquire);
}

}  // namespace lastrank
