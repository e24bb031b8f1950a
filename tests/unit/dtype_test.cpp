// The portable f16 conversions (core/dtype.h, used where neither F16C nor _Float16 is available:
// the baseline code of a clang build) against the compiler's / hardware's conversion: every half,
// and fp32 values across the half range's normal, subnormal, overflow and NaN cases.
#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include "core/dtype.h"

namespace lastrank {
namespace {

uint32_t bits_of(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

TEST(Dtype, SoftF16ToF32MatchesEveryHalf) {
  for (uint32_t h = 0; h < 65536; ++h)
    ASSERT_EQ(bits_of(f16_to_f32_soft(uint16_t(h))), bits_of(f16_to_f32(uint16_t(h)))) << std::hex << h;
}

TEST(Dtype, SoftF32ToF16MatchesRoundToNearestEven) {
  std::mt19937 rng(7);
  for (uint32_t i = 0; i < (1u << 22); ++i) {
    // The first 2^21 walk 2^-26 .. 1.25 * 2^17 (subnormal halves to overflow) in steps of 173 ulps;
    // the rest are random bit patterns (NaNs and infinities included).
    const uint32_t x = i < (1u << 21) ? 0x32800000u + i * 173u : uint32_t(rng());
    float f;
    std::memcpy(&f, &x, 4);
    ASSERT_EQ(f32_to_f16_soft(f), f32_to_f16(f)) << std::hex << x;
  }
  for (float f : {65519.0f, 65520.0f, 65535.0f, 65536.0f, 2.98e-8f, 2.99e-8f, 5.96e-8f, 6.1e-5f, -0.0f})
    EXPECT_EQ(f32_to_f16_soft(f), f32_to_f16(f)) << f;
}

}  // namespace
}  // namespace lastrank
