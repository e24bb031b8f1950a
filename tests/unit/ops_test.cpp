// The forward's CPU ops (src/backend/cpu/ops.h) against naive scalar double-precision versions
// on awkward sizes (odd widths, tails shorter than a vector, GQA 3, sliding windows); every kernel
// set this CPU runs.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "backend/cpu/attention.h"
#include "backend/cpu/ops.h"
#include "core/error.h"
#include "kernel_set_fixture.h"

namespace lastrank::cpu {
namespace {

// fp32 ops vs double references: a few fp32 roundings per element.
constexpr double kOpTol = 2e-6;
// exp_approx promises ~2 ulp (2^-23 ≈ 1.2e-7 per ulp).
constexpr double kExpRelTol = 3.0e-7;
// attention_rows sums up to 40 fp32 products per dot and softmax terms vs double.
constexpr double kAttnTol = 2e-5;

std::vector<float> randn(size_t n, uint32_t seed, float scale = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.f, scale);
  std::vector<float> v(n);
  for (float& x : v) x = d(rng);
  return v;
}

double rel_err(double got, double want) { return std::abs(got - want) / std::max(1e-30, std::abs(want)); }

class Ops : public KernelSetTest<KernelSet> {};

TEST_P(Ops, RmsNormMatchesNaive) {
  ThreadPool pool(2);
  for (int64_t cols : {1, 7, 16, 33, 130, 1024}) {
    const int64_t rows = 5;
    auto x = randn(size_t(rows * cols), uint32_t(cols), 3.0f);
    auto w = randn(size_t(cols), uint32_t(cols + 1));
    std::vector<float> out(x.size());
    rms_norm(x.data(), rows, cols, w.data(), 1e-6f, out.data(), pool);
    for (int64_t r = 0; r < rows; ++r) {
      double ss = 0;
      for (int64_t c = 0; c < cols; ++c) ss += double(x[r * cols + c]) * x[r * cols + c];
      const double inv = 1.0 / std::sqrt(ss / double(cols) + 1e-6);
      for (int64_t c = 0; c < cols; ++c) {
        const double want = double(w[c]) * x[r * cols + c] * inv;
        EXPECT_NEAR(out[r * cols + c], want, kOpTol * (1 + std::abs(want))) << "cols=" << cols;
      }
    }
    // In place gives the same result.
    std::vector<float> y = x;
    rms_norm(y.data(), rows, cols, w.data(), 1e-6f, y.data(), pool);
    EXPECT_EQ(0, std::memcmp(y.data(), out.data(), out.size() * 4));
  }
}

TEST_P(Ops, RmsNormUsesEps) {
  ThreadPool pool(1);
  std::vector<float> x(8, 0.f), w(8, 1.f), out(8, 1.f);
  rms_norm(x.data(), 1, 8, w.data(), 1e-6f, out.data(), pool);
  for (float v : out) EXPECT_EQ(v, 0.f);  // zero row stays finite
}

TEST_P(Ops, ExpApproxWithinTwoUlp) {
  double worst = 0;
  for (double t = -87.0; t <= 88.0; t += 0.001953125) {
    const float x = float(t);
    worst = std::max(worst, rel_err(exp_approx(x), std::exp(double(x))));
  }
  EXPECT_LT(worst, kExpRelTol);
  EXPECT_GT(exp_approx(-200.f), 0.f);
  EXPECT_TRUE(std::isfinite(exp_approx(200.f)));
}

TEST_P(Ops, SwigluMatchesNaive) {
  ThreadPool pool(2);
  const int64_t n = 100003;  // odd, spans several chunks
  auto g = randn(size_t(n), 1, 6.0f), u = randn(size_t(n), 2);
  // Saturating inputs in the vector body and in the scalar tail: exp's clamp must keep them finite.
  for (int64_t i : {int64_t(5), int64_t(17), int64_t(40), n - 2, n - 1}) g[size_t(i)] = (i % 2 ? 1000.f : -1000.f);
  g[33] = 95.f;
  g[34] = -95.f;
  auto g0 = g;
  swiglu(g.data(), u.data(), n, pool);
  for (int64_t i = 0; i < n; ++i) {
    const double z = g0[i];
    const double want = z / (1.0 + std::exp(-z)) * u[i];
    ASSERT_NEAR(g[i], want, kOpTol * (1 + std::abs(want))) << i;
  }
}

TEST_P(Ops, AddInplace) {
  ThreadPool pool(2);
  auto x = randn(77777, 3), y = randn(77777, 4);
  auto x0 = x;
  add_inplace(x.data(), y.data(), int64_t(x.size()), pool);
  for (size_t i = 0; i < x.size(); ++i) ASSERT_EQ(x[i], x0[i] + y[i]);
}

TEST_P(Ops, RopeInvFreqAndTables) {
  for (double theta : {1e6, 10000.0, 12345.5}) {
    for (int64_t hd : {2, 6, 34, 128}) {
      auto f = rope_inv_freq(theta, hd);
      ASSERT_EQ(int64_t(f.size()), hd / 2);
      EXPECT_EQ(f[0], 1.0f);
      for (int64_t i = 0; i < hd / 2; ++i) {
        // HF rounds the exponent 2i/hd to fp32 first; the rest is within 2 fp32 roundings.
        const double expo = double(float(2 * i) / float(hd));
        EXPECT_LT(rel_err(f[size_t(i)], 1.0 / std::pow(double(float(theta)), expo)), 2.5e-7) << theta << " " << hd;
        EXPECT_LT(rel_err(f[size_t(i)], std::pow(theta, -2.0 * double(i) / double(hd))), 2e-6) << theta << " " << hd;
      }
    }
  }
  auto f = rope_inv_freq(1e6, 8);
  const int64_t npos = 3001;
  std::vector<float> c(size_t(npos * 4)), s(size_t(npos * 4));
  rope_tables(f, npos, c.data(), s.data());
  for (int64_t p : {0, 1, 17, 3000}) {
    for (int64_t i = 0; i < 4; ++i) {
      const float angle = float(p) * f[size_t(i)];  // the fp32 angle, as HF
      EXPECT_NEAR(c[p * 4 + i], std::cos(double(angle)), 1e-7);
      EXPECT_NEAR(s[p * 4 + i], std::sin(double(angle)), 1e-7);
    }
  }
}

TEST_P(Ops, ApplyRopeMatchesRotateHalf) {
  ThreadPool pool(2);
  for (int64_t hd : {2, 6, 34}) {
    const int64_t rows = 9, heads = 3, half = hd / 2;
    auto f = rope_inv_freq(10000.0, hd);
    const int64_t npos = 50;
    std::vector<float> c(size_t(npos * half)), s(size_t(npos * half));
    rope_tables(f, npos, c.data(), s.data());
    auto x = randn(size_t(rows * heads * hd), uint32_t(hd));
    for (bool explicit_pos : {false, true}) {
      std::vector<int64_t> pos(static_cast<size_t>(rows));
      for (int64_t r = 0; r < rows; ++r) pos[size_t(r)] = explicit_pos ? 5 * r + 3 : r;
      auto y = x;
      apply_rope(y.data(), rows, heads, hd, c.data(), s.data(), explicit_pos ? pos.data() : nullptr, pool);
      for (int64_t r = 0; r < rows; ++r) {
        for (int64_t h = 0; h < heads; ++h) {
          const float* xi = x.data() + (r * heads + h) * hd;
          const float* yi = y.data() + (r * heads + h) * hd;
          for (int64_t d = 0; d < hd; ++d) {
            // HF: x * cos(emb) + rotate_half(x) * sin(emb), emb = cat(freqs, freqs).
            const int64_t i = d % half;
            const double ang = double(float(pos[size_t(r)]) * f[size_t(i)]);
            const double rot = d < half ? -double(xi[d + half]) : double(xi[d - half]);
            const double want = xi[d] * std::cos(ang) + rot * std::sin(ang);
            EXPECT_NEAR(yi[d], want, kOpTol * 4) << "hd=" << hd << " r=" << r << " d=" << d;
          }
        }
      }
    }
  }
}

TEST_P(Ops, EmbeddingLookupAllDtypesAndBounds) {
  ThreadPool pool(2);
  const int64_t vocab = 11, hidden = 13;
  auto vals = randn(size_t(vocab * hidden), 9);
  std::vector<uint16_t> b16(vals.size()), f16(vals.size());
  for (size_t i = 0; i < vals.size(); ++i) {
    b16[i] = f32_to_bf16(vals[i]);
    f16[i] = f32_to_f16(vals[i]);
  }
  const std::vector<int32_t> ids = {0, 10, 3, 3, 7};
  for (DType dt : {DType::F32, DType::BF16, DType::F16}) {
    TensorView t;
    t.dtype = dt;
    t.rank = 2;
    t.shape = {vocab, hidden, 0, 0};
    t.data = dt == DType::F32 ? static_cast<const void*>(vals.data())
                              : (dt == DType::BF16 ? static_cast<const void*>(b16.data()) : f16.data());
    t.name = "embed";
    std::vector<float> out(ids.size() * hidden);
    embedding_lookup(t, ids.data(), int64_t(ids.size()), out.data(), pool);
    for (size_t r = 0; r < ids.size(); ++r)
      for (int64_t c = 0; c < hidden; ++c) ASSERT_EQ(out[r * hidden + c], t.at(ids[r] * hidden + c));
    const std::vector<int32_t> bad = {1, 11};
    EXPECT_THROW(embedding_lookup(t, bad.data(), 2, out.data(), pool), Error);
    const std::vector<int32_t> neg = {-1};
    EXPECT_THROW(embedding_lookup(t, neg.data(), 1, out.data(), pool), Error);
  }
}

TEST_P(Ops, AttentionRowsMatchesReference) {
  ThreadPool pool(2);
  struct Case { int64_t len, n_q, n_kv, d, window; };
  for (const Case& cs : {Case{37, 6, 2, 20, 0}, Case{37, 6, 2, 20, 8}, Case{5, 4, 4, 7, 0}, Case{64, 3, 1, 16, 1}}) {
    AttentionShape s{cs.len, cs.n_q, cs.n_kv, cs.d, cs.window};
    auto q = randn(size_t(s.len * s.n_q * s.d), 11, 2.0f);
    auto k = randn(size_t(s.len * s.n_kv * s.d), 12, 2.0f);
    auto v = randn(size_t(s.len * s.n_kv * s.d), 13);
    std::vector<float> ref(q.size());
    attention_ref(s, q.data(), k.data(), v.data(), ref.data());
    std::vector<int64_t> rows = {0, s.len / 3, s.len - 2, s.len - 1};
    const int64_t qd = s.n_q * s.d;
    std::vector<float> qr(rows.size() * qd), out(rows.size() * qd);
    for (size_t r = 0; r < rows.size(); ++r) std::memcpy(&qr[r * qd], &q[rows[r] * qd], size_t(qd) * 4);
    attention_rows(s, rows.data(), int64_t(rows.size()), qr.data(), k.data(), v.data(), out.data(), pool);
    for (size_t r = 0; r < rows.size(); ++r)
      for (int64_t c = 0; c < qd; ++c)
        ASSERT_NEAR(out[r * qd + c], ref[rows[r] * qd + c], kAttnTol) << "len=" << s.len << " w=" << s.window;
  }
}

INSTANTIATE_TEST_SUITE_P(Sets, Ops, all_kernel_sets(), kernel_set_test_name);

}  // namespace
}  // namespace lastrank::cpu
