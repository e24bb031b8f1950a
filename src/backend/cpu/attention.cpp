// Tiled causal GQA flash attention (fp32, online softmax). One work item = (tile of query
// positions, kv head): its query rows (positions x group heads, padded to whole SIMD vectors)
// share every K/V tile. Query rows live in the SIMD lanes throughout:
//   S^T[kb, qr] = K_tile · (scale Q)^T   (Q^T [d, qr] packed once per item; row max fused in)
//   running max / rescale / exp / row sums, whole vectors of query rows
//   O^T[d, qr] = O^T * corr + V_tile^T · P^T   (the same register-tile kernel)
// so the softmax, the rescale and the final 1/l are plain vector ops, and both products use a
// register tile of kR rows x kQv vectors (24 of 32 zmm accumulate). Never materializes L x L.
// Items are handed out dynamically, but each item is computed by one thread in a fixed order, so
// results are identical for any thread count and run to run.
//
// bf16 products (AttentionShape::bf16, AVX512_BF16 or AArch64 bf16): the same loop with Q^T and
// P^T packed as bf16 pairs ([d/2][qr] and [kb/2][qr] words of two bf16), K as bf16 rows and V
// transposed into bf16 pairs along the keys ([d][L/2]), and both register tiles on vdpbf16ps /
// bfdot (two k per instruction, exact products, fp32 sums). Q is rounded unscaled; the 1/sqrt(d)
// moves into the softmax.
// Compiled once per kernel set (kernel_table.h).
#include <algorithm>
#include <atomic>
#include <cmath>
#include <vector>

#include "backend/cpu/attention.h"
#include "backend/cpu/gemm_kernel.h"
#include "backend/cpu/kernel_table.h"
#include "backend/cpu/simd.h"
#include "core/error.h"

namespace lastrank::cpu::LR_KERNEL_SET {
namespace {

using simd::kLanes;

#if defined(__AVX512F__)
constexpr int kR = 8;    // register tile rows (keys in S^T, head-dim columns in O^T)
constexpr int kQv = 3;   // register tile vectors of query rows: 8 x 3 = 24 accumulators of 32 zmm
#else
constexpr int kR = 4;    // AVX2 / scalar: 4 x 3 = 12 accumulators of 16 ymm (NEON: 24 of 32 q)
constexpr int kQv = 3;
#endif
constexpr int64_t kQr = kQv * kLanes;  // query rows per item (48 on AVX-512: 24 positions x 2 heads)
// Query rows per item once a kv head's K and V (2 L d floats) outgrow kKvCacheBytes: every item
// streams them up to its last position, so more rows per item is less traffic per FLOP. On AVX2
// (Zen 1, 2 threads, bench_kernels --only attn) 48 rows instead of 24: +10 % at L = 8192 (8 MB of
// K/V per head), 0 to -3 % at L <= 4096 where K/V stay cached (docs/perf.md). AVX-512 keeps 48.
#if defined(__AVX512F__)
constexpr int64_t kQrLongKv = kQr;
#else
constexpr int64_t kQrLongKv = 2 * kQr;
#endif
constexpr int64_t kKvCacheBytes = int64_t(4) << 20;
// Keys per kv tile. Large tiles amortize the per-tile O^T load/rescale/store and the softmax
// loop set-up; measured on Zen 5 (1 thread, L=8192): 64 -> 256 keys +9 % (S^T: 48 KB, in L2).
constexpr int64_t kBk = 256;

int64_t round_up(int64_t a, int64_t b) { return (a + b - 1) / b * b; }

// Lane-wise IEEE division (simd.h has none; used once per output element).
inline simd::Vf div(simd::Vf a, simd::Vf b) {
#if defined(__AVX512F__)
  return _mm512_div_ps(a, b);
#elif defined(__AVX2__) && defined(__FMA__)
  return _mm256_div_ps(a, b);
#elif defined(LR_SIMD_NEON)
  return {vdivq_f32(a.lo, b.lo), vdivq_f32(a.hi, b.hi)};
#else
  simd::Vf r;
  for (int i = 0; i < kLanes; ++i) r.v[i] = a.v[i] / b.v[i];
  return r;
#endif
}

#if !defined(__AVX512F__) && defined(__AVX2__) && defined(__FMA__)
#define LR_ATTN_TRANSPOSE8 1
// t[i] (8 rows of 8 floats) -> t[j] = column j of the block.
inline void transpose8(__m256 t[8]) {
  __m256 a[8], b[8];
  for (int i = 0; i < 8; i += 2) {
    a[i] = _mm256_unpacklo_ps(t[i], t[i + 1]);
    a[i + 1] = _mm256_unpackhi_ps(t[i], t[i + 1]);
  }
  for (int i = 0; i < 8; i += 4) {
    b[i] = _mm256_shuffle_ps(a[i], a[i + 2], _MM_SHUFFLE(1, 0, 1, 0));
    b[i + 1] = _mm256_shuffle_ps(a[i], a[i + 2], _MM_SHUFFLE(3, 2, 3, 2));
    b[i + 2] = _mm256_shuffle_ps(a[i + 1], a[i + 3], _MM_SHUFFLE(1, 0, 1, 0));
    b[i + 3] = _mm256_shuffle_ps(a[i + 1], a[i + 3], _MM_SHUFFLE(3, 2, 3, 2));
  }
  for (int i = 0; i < 4; ++i) {
    t[i] = _mm256_permute2f128_ps(b[i], b[i + 4], 0x20);
    t[i + 4] = _mm256_permute2f128_ps(b[i], b[i + 4], 0x31);
  }
}

// dst[c * ldd + i] = src[i][c] * scale for 8 rows i and c in [0, n): the Q^T packing of run_item,
// 8 x 8 blocks through registers instead of strided scalar stores (the same products, the same bits).
void rows_to_columns8(const float* const src[8], int64_t n, float scale, float* dst, int64_t ldd) {
  const __m256 vs = _mm256_set1_ps(scale);
  int64_t c = 0;
  for (; c + 8 <= n; c += 8) {
    __m256 t[8];
    for (int i = 0; i < 8; ++i) t[i] = _mm256_mul_ps(_mm256_loadu_ps(src[i] + c), vs);
    transpose8(t);
    for (int j = 0; j < 8; ++j) _mm256_storeu_ps(dst + (c + j) * ldd, t[j]);
  }
  for (; c < n; ++c)
    for (int i = 0; i < 8; ++i) dst[c * ldd + i] = src[i][c] * scale;
}

// dst[i][c] = src[c * lds + i] for 8 rows i and c in [0, n): run_item's output transpose.
void columns_to_rows8(const float* src, int64_t lds, int64_t n, float* const dst[8]) {
  int64_t c = 0;
  for (; c + 8 <= n; c += 8) {
    __m256 t[8];
    for (int j = 0; j < 8; ++j) t[j] = _mm256_loadu_ps(src + (c + j) * lds);
    transpose8(t);
    for (int i = 0; i < 8; ++i) _mm256_storeu_ps(dst[i] + c, t[i]);
  }
  for (; c < n; ++c)
    for (int i = 0; i < 8; ++i) dst[i][c] = src[c * lds + i];
}
#endif

// s[j * ld] = p_j = exp((s_j - m) * sscale) for the kb keys j of one vector of query rows, in place;
// returns the sum of the p_j, keys in order. kScaled = false: sscale is 1 (the fp32 path's scores
// come out scaled), and its multiply is left out (x * 1 = x: the same bits).
template <bool kScaled>
simd::Vf exp_keys(float* s, int64_t kb, int64_t ld, simd::Vf m, simd::Vf sscale) {
  using namespace simd;
  Vf sum = zero();
  for (int64_t j = 0; j < kb; ++j) {
    float* sp = s + j * ld;
    Vf x = sub(load(sp), m);
    if constexpr (kScaled) x = mul(x, sscale);
    const Vf p = exp_neg(x);
    store(sp, p);
    sum = add(sum, p);
  }
  return sum;
}

// The tiles as out-of-line functions: inlined into run_item's loop they ran ~5-8 % slower (fp32,
// L = 2048, interleaved A/B); standalone they get the register allocation of a leaf.
template <int R, int QV>
[[gnu::noinline]] void tile_f32_leaf(int64_t kc, const float* a, int64_t a_rs, int64_t a_ks, const float* b, int64_t ldb,
                                     float* c, int64_t ldc, bool load_c, float* vmax) {
  tile_f32<R, QV>(kc, a, a_rs, a_ks, b, ldb, c, ldc, load_c, vmax);
}
#if defined(LR_HAVE_DPBF16)
template <int R, int QV>
[[gnu::noinline]] void tile_bf16_leaf(int64_t kc2, const uint32_t* a, int64_t a_rs, const uint32_t* b, int64_t ldb,
                                      float* c, int64_t ldc, bool load_c, float* vmax) {
  tile_bf16<R, QV>(kc2, a, a_rs, b, ldb, c, ldc, load_c, vmax);
}
#endif

// C[rows, nv vectors] over register tiles of up to kR rows x kQv vectors: tile(R, QV, r0, v0) runs
// the tile at row r0, vector v0 (R, QV: std::integral_constant; partial tiles at the edges).
template <typename Tile>
void tiles(int64_t rows, int64_t nv, Tile&& tile) {
  for (int64_t v0 = 0; v0 < nv; v0 += kQv) {
    const int qv = int(std::min<int64_t>(kQv, nv - v0));
    for (int64_t r0 = 0; r0 < rows; r0 += kR) {
      const int r = int(std::min<int64_t>(kR, rows - r0));
      dispatch_upto<kR>(r, [&](auto R) { dispatch_upto<kQv>(qv, [&](auto QV) { tile(R, QV, r0, v0); }); });
    }
  }
}

#if defined(LR_HAVE_DPBF16) && defined(LR_SIMD_NEON)
// Two rows of P^T (lo = key j, hi = key j + 1; kLanes query rows each) -> kLanes words
// {bf16(lo), bf16(hi)} (the scalar rounding: bfcvtn would flush denormals, f32_to_bf16 does not).
inline void pack_p_pair(const float* lo, const float* hi, uint32_t* dst) {
  for (int i = 0; i < kLanes; ++i) dst[i] = bf16_pair(lo[i], hi[i]);
}
#elif defined(LR_HAVE_DPBF16)
// Two rows of P^T (lo = key j, hi = key j + 1; 16 query rows each) -> 16 words {bf16(lo), bf16(hi)}.
inline void pack_p_pair(const float* lo, const float* hi, uint32_t* dst) {
  static const __m512i kInterleave = _mm512_set_epi16(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24, 8, 23,
                                                      7, 22, 6, 21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
  const __m512i both = (__m512i)_mm512_cvtne2ps_pbh(_mm512_loadu_ps(hi), _mm512_loadu_ps(lo));  // [lo 0..15, hi 0..15]
  _mm512_storeu_si512(dst, _mm512_permutexvar_epi16(kInterleave, both));
}
#endif

// One kv head's keys and values as the products read them. fp32: in the register tiles' row
// groups of kR, like the GEMM's packed rows (a tile's kR broadcasts come from 16 or 32 consecutive
// bytes and its k steps are consecutive, instead of kR rows 4 d bytes apart):
//   kp[key / kR][c][key % kR] = K[key][c]   (keys padded with zeros to a multiple of kR)
//   vp[c / kR][key][c % kR]   = V[key][c]   (head-dim columns padded likewise)
// bf16: key rows as words of two bf16 [L, d/2] and values transposed into pairs along the keys
// [d, L2/2 words] (L2 = L rounded up to even, the pad key zero).
struct KvHead {
  const float* kp = nullptr;
  const float* vp = nullptr;
  int64_t len = 0;
  const uint32_t* k2 = nullptr;
  const uint32_t* vt2 = nullptr;
  int64_t l2 = 0;  // words per vt2 row
};

struct Scratch {
  std::vector<float> qt, ot, s, m, l, tmax;
  std::vector<uint32_t> qt2, p2;  // bf16: Q^T [d/2][qr], P^T [kBk/2][qr] (words of two bf16)
};

// kv: this kv head's keys and values (KvHead). Query positions [i0, i1).
void run_item(const AttentionShape& sh, bool bf16, const float* q, const KvHead& kv, float* out, int64_t i0, int64_t i1,
              int64_t kvh, Scratch& w) {
  using namespace simd;
  const int64_t G = sh.n_q / sh.n_kv, d = sh.d;
  const int64_t rows = (i1 - i0) * G;         // valid query rows, row r = (i - i0) * G + hh
  const int64_t qr = round_up(rows, kLanes);  // padded to whole vectors
  const int64_t nv = qr / kLanes;
  const float scale = 1.0f / std::sqrt(float(d));
  const int64_t qb = sh.q_begin;

  // Q^T [d, qr], pre-scaled, zero padding. Query row r sits at qbase + qoff(r).
  const float* qbase = q + ((i0 - qb) * sh.n_q + kvh * G) * d;
  auto qoff = [&](int64_t r) { return ((r / G) * sh.n_q + r % G) * d; };
  const int64_t d2 = d / 2;
  if (bf16) {  // Q^T as words {bf16(q[r][2c]), bf16(q[r][2c + 1])}, unscaled; padding rows zero
    std::fill(w.qt2.begin(), w.qt2.begin() + d2 * qr, 0u);
    for (int64_t r = 0; r < rows; ++r) {
      const float* src = qbase + qoff(r);
      for (int64_t c = 0; c < d2; ++c)
        w.qt2[size_t(c * qr + r)] = bf16_pair(src[2 * c], src[2 * c + 1]);
    }
  } else {
#if defined(__AVX512F__)
  for (int64_t v = 0; v < nv; ++v) {  // one gather per (head-dim column, 16 query rows)
    alignas(64) int32_t idx[kLanes];
    for (int i = 0; i < kLanes; ++i) idx[i] = v * kLanes + i < rows ? int32_t(qoff(v * kLanes + i)) : 0;
    const __m512i vidx = _mm512_load_si512(idx);
    const __mmask16 valid = __mmask16(rows - v * kLanes >= kLanes ? 0xffff : (1u << (rows - v * kLanes)) - 1);
    const Vf vs = set1(scale);
    for (int64_t c = 0; c < d; ++c)
      store(w.qt.data() + c * qr + v * kLanes, mul(_mm512_mask_i32gather_ps(zero(), valid, vidx, qbase + c, 4), vs));
  }
#else
  for (int64_t c = 0; c < d; ++c) std::fill(w.qt.begin() + c * qr + rows, w.qt.begin() + (c + 1) * qr, 0.0f);
  int64_t r = 0;
#if defined(LR_ATTN_TRANSPOSE8)
  for (; r + 8 <= rows; r += 8) {
    const float* src[8];
    for (int i = 0; i < 8; ++i) src[i] = qbase + qoff(r + i);
    rows_to_columns8(src, d, scale, w.qt.data() + r, qr);
  }
#endif
  for (; r < rows; ++r) {
    const float* src = qbase + qoff(r);
    float* dst = w.qt.data() + r;
    for (int64_t c = 0; c < d; ++c) dst[c * qr] = src[c] * scale;
  }
#endif
  }
  // Scores come out scaled (fp32 path) or raw (bf16 path): the softmax multiplies by sscale.
  const simd::Vf sscale = set1(bf16 ? scale : 1.0f);
  std::fill(w.ot.begin(), w.ot.begin() + d * qr, 0.0f);
  std::fill(w.m.begin(), w.m.begin() + qr, -INFINITY);
  std::fill(w.l.begin(), w.l.begin() + qr, 0.0f);

  // Key tiles start at multiples of kBk, so a query row sees the same tile partition (and gets
  // the same bits) whatever item / chunk it is computed in.
  const int64_t j_lo = sh.window > 0 ? std::max<int64_t>(0, i0 - sh.window + 1) / kBk * kBk : 0;
  for (int64_t j0 = j_lo; j0 < i1; j0 += kBk) {
    const int64_t j1 = std::min(i1, j0 + kBk), kb = j1 - j0;
    const bool causal_edge = j1 - 1 > i0;
    const bool window_edge = sh.window > 0 && j0 <= i1 - 1 - sh.window;
    const bool edge = causal_edge || window_edge;
    // S^T = K_tile · Q^T, [kb, qr]; the tile's per-row max comes out of the kernel on interior
    // tiles (edge tiles take it after masking).
    std::fill(w.tmax.begin(), w.tmax.begin() + qr, -INFINITY);
    float* tmax = edge ? nullptr : w.tmax.data();
    if (bf16) {
#if defined(LR_HAVE_DPBF16)
      tiles(kb, nv, [&](auto R, auto QV, int64_t r0, int64_t v0) {
        tile_bf16_leaf<R, QV>(d2, kv.k2 + (j0 + r0) * d2, d2, w.qt2.data() + v0 * kLanes, qr, w.s.data() + r0 * qr + v0 * kLanes,
                         qr, false, tmax ? tmax + v0 * kLanes : nullptr);
      });
#endif
    } else {
      tiles(kb, nv, [&](auto R, auto QV, int64_t r0, int64_t v0) {
        tile_f32_leaf<R, QV>(d, kv.kp + (j0 + r0) * d, 1, kR, w.qt.data() + v0 * kLanes, qr, w.s.data() + r0 * qr + v0 * kLanes,
                        qr, false, tmax ? tmax + v0 * kLanes : nullptr);
      });
    }
    if (edge) {
      // Mask keys after the query (causal) or at/behind the window edge.
      for (int64_t j = 0; j < kb; ++j) {
        const int64_t key = j0 + j;
        float* srow = w.s.data() + j * qr;
        for (int64_t pos = i0, r = 0; pos < i1; ++pos, r += G)
          if (key > pos || (sh.window > 0 && key <= pos - sh.window)) std::fill(srow + r, srow + r + G, -INFINITY);
        for (int64_t v = 0; v < nv; ++v)
          store(w.tmax.data() + v * kLanes, max(load(w.tmax.data() + v * kLanes), load(srow + v * kLanes)));
      }
    }
    // Online softmax, one vector of query rows at a time; keys summed in order.
    for (int64_t v = 0; v < nv; ++v) {
      const int64_t r = v * kLanes;
      const Vf m_old = load(w.m.data() + r);
      const Vf m_new = max(m_old, load(w.tmax.data() + r));
      store(w.m.data() + r, m_new);
      // A row with no visible key so far keeps m = -inf; use 0 so exp gives 0, never NaN.
      float mu[kLanes];
      store(mu, m_new);
      for (float& e : mu) e = e == -INFINITY ? 0.0f : e;
      const Vf m_use = load(mu);
      const Vf sum = bf16 ? exp_keys<true>(w.s.data() + r, kb, qr, m_use, sscale)
                          : exp_keys<false>(w.s.data() + r, kb, qr, m_use, sscale);
      const Vf corr = exp_neg(mul(sub(m_old, m_use), sscale));
      store(w.l.data() + r, fma(load(w.l.data() + r), corr, sum));
      // O^T rows *= corr (query rows are lanes).
      for (int64_t c = 0; c < d; ++c) {
        float* o = w.ot.data() + c * qr + r;
        store(o, mul(load(o), corr));
      }
    }
    // O^T[d, qr] += V_tile^T · P^T: A(c, j) = V[j0 + j][c].
    if (bf16) {
#if defined(LR_HAVE_DPBF16)
      const int64_t kb2 = (kb + 1) / 2;  // an odd tile's last pair takes a zero P row (and the next key or the pad)
      if (kb % 2) std::fill(w.s.begin() + kb * qr, w.s.begin() + (kb + 1) * qr, 0.0f);
      for (int64_t j2 = 0; j2 < kb2; ++j2)
        for (int64_t v = 0; v < nv; ++v)
          pack_p_pair(w.s.data() + 2 * j2 * qr + v * kLanes, w.s.data() + (2 * j2 + 1) * qr + v * kLanes,
                      w.p2.data() + j2 * qr + v * kLanes);
      tiles(d, nv, [&](auto R, auto QV, int64_t r0, int64_t v0) {
        tile_bf16_leaf<R, QV>(kb2, kv.vt2 + r0 * kv.l2 + j0 / 2, kv.l2, w.p2.data() + v0 * kLanes, qr,
                         w.ot.data() + r0 * qr + v0 * kLanes, qr, true, nullptr);
      });
#endif
    } else {
      tiles(d, nv, [&](auto R, auto QV, int64_t r0, int64_t v0) {
        tile_f32_leaf<R, QV>(kb, kv.vp + (r0 * kv.len + j0 * kR), 1, kR, w.s.data() + v0 * kLanes, qr,
                             w.ot.data() + r0 * qr + v0 * kLanes, qr, true, nullptr);
      });
    }
  }
  // out = O / l (vector division, the same IEEE quotient as scalar), transposed back into the
  // [L, n_q, d] rows. Padding lanes have l = 0: set to 1 so they stay finite.
  for (int64_t r = rows; r < qr; ++r) w.l[size_t(r)] = 1.0f;
  for (int64_t v = 0; v < nv; ++v) {
    const Vf l = load(w.l.data() + v * kLanes);
    for (int64_t c = 0; c < d; ++c) {
      float* o = w.ot.data() + c * qr + v * kLanes;
      store(o, div(load(o), l));
    }
  }
  float* obase = out + ((i0 - qb) * sh.n_q + kvh * G) * d;
#if defined(__AVX512F__)
  alignas(64) int32_t cidx[kLanes];
  for (int i = 0; i < kLanes; ++i) cidx[i] = int32_t(i * qr);
  const __m512i vcidx = _mm512_load_si512(cidx);
  for (int64_t r = 0; r < rows; ++r) {  // one gather per (query row, 16 head-dim columns)
    float* dst = obase + qoff(r);
    for (int64_t c = 0; c < d; c += kLanes) {
      const __mmask16 m = __mmask16(d - c >= kLanes ? 0xffff : (1u << (d - c)) - 1);
      _mm512_mask_storeu_ps(dst + c, m, _mm512_mask_i32gather_ps(zero(), m, vcidx, w.ot.data() + c * qr + r, 4));
    }
  }
#else
  int64_t r = 0;
#if defined(LR_ATTN_TRANSPOSE8)
  for (; r + 8 <= rows; r += 8) {
    float* dst[8];
    for (int i = 0; i < 8; ++i) dst[i] = obase + qoff(r + i);
    columns_to_rows8(w.ot.data() + r, qr, d, dst);
  }
#endif
  for (; r < rows; ++r) {
    float* dst = obase + qoff(r);
    const float* o = w.ot.data() + r;
    for (int64_t c = 0; c < d; ++c) dst[c] = o[c * qr];
  }
#endif
}

// y = simd::exp_neg(x) over whole vectors (the softmax's exp, for its test).
void exp_neg_vectors(const float* x, float* y, int64_t n) {
  LR_CHECK(n % kLanes == 0, "exp_neg_vectors: n ", n, " is not a multiple of ", kLanes);
  for (int64_t i = 0; i < n; i += kLanes) simd::store(y + i, simd::exp_neg(simd::load(x + i)));
}

// Key and value row j of one kv head into the fp32 layouts of KvHead.
void pack_kv_row(const float* k_row, const float* v_row, int64_t j, const AttentionShape& s, std::vector<float>& kp,
                 std::vector<float>& vp) {
  float* kg = kp.data() + (j / kR) * s.d * kR + j % kR;
  for (int64_t c = 0; c < s.d; ++c) kg[c * kR] = k_row[c];
  for (int64_t c0 = 0; c0 < s.d; c0 += kR) {
    const int64_t n = std::min<int64_t>(kR, s.d - c0);
    std::copy(v_row + c0, v_row + c0 + n, vp.data() + (c0 * s.len + j * kR));
  }
}

void attention(const AttentionShape& s, const float* q, const float* k, const float* v, float* out, ThreadPool& pool) {
  LR_CHECK(s.len >= 0 && s.d > 0 && s.n_kv > 0 && s.n_q % s.n_kv == 0 && s.q_begin >= 0 && s.q_begin <= s.len,
           "attention: len=", s.len, " n_q=", s.n_q, " n_kv=", s.n_kv, " d=", s.d, " q_begin=", s.q_begin);
  if (s.len == s.q_begin) return;
  const int64_t G = s.n_q / s.n_kv;
  // Query positions per item: as many as fill its rows (at least one position). The partition
  // does not change any bits (key tiles are aligned to absolute positions; see
  // tests/unit/attention_test.cpp, QueryChunksBitwiseEqualWholeRun).
  const bool long_kv = 2 * s.len * s.d * int64_t(sizeof(float)) > kKvCacheBytes;
  const int64_t bq = std::max<int64_t>(1, (long_kv ? kQrLongKv : kQr) / G);
  const int64_t qr_max = round_up(bq * G, kLanes);
  const int64_t q_tiles = (s.len - s.q_begin + bq - 1) / bq;
  // One kv head at a time: its K and V are first gathered into contiguous arrays in the layouts
  // of KvHead (streams instead of 4 KB-strided rows; 2 L d floats extra, linear in L), then its
  // query tiles are handed out dynamically, largest (latest) first for load balance.
#if defined(LR_HAVE_DPBF16)
  const bool bf16 = s.bf16 && s.d % 2 == 0;
#else
  const bool bf16 = false;
#endif
  const int64_t d2 = s.d / 2, l2 = (s.len + 1) / 2;
  std::vector<float> kh, vh;
  std::vector<uint32_t> kh2, vt2;
  if (bf16) {
    kh2.resize(size_t(s.len * d2));
    vt2.resize(size_t(s.d * l2));
  } else {
    kh.resize(size_t(round_up(s.len, kR) * s.d));  // the padding stays zero: never written
    vh.resize(size_t(round_up(s.d, kR) * s.len));
  }
  const KvHead kv{kh.data(), vh.data(), s.len, kh2.data(), vt2.data(), l2};
  for (int64_t h = 0; h < s.n_kv; ++h) {
    if (bf16) {
      // Key rows as bf16 words; values transposed: vt2[c][j2] = bf16_pair(v[2 j2][c], v[2 j2 + 1][c]).
      const int64_t ld = s.n_kv * s.d;
      pool.parallel_for(l2, 32, [&](int64_t b, int64_t e, int) {
        const int64_t j_end = std::min(s.len, 2 * e);
        pack_a_bf16(k + 2 * b * ld + h * s.d, ld, j_end - 2 * b, 0, s.d, kh2.data() + 2 * b * d2);
        for (int64_t j2 = b; j2 < e; ++j2) {
          const float* v0 = v + 2 * j2 * ld + h * s.d;
          const float* v1 = 2 * j2 + 1 < s.len ? v0 + ld : nullptr;
          for (int64_t c = 0; c < s.d; ++c) vt2[size_t(c * l2 + j2)] = bf16_pair(v0[c], v1 ? v1[c] : 0.0f);
        }
      });
    } else {
      pool.parallel_for(s.len, 64, [&](int64_t b, int64_t e, int) {
        for (int64_t j = b; j < e; ++j) {
          const int64_t row = (j * s.n_kv + h) * s.d;
          pack_kv_row(k + row, v + row, j, s, kh, vh);
        }
      });
    }
    std::atomic<int64_t> next{0};
    pool.run_on_all([&](int) {
      Scratch w;
      w.ot.resize(size_t(qr_max * s.d));
      w.s.resize(size_t((kBk + 1) * qr_max));
      w.m.resize(size_t(qr_max));
      w.l.resize(size_t(qr_max));
      w.tmax.resize(size_t(qr_max));
      if (bf16) {
        w.qt2.resize(size_t(qr_max * d2));
        w.p2.resize(size_t(kBk / 2 * qr_max));
      } else {
        w.qt.resize(size_t(qr_max * s.d));
      }
      for (int64_t t; (t = next.fetch_add(1)) < q_tiles;) {
        const int64_t i0 = s.q_begin + (q_tiles - 1 - t) * bq;
        run_item(s, bf16, q, kv, out, i0, std::min(s.len, i0 + bq), h, w);
      }
    });
  }
}

}  // namespace

void fill_attention(KernelTable& t) {
  t.set = LR_TARGET_KERNEL_SET;
  t.attention = &attention;
#if defined(LR_HAVE_DPBF16)
  t.attention_bf16 = true;
#endif
  t.exp_neg = &exp_neg_vectors;
}

}  // namespace lastrank::cpu::LR_KERNEL_SET
