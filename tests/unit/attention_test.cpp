// Tiled flash attention vs attention_ref: awkward lengths (query items of 48 rows, key tiles of
// 256 keys), GQA ratios 1/2/3, head dims that are and are not multiples of the register tile,
// sliding windows, peaked softmax (large scores), query chunks, and bitwise thread-count
// invariance; every kernel set this CPU runs.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <iterator>
#include <random>
#include <vector>

#include "backend/cpu/attention.h"
#include "core/dtype.h"
#include "kernel_set_fixture.h"

namespace lastrank::cpu {
namespace {

// Outputs are convex combinations of V rows (N(0,1) entries). fp32 online softmax with the
// polynomial exp (rel. err < 2e-7) and fp32 sums over <= a few hundred keys stay within ~1e-5
// of the double reference; 1e-4 leaves margin and still catches any masking/scaling bug (O(0.1)).
constexpr float kAttnTol = 1e-4f;
// bf16 products (AttentionShape::bf16): checked against the reference run on bf16-rounded Q, K, V.
// The only other rounding is P: each probability p_j is rounded to bf16 (|rel err| <= 2^-9) while
// the normalizer sums the unrounded p, so |out - ref| <= 2^-9 · max|V| + the fp32 tolerance.
constexpr float kBf16PRoundRel = 1.0f / 512.0f;

struct Inputs {
  std::vector<float> q, k, v;
};

Inputs make_inputs(const AttentionShape& s, float q_scale, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  Inputs in;
  in.q.resize(size_t(s.len * s.n_q * s.d));
  in.k.resize(size_t(s.len * s.n_kv * s.d));
  in.v.resize(in.k.size());
  for (float& x : in.q) x = q_scale * nd(rng);
  for (float& x : in.k) x = nd(rng);
  for (float& x : in.v) x = nd(rng);
  return in;
}

// Offset of query position s.q_begin in q (and out) of make_inputs' layout.
size_t first_query(const AttentionShape& s) { return size_t(s.q_begin * s.n_q * s.d); }

// Output rows of positions [s.q_begin, s.len).
std::vector<float> run_fast(const AttentionShape& s, const Inputs& in, int threads) {
  ThreadPool pool(threads);
  std::vector<float> out(in.q.size() - first_query(s), NAN);
  attention(s, in.q.data() + first_query(s), in.k.data(), in.v.data(), out.data(), pool);
  return out;
}

bool bf16_taken(const AttentionShape& s) { return s.bf16 && attention_bf16_available() && s.d % 2 == 0; }

void check(const AttentionShape& s, float q_scale = 1.0f) {
  Inputs in = make_inputs(s, q_scale, uint32_t(s.len * 17 + s.n_q * 5 + s.d + s.window));
  std::vector<float> got = run_fast(s, in, 2);
  float tol = kAttnTol;
  if (bf16_taken(s)) {  // the reference sees the rounded inputs
    float vmax = 0.0f;
    for (auto* t : {&in.q, &in.k, &in.v})
      for (float& x : *t) x = round_to_bf16(x);
    for (float x : in.v) vmax = std::max(vmax, std::fabs(x));
    tol += kBf16PRoundRel * vmax;
  }
  std::vector<float> ref(got.size());
  attention_ref(s, in.q.data() + first_query(s), in.k.data(), in.v.data(), ref.data());
  int bad = 0;
  for (size_t i = 0; i < ref.size(); ++i)
    if (!(std::fabs(got[i] - ref[i]) <= tol) && bad++ < 5)
      ADD_FAILURE() << "L=" << s.len << " n_q=" << s.n_q << " n_kv=" << s.n_kv << " d=" << s.d << " window=" << s.window
                    << " q_begin=" << s.q_begin << " bf16=" << s.bf16 << " at " << i << ": " << got[i] << " vs "
                    << ref[i];
  EXPECT_EQ(bad, 0);
}

AttentionShape bf16_shape(AttentionShape s) {
  s.bf16 = true;
  return s;
}

class Attention : public KernelSetTest<KernelSet> {};
class AttentionBf16 : public KernelSetTest<KernelSet> {};

TEST_P(Attention, AwkwardLengthsAndGroups) {
  for (int64_t len : {1, 7, 31, 32, 33, 63, 64, 65, 130})
    for (int64_t group : {1, 2, 3}) check({len, 2 * group, 2, 64, 0});
}

TEST_P(Attention, SeveralKeyTiles) {  // key tiles of 256: lengths around 1 and 2 tiles, GQA 2
  for (int64_t len : {255, 256, 257, 513}) check({len, 4, 2, 64, 0});
  check({600, 6, 2, 32, 300});  // window spanning tile edges
  check({600, 6, 2, 32, 257});
}

TEST_P(Attention, HeadDims) {
  // Also d not a multiple of the register tile's 4 (AVX2, NEON, scalar) or 8 (AVX-512) rows: V is
  // packed in column groups of that size, the last one padded (attention.cpp, KvHead).
  for (int64_t d : {3, 6, 8, 12, 20, 40, 128, 130, 136}) check({70, 4, 2, d, 0});
}

TEST_P(Attention, SlidingWindow) {
  for (int64_t window : {1, 2, 5, 32, 33, 64, 100, 500})
    for (int64_t group : {1, 3}) check({150, 3 * group, 3, 32, window});
}

TEST_P(Attention, PeakedSoftmaxIsStable) {
  check({200, 4, 2, 64, 0}, 8.0f);  // scores ~ +-60: exp overflows without the running max
  check({200, 4, 2, 64, 17}, 8.0f);
}

TEST_P(Attention, ThreadCountInvariantBitwise) {
  const AttentionShape s{300, 6, 2, 64, 0};
  Inputs in = make_inputs(s, 1.0f, 9);
  std::vector<float> a = run_fast(s, in, 1), b = run_fast(s, in, 2), c = run_fast(s, in, 3);
  ASSERT_EQ(a, b);
  ASSERT_EQ(a, c);
}

// Running the queries in chunks (q_begin > 0, as the model does for long inputs) gives the same
// bits as one call: key tiles are aligned to absolute positions, not to the chunk.
TEST_P(Attention, QueryChunksBitwiseEqualWholeRun) {
  for (int64_t window : {0, 5, 70})
    for (int64_t group : {1, 2, 3}) {
      const AttentionShape s{257, 2 * group, 2, 40, window};
      Inputs in = make_inputs(s, 2.0f, uint32_t(11 + window + group));
      const std::vector<float> whole = run_fast(s, in, 2);
      const int64_t row = s.n_q * s.d;
      std::vector<float> chunked(whole.size(), NAN);
      ThreadPool pool(2);
      const int64_t bounds[] = {0, 1, 8, 71, 200, 256, 257};  // chunks of 1, 7, 63, 129, 56, 1 rows
      for (size_t i = 0; i + 1 < std::size(bounds); ++i) {
        AttentionShape c = s;
        c.q_begin = bounds[i];
        c.len = bounds[i + 1];  // keys beyond the chunk's last query are never needed
        attention(c, in.q.data() + c.q_begin * row, in.k.data(), in.v.data(), chunked.data() + c.q_begin * row, pool);
      }
      ASSERT_EQ(whole, chunked) << "window=" << window << " group=" << group;
      // The reference takes the same chunking.
      std::vector<float> ref(whole.size()), ref_tail(size_t((s.len - 100) * row));
      attention_ref(s, in.q.data(), in.k.data(), in.v.data(), ref.data());
      AttentionShape tail = s;
      tail.q_begin = 100;
      attention_ref(tail, in.q.data() + 100 * row, in.k.data(), in.v.data(), ref_tail.data());
      ASSERT_TRUE(std::equal(ref_tail.begin(), ref_tail.end(), ref.begin() + 100 * row));
    }
}

// K and V past 4 MB per kv head (L = 4200, d = 128) take wider query items (attention.cpp,
// kQrLongKv): the last 40 query positions (a whole and a partial item), against the reference.
AttentionShape long_tail(AttentionShape s) {
  s.q_begin = s.len - 40;
  return s;
}

TEST_P(Attention, LongKvTakesWideItems) {
  check(long_tail({4200, 4, 2, 128, 0}));
  check(long_tail(bf16_shape({4200, 4, 2, 128, 1000})));  // bf16 products where the set has them; a window
}

// The bf16-product path over the same awkward sizes: odd lengths (odd key tiles take a zero P
// row), GQA 1-3, windows, several key tiles, peaked scores, head dims incl. an odd one (fp32 path).
TEST_P(AttentionBf16, AwkwardSizesWithinRoundingBound) {
  for (int64_t len : {1, 2, 7, 33, 64, 65, 130})
    for (int64_t group : {1, 2, 3}) check(bf16_shape({len, 2 * group, 2, 64, 0}));
  for (int64_t len : {255, 256, 257, 513}) check(bf16_shape({len, 4, 2, 64, 0}));
  for (int64_t d : {8, 40, 128, 136, 9}) check(bf16_shape({70, 4, 2, d, 0}));
  for (int64_t window : {1, 5, 33, 100, 300}) check(bf16_shape({600, 6, 2, 32, window}));
  check(bf16_shape({200, 4, 2, 64, 0}), 8.0f);
  check(bf16_shape({200, 4, 2, 64, 17}), 8.0f);
}

// The flag is honoured: on an AVX512_BF16 build the result differs from the fp32 path (by the
// rounding, far below the tolerance above) and is bit-identical across threads and query chunks.
TEST_P(AttentionBf16, TakenDeterministicAndChunkInvariant) {
  const AttentionShape s = bf16_shape({301, 6, 2, 64, 0});
  Inputs in = make_inputs(s, 1.0f, 21);
  const std::vector<float> a = run_fast(s, in, 1), b = run_fast(s, in, 2), c = run_fast(s, in, 3);
  ASSERT_EQ(a, b);
  ASSERT_EQ(a, c);
  AttentionShape f = s;
  f.bf16 = false;
  const std::vector<float> exact = run_fast(f, in, 2);
  if (attention_bf16_available()) EXPECT_NE(a, exact);
  else EXPECT_EQ(a, exact);
  const int64_t row = s.n_q * s.d;
  std::vector<float> chunked(a.size(), NAN);
  ThreadPool pool(2);
  const int64_t bounds[] = {0, 1, 8, 71, 257, 300, 301};
  for (size_t i = 0; i + 1 < std::size(bounds); ++i) {
    AttentionShape ch = s;
    ch.q_begin = bounds[i];
    ch.len = bounds[i + 1];
    attention(ch, in.q.data() + ch.q_begin * row, in.k.data(), in.v.data(), chunked.data() + ch.q_begin * row, pool);
  }
  ASSERT_EQ(a, chunked);
}

// The softmax's vector exp (simd::exp_neg), through the kernel table's hook.
TEST_P(Attention, ExpNegMatchesStdExp) {
  const KernelTable& kt = active_kernels();
  const int lanes = kt.vector_lanes;
  std::vector<float> xs(static_cast<size_t>(lanes)), ys(static_cast<size_t>(lanes));
  for (float x0 = -100.0f; x0 <= 0.0f; x0 += 0.37f) {
    for (int i = 0; i < lanes; ++i) xs[size_t(i)] = x0 + 0.01f * i;
    kt.exp_neg(xs.data(), ys.data(), lanes);
    for (int i = 0; i < lanes; ++i) {
      const double e = std::exp(double(xs[size_t(i)]));
      if (xs[size_t(i)] < -87.0f) EXPECT_EQ(ys[size_t(i)], 0.0f);
      else EXPECT_LE(std::fabs(ys[size_t(i)] - e), 3e-7 * e) << xs[size_t(i)];
    }
  }
  std::fill(xs.begin(), xs.end(), -INFINITY);
  kt.exp_neg(xs.data(), ys.data(), lanes);
  EXPECT_EQ(ys[0], 0.0f);
}

INSTANTIATE_TEST_SUITE_P(Sets, Attention, all_kernel_sets(), kernel_set_test_name);
INSTANTIATE_TEST_SUITE_P(Sets, AttentionBf16, all_kernel_sets(), kernel_set_test_name);

}  // namespace
}  // namespace lastrank::cpu
