// Runs a test once per kernel set of the architecture (src/backend/cpu/kernel_set.h): the set is
// made current for the test and the previous one restored after it. A set this build did not
// compile, or this CPU cannot run, skips with the reason (e.g. "it lacks avx512_bf16").
//   class Foo : public KernelSetTest<KernelSet> {};             // GetParam() is the set
//   class Bar : public KernelSetTest<std::tuple<X, KernelSet>> {};  // the set is the last element
//   INSTANTIATE_TEST_SUITE_P(Sets, Foo, all_kernel_sets(), kernel_set_test_name);
#pragma once
#include <gtest/gtest.h>

#include <optional>
#include <ostream>
#include <string>
#include <tuple>

#include "backend/cpu/kernel_dispatch.h"

namespace lastrank::cpu {

// gtest prints a KernelSet param by its name.
inline void PrintTo(KernelSet s, std::ostream* os) { *os << kernel_set_name(s); }

inline KernelSet kernel_set_of(KernelSet s) { return s; }
template <typename... T>
KernelSet kernel_set_of(const std::tuple<T...>& p) {
  return std::get<sizeof...(T) - 1>(p);
}

// Makes set s current while alive.
class KernelSetScope {
 public:
  explicit KernelSetScope(KernelSet s) : previous_(active_kernel_set()) { use_kernel_set(s); }
  ~KernelSetScope() { use_kernel_set(previous_); }
  KernelSetScope(const KernelSetScope&) = delete;
  KernelSetScope& operator=(const KernelSetScope&) = delete;

 private:
  KernelSet previous_;
};

template <typename Param>
class KernelSetTest : public ::testing::TestWithParam<Param> {
 protected:
  void SetUp() override {
    const KernelSet s = kernel_set_of(this->GetParam());
    const std::string why = kernel_set_unavailable(s);
    if (!why.empty()) GTEST_SKIP() << why;
    scope_.emplace(s);
  }
  void TearDown() override { scope_.reset(); }

 private:
  std::optional<KernelSetScope> scope_;
};

inline auto all_kernel_sets() { return ::testing::ValuesIn(architecture_kernel_sets()); }

inline std::string kernel_set_test_name(const ::testing::TestParamInfo<KernelSet>& i) {
  return kernel_set_name(i.param);
}

}  // namespace lastrank::cpu
