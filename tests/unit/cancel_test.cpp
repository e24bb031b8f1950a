// CancelToken (core/cancel.h): the first reason wins, also under a race; reasons print as their
// names; check() throws Cancelled, which the API maps to 499 (client gone) or 503 (deadline,
// shutdown) and never to a bad-request status.
#include <gtest/gtest.h>

#include <atomic>
#include <sstream>
#include <thread>
#include <vector>

#include "api/error.h"
#include "core/cancel.h"

namespace lastrank {
namespace {

TEST(CancelToken, FirstReasonWins) {
  CancelToken t;
  EXPECT_FALSE(t.cancelled());
  EXPECT_EQ(t.reason(), CancelReason::none);
  EXPECT_NO_THROW(t.check());
  EXPECT_FALSE(t.cancel(CancelReason::none));  // not a reason
  EXPECT_FALSE(t.cancelled());
  EXPECT_TRUE(t.cancel(CancelReason::client_gone));
  EXPECT_FALSE(t.cancel(CancelReason::deadline));
  EXPECT_TRUE(t.cancelled());
  EXPECT_EQ(t.reason(), CancelReason::client_gone);
  try {
    t.check();
    ADD_FAILURE() << "check() did not throw";
  } catch (const Cancelled& e) {
    EXPECT_EQ(e.reason(), CancelReason::client_gone);
    EXPECT_NE(std::string(e.what()).find("client_gone"), std::string::npos) << e.what();
  }
}

TEST(CancelToken, OneWinnerAmongRacingThreads) {
  for (int round = 0; round < 50; ++round) {
    CancelToken t;
    std::atomic<int> winners{0};
    std::vector<std::thread> ts;
    const CancelReason reasons[] = {CancelReason::client_gone, CancelReason::deadline, CancelReason::shutdown};
    std::vector<CancelReason> won(3, CancelReason::none);
    for (int i = 0; i < 3; ++i)
      ts.emplace_back([&, i] {
        if (t.cancel(reasons[i])) {
          ++winners;
          won[size_t(i)] = reasons[i];
        }
      });
    for (auto& th : ts) th.join();
    ASSERT_EQ(winners.load(), 1);
    int w = 0;
    while (won[size_t(w)] == CancelReason::none) ++w;
    EXPECT_EQ(t.reason(), won[size_t(w)]);
  }
}

TEST(CancelToken, ReasonsPrintAsTheirNames) {
  std::ostringstream os;
  os << CancelReason::none << ' ' << CancelReason::client_gone << ' ' << CancelReason::deadline << ' '
     << CancelReason::shutdown;
  EXPECT_EQ(os.str(), "none client_gone deadline shutdown");
}

TEST(CancelToken, NullTokenIsNeverCancelled) { EXPECT_NO_THROW(check_cancel(nullptr)); }

TEST(CancelToken, CancelledIsNotABadRequest) {
  EXPECT_EQ(api::http_status(api::ErrorKind::cancelled), 499);
  EXPECT_EQ(api::error_kind_of(Cancelled(CancelReason::client_gone)), api::ErrorKind::cancelled);
  EXPECT_EQ(api::error_kind_of(Cancelled(CancelReason::deadline)), api::ErrorKind::unavailable);
  EXPECT_EQ(api::error_kind_of(Cancelled(CancelReason::shutdown)), api::ErrorKind::unavailable);
  EXPECT_EQ(api::http_status(api::cancelled_kind(CancelReason::deadline)), 503);
  EXPECT_EQ(api::error_kind_of(Error("bad")), api::ErrorKind::invalid_field);  // unchanged
}

}  // namespace
}  // namespace lastrank
