// The shared prompt prefix (model/shared_prefix.h) on the tiny test checkpoints: fp32 results equal
// a forward that computes every row in one pass; in every precision and kernel set, a forward
// that reuses kept K/V equals one that computes the prefix first (a fresh model), so results never
// depend on the cache state; a prefix that does not apply changes nothing; a cancelled prefix
// pass is redone. Needs the test models (ctest fixture generate_test_models); skips without.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <memory>

#include "core/cancel.h"
#include "model/config.h"
#include "model/qwen3.h"
#include "test_model_case.h"

namespace lastrank {
namespace {

std::vector<int32_t> token_ids(int n, int seed) {
  std::vector<int32_t> ids;
  for (int i = 0; i < n; ++i) ids.push_back(int32_t((i * 7919 + seed * 104729) % 151000));
  return ids;
}

class SharedPrefixModel : public TestModelCase {
 protected:
  // A fresh model; attention row chunks of 5 rows put chunk starts off the prefix boundary.
  std::unique_ptr<Qwen3Model> make(const std::vector<int32_t>& prefix) const {
    EngineOptions eo;
    eo.precision = precision();
    eo.threads = 2;
    eo.int8_leading_layers = 1;
    eo.attn_row_chunk = 5;
    ModelConfig cfg = load_model_config(model_ + "/config.json");
    ModelWeights w = load_model_weights(model_, cfg);
    auto m = std::make_unique<Qwen3Model>(std::move(cfg), std::move(w), eo);
    m->set_shared_prefix(prefix);
    return m;
  }
  static std::vector<float> run(Qwen3Model& m, const std::vector<int32_t>& ids, const std::vector<int64_t>& readout,
                                const CancelToken* cancel = nullptr) {
    std::vector<float> out(readout.size() * size_t(m.config().hidden_size));
    m.forward(ids, readout, out.data(), nullptr, cancel);
    return out;
  }
};

// 13 prefix rows: longer than tiny-swa's window of 8 and than an attention chunk.
const std::vector<int32_t> kPrefix = token_ids(13, 1);

std::vector<int32_t> with_prefix(int suffix, int seed) {
  std::vector<int32_t> ids = kPrefix, rest = token_ids(suffix, seed);
  ids.insert(ids.end(), rest.begin(), rest.end());
  return ids;
}

TEST_P(SharedPrefixModel, KeptKvGiveTheFirstPassResults) {
  auto kept = make(kPrefix);
  const std::vector<int32_t> a = with_prefix(20, 2), b = with_prefix(9, 3);
  const std::vector<float> a1 = run(*kept, a, {13, 20, 32}), b1 = run(*kept, b, {15, 21});
  EXPECT_TRUE(same_bits(run(*kept, a, {13, 20, 32}), a1));
  auto fresh = make(kPrefix);
  EXPECT_TRUE(same_bits(run(*fresh, b, {15, 21}), b1)) << "a fresh model (prefix pass first) differs";
}

TEST_P(SharedPrefixModel, Fp32EqualsOnePass) {
  if (precision() != Precision::fp32) GTEST_SKIP() << "bf16 and int8 pick outlier channels per pass";
  auto split = make(kPrefix), whole = make({});
  const std::vector<int32_t> a = with_prefix(20, 2);
  const std::vector<float> x = run(*split, a, {13, 20, 32}), y = run(*whole, a, {13, 20, 32});
  ASSERT_EQ(x.size(), y.size());
  for (size_t i = 0; i < x.size(); ++i) ASSERT_NEAR(x[i], y[i], 1e-5f * (1.0f + std::fabs(y[i]))) << i;
}

TEST_P(SharedPrefixModel, PrefixThatDoesNotApplyChangesNothing) {
  auto split = make(kPrefix), whole = make({});
  std::vector<int32_t> other = with_prefix(20, 2);
  other[12] ^= 1;  // differs in the prefix's last token
  EXPECT_TRUE(same_bits(run(*split, other, {13, 32}), run(*whole, other, {13, 32})));
  const std::vector<int32_t> a = with_prefix(20, 2);  // a readout row inside the prefix
  EXPECT_TRUE(same_bits(run(*split, a, {12, 32}), run(*whole, a, {12, 32})));
  EXPECT_TRUE(same_bits(run(*split, kPrefix, {5}), run(*whole, kPrefix, {5})));  // nothing past it
}

TEST_P(SharedPrefixModel, CancelledPrefixPassIsRedone) {
  auto m = make(kPrefix);
  const std::vector<int32_t> a = with_prefix(20, 2);
  CancelToken cancel;
  cancel.cancel(CancelReason::client_gone);
  EXPECT_THROW(run(*m, a, {13, 32}, &cancel), Cancelled);
  auto fresh = make(kPrefix);
  EXPECT_TRUE(same_bits(run(*m, a, {13, 32}), run(*fresh, a, {13, 32})));
}

INSTANTIATE_TEST_SUITE_P(
    All, SharedPrefixModel,
    ::testing::Combine(::testing::Values("tiny-gqa3", "tiny-swa", "tiny-outlier"),
                       ::testing::Values(Precision::fp32, Precision::bf16, Precision::int8), cpu::all_kernel_sets()),
    test_model_case_name);

}  // namespace
}  // namespace lastrank
