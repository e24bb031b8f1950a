// Tiled causal GQA flash attention (fp32, online softmax). One work item = (tile of kBq query
// positions, kv head): its kBq x group query rows share every K/V tile. Per kv tile of kBk keys:
//   S^T[kb, QR] = K_tile · (scale Q)^T      (fp32 micro-kernel, Q^T packed once per item)
//   running max / rescale / exp / row sums  (vectorized over the query rows)
//   O[QR, d] += P · V_tile                  (same micro-kernel)
// Never materializes L x L. Items are handed out dynamically, but each item is computed by one
// thread in a fixed order, so results are identical for any thread count and run to run.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <vector>

#include "backend/cpu/attention.h"
#include "backend/cpu/gemm_kernel.h"
#include "core/error.h"

namespace lastrank::cpu {
namespace {

constexpr int64_t kBq = 32;  // query positions per item (x group heads = query rows)
constexpr int64_t kBk = 64;  // keys per kv tile

int64_t round_up(int64_t a, int64_t b) { return (a + b - 1) / b * b; }

struct Scratch {
  std::vector<float> qt, o, s, m, l, corr;
};

// kh: this kv head's keys [L, d]; vh: its values [L, dp] (zero-padded columns).
void run_item(const AttentionShape& sh, const float* q, const float* kh, const float* vh, float* out, int64_t qtile,
              int64_t kvh, Scratch& w) {
  using namespace simd;
  const int64_t G = sh.n_q / sh.n_kv, d = sh.d, dp = round_up(d, kNr);
  const int64_t i0 = qtile * kBq, i1 = std::min(sh.len, i0 + kBq);
  const int64_t rows = (i1 - i0) * G;       // valid query rows, row r = (i - i0) * G + hh
  const int64_t qr = round_up(rows, kNr);   // padded to whole panels (multiple of kLanes)
  const float scale = 1.0f / std::sqrt(float(d));

  // Q^T panels: panel p holds d x kNr values (query rows p*kNr ...), pre-scaled, zero padding.
  std::fill(w.qt.begin(), w.qt.begin() + qr * d, 0.0f);
  for (int64_t r = 0; r < rows; ++r) {
    const float* src = q + ((i0 + r / G) * sh.n_q + kvh * G + r % G) * d;
    float* dst = w.qt.data() + (r / kNr) * d * kNr + r % kNr;
    for (int64_t c = 0; c < d; ++c) dst[c * kNr] = src[c] * scale;
  }
  std::fill(w.o.begin(), w.o.begin() + rows * dp, 0.0f);
  std::fill(w.m.begin(), w.m.begin() + qr, -INFINITY);
  std::fill(w.l.begin(), w.l.begin() + qr, 0.0f);

  const int64_t j_lo = sh.window > 0 ? std::max<int64_t>(0, i0 - sh.window + 1) : 0;
  for (int64_t j0 = j_lo; j0 < i1; j0 += kBk) {
    const int64_t j1 = std::min(i1, j0 + kBk), kb = j1 - j0;
    const float* kt = kh + j0 * d;   // K tile [kb, d]
    const float* vt = vh + j0 * dp;  // V tile [kb, dp]
    // S^T = K_tile · Q^T, [kb, qr] with row stride qr.
    // Panel-outer: one Q^T panel (d x kNr) stays in L1 while the K tile streams past it.
    for (int64_t p = 0; p < qr / kNr; ++p)
      for (int64_t j = 0; j < kb; j += kMr)
        micro_f32_any(int(std::min<int64_t>(kMr, kb - j)), kNr, d, kt + j * d, d, 1,
                      w.qt.data() + p * d * kNr, kNr, w.s.data() + j * qr + p * kNr, qr, false);
    // Mask keys after the query (causal) or at/behind the window edge.
    const bool causal_edge = j1 - 1 > i0;
    const bool window_edge = sh.window > 0 && j0 <= i1 - 1 - sh.window;
    if (causal_edge || window_edge)
      for (int64_t j = 0; j < kb; ++j)
        for (int64_t pos = i0, r = 0; pos < i1; ++pos, r += G) {
          const int64_t key = j0 + j;
          if (key > pos || (sh.window > 0 && key <= pos - sh.window))
            std::fill(w.s.begin() + j * qr + r, w.s.begin() + j * qr + r + G, -INFINITY);
        }
    // Online softmax, kLanes query rows at a time; keys summed in order.
    for (int64_t r = 0; r < qr; r += kLanes) {
      Vf mt = set1(-INFINITY);
      for (int64_t j = 0; j < kb; ++j) mt = max(mt, load(w.s.data() + j * qr + r));
      const Vf m_old = load(w.m.data() + r);
      const Vf m_new = max(m_old, mt);
      store(w.m.data() + r, m_new);
      // A row with no visible key so far keeps m = -inf; use 0 so exp gives 0, never NaN.
      float mu[kLanes];
      store(mu, m_new);
      for (float& e : mu) e = e == -INFINITY ? 0.0f : e;
      const Vf m_use = load(mu);
      Vf sum = zero();
      for (int64_t j = 0; j < kb; ++j) {
        const Vf p = exp_neg(sub(load(w.s.data() + j * qr + r), m_use));
        store(w.s.data() + j * qr + r, p);
        sum = add(sum, p);
      }
      const Vf corr = exp_neg(sub(m_old, m_use));
      store(w.corr.data() + r, corr);
      store(w.l.data() + r, fma(load(w.l.data() + r), corr, sum));
    }
    // O = O * corr + P · V.
    for (int64_t r = 0; r < rows; ++r) {
      const Vf c = set1(w.corr[size_t(r)]);
      float* o = w.o.data() + r * dp;
      for (int64_t e = 0; e < dp; e += kLanes) store(o + e, mul(load(o + e), c));
    }
    // Column-panel-outer: one V panel (kb x kNr) stays in L1 while P streams past it.
    for (int64_t c0 = 0; c0 < dp; c0 += kNr)
      for (int64_t r = 0; r < rows; r += kMr)
        micro_f32_any(int(std::min<int64_t>(kMr, rows - r)), kNr, kb, w.s.data() + r, 1, qr, vt + c0, dp,
                      w.o.data() + r * dp + c0, dp, true);
  }
  for (int64_t r = 0; r < rows; ++r) {
    float* dst = out + ((i0 + r / G) * sh.n_q + kvh * G + r % G) * d;
    const float* o = w.o.data() + r * dp;
    const float l = w.l[size_t(r)];
    for (int64_t c = 0; c < d; ++c) dst[c] = o[c] / l;
  }
}

}  // namespace

void attention(const AttentionShape& s, const float* q, const float* k, const float* v, float* out, ThreadPool& pool) {
  LR_CHECK(s.len >= 0 && s.d > 0 && s.n_kv > 0 && s.n_q % s.n_kv == 0, "attention: len=", s.len, " n_q=", s.n_q,
           " n_kv=", s.n_kv, " d=", s.d);
  if (s.len == 0) return;
  const int64_t G = s.n_q / s.n_kv, dp = round_up(s.d, kNr), qr_max = round_up(kBq * G, kNr);
  const int64_t q_tiles = (s.len + kBq - 1) / kBq;
  // One kv head at a time: its K and V are first gathered into contiguous [L, d] / [L, dp]
  // arrays (streams instead of 4 KB-strided rows; 2 L dp floats extra, bounded for long L), then
  // its query tiles are handed out dynamically, largest (latest) first for load balance.
  std::vector<float> kh(size_t(s.len * s.d)), vh(size_t(s.len * dp), 0.0f);
  for (int64_t h = 0; h < s.n_kv; ++h) {
    pool.parallel_for(s.len, 64, [&](int64_t b, int64_t e, int) {
      for (int64_t j = b; j < e; ++j) {
        const float* ks = k + (j * s.n_kv + h) * s.d;
        const float* vs = v + (j * s.n_kv + h) * s.d;
        std::copy(ks, ks + s.d, kh.data() + j * s.d);
        std::copy(vs, vs + s.d, vh.data() + j * dp);
      }
    });
    std::atomic<int64_t> next{0};
    pool.run_on_all([&](int) {
      Scratch w;
      w.qt.resize(size_t(qr_max * s.d));
      w.o.resize(size_t(qr_max * dp));
      w.s.resize(size_t(kBk * qr_max));
      w.m.resize(size_t(qr_max));
      w.l.resize(size_t(qr_max));
      w.corr.resize(size_t(qr_max));
      for (int64_t t; (t = next.fetch_add(1)) < q_tiles;)
        run_item(s, q, kh.data(), vh.data(), out, q_tiles - 1 - t, h, w);
    });
  }
}

}  // namespace lastrank::cpu
