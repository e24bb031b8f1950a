// Tests run once per (fixture checkpoint, precision, kernel set): the fixture checkpoints come from
// tests/data/checkpoints.txt (ctest fixture generate_test_models), the kernel sets from
// kernel_set_fixture.h. A missing checkpoint skips the test with its path.
//   class Foo : public TestModelCase {};   // model_: the checkpoint's directory; precision()
// and same_bits for comparing outputs.
//   INSTANTIATE_TEST_SUITE_P(All, Foo, ::testing::Combine(::testing::Values("tiny-gqa3"),
//       ::testing::Values(Precision::fp32), cpu::all_kernel_sets()), test_model_case_name);
#pragma once
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <string>
#include <tuple>
#include <vector>

#include "backend/precision.h"
#include "kernel_set_fixture.h"
#include "test_paths.h"

namespace lastrank {

using TestModelParam = std::tuple<std::string, Precision, cpu::KernelSet>;

class TestModelCase : public cpu::KernelSetTest<TestModelParam> {
 protected:
  void SetUp() override {
    cpu::KernelSetTest<TestModelParam>::SetUp();
    if (IsSkipped()) return;
    model_ = std::string(LASTRANK_TEST_MODELS) + "/" + std::get<0>(GetParam());
    if (!std::filesystem::exists(model_ + "/config.json")) GTEST_SKIP() << "no test model at " << model_;
  }
  Precision precision() const { return std::get<1>(GetParam()); }

  std::string model_;  // the fixture checkpoint's directory
};

// Whether two outputs (forward rows, projections) are the same floats, bit for bit.
inline bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

// "tiny_gqa3_int8_avx2": the gtest name suffix of a TestModelParam.
inline std::string test_model_case_name(const ::testing::TestParamInfo<TestModelParam>& info) {
  std::string name = std::get<0>(info.param) + "_" + precision_name(std::get<1>(info.param)) + "_" +
                     cpu::kernel_set_name(std::get<2>(info.param));
  for (char& c : name)
    if (c == '-') c = '_';
  return name;
}

}  // namespace lastrank
