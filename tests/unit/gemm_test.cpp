// Packed GEMM (fp32 / bf16 / int8) vs the scalar references over awkward sizes, thread-count
// invariance, ldy > n, and the input checks of pack_matrix; every kernel set this CPU runs.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <iterator>
#include <random>
#include <vector>

#include "backend/cpu/gemm.h"
#include "backend/cpu/gemm_internal.h"
#include "core/error.h"
#include "kernel_set_fixture.h"

namespace lastrank::cpu {
namespace {

// fp32 kernels sum in a different order than gemm_ref's double accumulation; the error of an
// fp32 sum of k products is bounded by ~k * 2^-24 * sum |x w| and is ~sqrt(k) * 2^-24 * sum|x w|
// in practice. 1e-5 of sum|x w| sits safely above that for k <= 1024 and far below any bug.
constexpr double kF32Tol = 1e-5;
// int8 vs the exact-integer scalar reference: both compute scale_x * scale_w * int32 dot; only
// the final float rescale may round differently (1 ulp-ish).
constexpr double kInt8VsRefTol = 1e-6;
// int8 vs fp32 on N(0,1) data: 8-bit activations x 6/7-bit weights give a few % relative error
// per output; 0.08 of the output scale sqrt(sum (x w)^2) is a loose bound that still catches
// wrong scales, signs or offsets (those are O(1)).
constexpr double kInt8VsF32Tol = 0.08;

struct Weights {
  std::vector<float> f32;
  std::vector<uint16_t> half;  // bf16 or f16 bits
  TensorView view;
};

Weights make_weights(int64_t n, int64_t k, DType dt, uint32_t seed) {
  Weights w;
  std::mt19937 rng(seed);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  w.f32.resize(size_t(n * k));
  for (float& v : w.f32) v = nd(rng);
  w.view.dtype = dt;
  w.view.rank = 2;
  w.view.shape = {n, k, 0, 0};
  w.view.name = "w";
  if (dt == DType::F32) {
    w.view.data = w.f32.data();
  } else {
    w.half.resize(w.f32.size());
    for (size_t i = 0; i < w.f32.size(); ++i) w.half[i] = dt == DType::BF16 ? f32_to_bf16(w.f32[i]) : f32_to_f16(w.f32[i]);
    w.view.data = w.half.data();
  }
  return w;
}

std::vector<float> make_x(int64_t m, int64_t k, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  std::vector<float> x(size_t(m * k));
  for (float& v : x) v = nd(rng);
  return x;
}

// Weight view with every value rounded to bf16 (what the bf16 path is specified to compute with).
Weights rounded_bf16(const Weights& w) {
  Weights r;
  r.f32.resize(size_t(w.view.numel()));
  for (int64_t i = 0; i < w.view.numel(); ++i) r.f32[size_t(i)] = round_to_bf16(w.view.at(i));
  r.view = w.view;
  r.view.dtype = DType::F32;
  r.view.data = r.f32.data();
  return r;
}

// |y - ref| <= tol * sum_c |x_c w_c| for every element.
void expect_close(const std::vector<float>& x, const TensorView& w, int64_t m, const std::vector<float>& y,
                  int64_t ldy, const std::vector<float>& ref, double tol, const std::string& what) {
  const int64_t n = w.shape[0], k = w.shape[1];
  int bad = 0;
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      double mag = 0;
      for (int64_t c = 0; c < k; ++c) mag += std::fabs(double(x[size_t(i * k + c)]) * w.at(j * k + c));
      const double err = std::fabs(double(y[size_t(i * ldy + j)]) - ref[size_t(i * n + j)]);
      if (!(err <= tol * mag + 1e-30) && bad++ < 5)
        ADD_FAILURE() << what << " y[" << i << "," << j << "]=" << y[size_t(i * ldy + j)] << " ref " << ref[size_t(i * n + j)]
                      << " err " << err << " > " << tol * mag;
    }
  EXPECT_EQ(bad, 0) << what;
}

std::vector<float> run_packed(const PackedMatrix& p, const std::vector<float>& x, int64_t m, int64_t ldy, int threads) {
  ThreadPool pool(threads);
  Workspace ws;
  std::vector<float> y(size_t(m * ldy), -7.0f);  // poison: columns >= n must stay untouched
  p.apply(x.data(), m, y.data(), ldy, pool, ws);
  return y;
}

void check_case(int64_t m, int64_t n, int64_t k, PackFormat prec, DType dt) {
  const std::string what = ::testing::PrintToString(std::vector<int64_t>{m, n, k}) + " prec " +
                           pack_format_name(prec) + " dtype " + std::string(dtype_name(dt));
  Weights w = make_weights(n, k, dt, uint32_t(m * 131 + n * 7 + k));
  std::vector<float> x = make_x(m, k, uint32_t(k * 3 + 1));
  auto packed = pack_matrix(w.view, prec);
  ASSERT_EQ(packed->n(), n);
  ASSERT_EQ(packed->k(), k);
  ASSERT_EQ(packed->format(), prec);
  const int64_t ldy = n + 3;
  std::vector<float> y = run_packed(*packed, x, m, ldy, 2);
  std::vector<float> ref(size_t(m * n));
  if (prec == PackFormat::int8) {
    gemm_int8_ref(x.data(), m, k, w.view, ref.data());
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        const double r = ref[size_t(i * n + j)], got = y[size_t(i * ldy + j)];
        ASSERT_LE(std::fabs(got - r), kInt8VsRefTol * (std::fabs(r) + 1e-3)) << what << " at " << i << "," << j;
      }
  } else {
    const bool bf16w = prec == PackFormat::bf16_weights || prec == PackFormat::bf16_dot;
    Weights wr = bf16w ? rounded_bf16(w) : Weights{};
    const TensorView& wv = bf16w ? wr.view : w.view;
    // Where the bf16 kernel multiplies bf16 pairs (vdpbf16ps), x is rounded to bf16 as well;
    // the products are then exact and only the fp32 summation differs from the reference.
    std::vector<float> xr = x;
    if (prec == PackFormat::bf16_dot && gemm_bf16_dot_rounds_activations())
      for (float& v : xr) v = round_to_bf16(v);
    gemm_ref(xr.data(), m, k, wv, ref.data());
    expect_close(xr, wv, m, y, ldy, ref, kF32Tol, what);
  }
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = n; j < ldy; ++j) ASSERT_EQ(y[size_t(i * ldy + j)], -7.0f) << what << " wrote past n";
}

const int64_t kSizes[] = {1, 7, 63, 64, 65, 129};

class GemmPrecision : public KernelSetTest<std::tuple<PackFormat, KernelSet>> {
 protected:
  PackFormat precision() const { return std::get<0>(GetParam()); }
};

TEST_P(GemmPrecision, AwkwardShapesMatchReference) {
  for (int64_t m : kSizes)
    for (int64_t n : kSizes)
      for (int64_t k : {int64_t(1), int64_t(65), int64_t(300)}) check_case(m, n, k, precision(), DType::BF16);
}

TEST_P(GemmPrecision, KSweepCrossesBlocks) {
  for (int64_t k : {7, 63, 64, 129, 255, 256, 257, 513, 700, 1025, 2100}) check_case(13, 37, k, precision(), DType::F32);
}

TEST_P(GemmPrecision, RowsCrossBlocks) {  // row blocks of the fp32/bf16 driver are 192 rows
  for (int64_t m : {383, 385, 781}) check_case(m, 45, 531, precision(), DType::BF16);
}

TEST_P(GemmPrecision, SourceDtypes) {
  for (DType dt : {DType::F32, DType::BF16, DType::F16}) check_case(20, 50, 90, precision(), dt);
}

TEST_P(GemmPrecision, ThreadCountInvariantBitwise) {
  const int64_t m = 203, n = 333, k = 600;
  Weights w = make_weights(n, k, DType::BF16, 5);
  std::vector<float> x = make_x(m, k, 6);
  auto packed = pack_matrix(w.view, precision());
  std::vector<float> y1 = run_packed(*packed, x, m, n, 1);
  std::vector<float> y2 = run_packed(*packed, x, m, n, 2);
  std::vector<float> y3 = run_packed(*packed, x, m, n, 3);
  ASSERT_EQ(y1, y2);
  ASSERT_EQ(y1, y3);
  // Rows do not influence each other either: a row computed alone gives the same bits.
  std::vector<float> xr(x.begin() + 100 * k, x.begin() + 101 * k);
  std::vector<float> yr = run_packed(*packed, xr, 1, n, 2);
  for (int64_t j = 0; j < n; ++j) ASSERT_EQ(yr[size_t(j)], y1[size_t(100 * n + j)]);
}

// The fast packers (a BF16 checkpoint's bits transposed into panels) give the same packed matrix
// as the reference packers (set_reference_packing): bit-identical products, over panel edges (n not
// a multiple of the panel width), odd k (the reference path) and special values.
TEST_P(GemmPrecision, FastPackingMatchesReference) {
  for (const auto& [n, k] : std::vector<std::pair<int64_t, int64_t>>{{77, 64}, {333, 600}, {40, 1030}, {33, 65}}) {
    Weights w = make_weights(n, k, DType::BF16, uint32_t(n + k));
    const uint16_t specials[] = {0x7f80, 0xff80, 0x8000, 0x0001, 0x8003, 0x7f7f};  // inf, -inf, -0, subnormals, max
    // int8 refuses inf weights (Int8PackingRefusesNonFiniteWeights); it gets the finite specials.
    const size_t first = precision() == PackFormat::int8 ? 2 : 0;
    for (size_t i = first; i < std::size(specials); ++i) w.half[size_t(i * 37 % size_t(n * k))] = specials[i];
    std::vector<float> x = make_x(5, k, 9);
    set_reference_packing(true);
    auto ref = pack_matrix(w.view, precision());
    set_reference_packing(false);
    auto fast = pack_matrix(w.view, precision());
    ASSERT_EQ(fast->bytes(), ref->bytes());
    std::vector<float> yr = run_packed(*ref, x, 5, n, 2), yf = run_packed(*fast, x, 5, n, 2);
    ASSERT_EQ(0, std::memcmp(yr.data(), yf.data(), yr.size() * sizeof(float))) << "n " << n << " k " << k;
  }
}

// A weight that is inf or NaN has no int8 code: packing says so (a lastrank::Error naming the row),
// on the reference and the fast packers alike, instead of converting it to an undefined integer.
TEST(GemmInt8, PackingRefusesNonFiniteWeights) {
  for (const uint16_t special : {uint16_t(0x7f80), uint16_t(0xff80), uint16_t(0x7fc0)}) {  // inf, -inf, NaN
    for (const bool reference : {true, false}) {
      Weights w = make_weights(40, 96, DType::BF16, 7);
      w.half[size_t(17 * 96 + 50)] = special;
      set_reference_packing(reference);
      try {
        pack_matrix(w.view, PackFormat::int8);
        ADD_FAILURE() << "int8 packing accepted the bf16 bits " << special;
      } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("weight row 17"), std::string::npos) << e.what();
      }
      set_reference_packing(false);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(All, GemmPrecision,
                         ::testing::Combine(::testing::Values(PackFormat::fp32, PackFormat::bf16_weights,
                                                              PackFormat::int8, PackFormat::bf16_dot),
                                            all_kernel_sets()),
                         [](const auto& info) {
                           std::string name = pack_format_name(std::get<0>(info.param));
                           std::replace(name.begin(), name.end(), '-', '_');
                           return name + "_" + kernel_set_name(std::get<1>(info.param));
                         });

class GemmOnSet : public KernelSetTest<KernelSet> {};

TEST(Gemm, PackRejectsBadWeights) {
  Weights w = make_weights(4, 8, DType::F32, 1);
  TensorView bad = w.view;
  bad.rank = 1;
  EXPECT_THROW(pack_matrix(bad, PackFormat::fp32), Error);
  bad = w.view;
  bad.dtype = DType::I32;
  EXPECT_THROW(pack_matrix(bad, PackFormat::bf16_weights), Error);
  bad = w.view;
  bad.data = nullptr;
  EXPECT_THROW(pack_matrix(bad, PackFormat::int8), Error);
}

// bf16-dot (the bf16 precision's format: bf16 activations, vdpbf16ps): channels far larger than the rest are compensated
// (their rounding residual added back in fp32), so the result is the product with those channels
// exact and all others rounded. Without the compensation the 300x channels' rounding error alone
// (~2^-9 of the dominant terms) is ~100x this test's tolerance.
TEST_P(GemmOnSet, Bf16OutlierChannelsAreExact) {
  if (!gemm_bf16_dot_rounds_activations()) GTEST_SKIP() << "bf16 mode keeps activations exact on this set (no AVX512_BF16 / bf16)";
  for (int64_t m : {1, 7, 65}) {
    const int64_t n = 77, k = 1030;
    const std::vector<int64_t> hot = {3, 500, 1029};
    Weights w = make_weights(n, k, DType::BF16, uint32_t(m));
    std::vector<float> x = make_x(m, k, uint32_t(m + 1));
    for (int64_t i = 0; i < m; ++i)
      for (size_t h = 0; h < hot.size(); ++h) x[size_t(i * k + hot[h])] *= 300.0f + 50.0f * float(h);
    auto packed = pack_matrix(w.view, PackFormat::bf16_dot);
    std::vector<float> y = run_packed(*packed, x, m, n, 2);
    std::vector<float> xr = x;
    for (int64_t i = 0; i < m; ++i)
      for (int64_t c = 0; c < k; ++c)
        if (std::find(hot.begin(), hot.end(), c) == hot.end()) xr[size_t(i * k + c)] = round_to_bf16(x[size_t(i * k + c)]);
    std::vector<float> ref(size_t(m * n));
    gemm_ref(xr.data(), m, k, w.view, ref.data());
    expect_close(xr, w.view, m, y, n, ref, kF32Tol, "bf16 outliers m=" + std::to_string(m));
  }
}

TEST(Gemm, PackFormatNames) {
  EXPECT_STREQ(pack_format_name(PackFormat::fp32), "fp32");
  EXPECT_STREQ(pack_format_name(PackFormat::bf16_weights), "bf16-weights");
  EXPECT_STREQ(pack_format_name(PackFormat::bf16_dot), "bf16-dot");
  EXPECT_STREQ(pack_format_name(PackFormat::int8), "int8");
}

// bf16 weights are stored as bf16 by every bf16-capable format, fp32 included (exact products at half
// the memory); only F32/F16 weights in fp32 mode take 4 bytes each.
TEST_P(GemmOnSet, Bf16WeightsStayHalfSize) {
  Weights w = make_weights(256, 512, DType::BF16, 2);
  for (PackFormat p : {PackFormat::fp32, PackFormat::bf16_weights, PackFormat::bf16_dot})
    EXPECT_LE(pack_matrix(w.view, p)->bytes(), size_t(256 * 512 * 2 * 1.1)) << pack_format_name(p);
  Weights w32 = make_weights(256, 512, DType::F32, 2);
  EXPECT_GE(pack_matrix(w32.view, PackFormat::fp32)->bytes(), size_t(256 * 512 * 4));
  EXPECT_LE(pack_matrix(w32.view, PackFormat::bf16_weights)->bytes(), size_t(256 * 512 * 2 * 1.1));
}

INSTANTIATE_TEST_SUITE_P(Sets, GemmOnSet, all_kernel_sets(), kernel_set_test_name);

}  // namespace
}  // namespace lastrank::cpu
