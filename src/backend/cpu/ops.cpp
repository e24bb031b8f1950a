// Row-wise / element-wise ops of the Qwen3 forward (see ops.h for the exact numerics). Compiled once
// per kernel set (kernel_table.h): the plain loops vectorize for each set's ISA.
#include "backend/cpu/ops.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "backend/cpu/kernel_table.h"
#include "core/error.h"

namespace lastrank::cpu::LR_KERNEL_SET {
namespace {

// Rows per parallel chunk so that tiny ops do not pay for a thread hand-off.
int64_t row_grain(int64_t cols) { return std::max<int64_t>(1, 16384 / std::max<int64_t>(1, cols)); }
constexpr int64_t kElemGrain = 1 << 15;  // elements per chunk for element-wise ops

// fp32 dot product with 16 independent lanes (vectorizes without -ffast-math).
float dot16(const float* a, const float* b, int64_t n) {
  float acc[16] = {};
  int64_t c = 0;
  for (; c + 16 <= n; c += 16)
    for (int j = 0; j < 16; ++j) acc[j] += a[c + j] * b[c + j];
  for (; c < n; ++c) acc[c & 15] += a[c] * b[c];
  for (int w = 8; w >= 1; w /= 2)
    for (int j = 0; j < w; ++j) acc[j] += acc[j + w];
  return acc[0];
}


// exp for one value and for 16 lanes (GCC/Clang vector extensions: the compiler will not
// auto-vectorize the clamp's float compares under the default -ftrapping-math). Same
// operations in both, so a vector body and its scalar tail agree.
using F32x16 = float __attribute__((vector_size(64)));  // 2 x ymm on AVX2, 1 x zmm on AVX-512
using I32x16 = int32_t __attribute__((vector_size(64)));
constexpr float kExpLo = -87.0f, kExpHi = 88.3f;  // 2^n stays a normal float
constexpr float kLog2e = 1.44269504088896341f;
constexpr float kLn2Hi = 0.693359375f, kLn2Lo = -2.12194440e-4f;  // Cephes split of ln 2
constexpr float kRound = 12582912.0f;                               // 1.5 * 2^23: round to int
constexpr float kP0 = 1.9875691500e-4f, kP1 = 1.3981999507e-3f, kP2 = 8.3334519073e-3f, kP3 = 4.1665795894e-2f,
                kP4 = 1.6666665459e-1f, kP5 = 5.0000001201e-1f;

[[gnu::always_inline]] inline float exp_inline(float x) {
  x = std::min(std::max(x, kExpLo), kExpHi);
  const float n = (x * kLog2e + kRound) - kRound;
  const float r = (x - n * kLn2Hi) - n * kLn2Lo;
  const float p = ((((kP0 * r + kP1) * r + kP2) * r + kP3) * r + kP4) * r + kP5;
  const float y = p * (r * r) + r + 1.0f;
  const int32_t bits = (int32_t(n) + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, 4);
  return y * scale;
}

// x <- exp(x), lane-wise (by reference: vectors never cross a call boundary).
[[gnu::always_inline]] inline void exp_x16(F32x16& x) {
  const F32x16 lo = F32x16{} + kExpLo, hi = F32x16{} + kExpHi;
  x = x < lo ? lo : x;
  x = x > hi ? hi : x;
  const F32x16 n = (x * kLog2e + kRound) - kRound;
  const F32x16 r = (x - n * kLn2Hi) - n * kLn2Lo;
  const F32x16 p = ((((kP0 * r + kP1) * r + kP2) * r + kP3) * r + kP4) * r + kP5;
  const F32x16 y = p * (r * r) + r + 1.0f;
  const I32x16 bits = (__builtin_convertvector(n, I32x16) + 127) << 23;
  F32x16 scale;
  std::memcpy(&scale, &bits, sizeof scale);
  x = y * scale;
}

}  // namespace

void embedding_lookup(const TensorView& table, const int32_t* ids, int64_t n, float* out, ThreadPool& pool) {
  LR_CHECK(table.rank == 2, "embedding table ", table.name, " has rank ", table.rank);
  const int64_t vocab = table.shape[0], hidden = table.shape[1];
  for (int64_t i = 0; i < n; ++i) {
    if (ids[i] < 0 || ids[i] >= vocab) fail("token id ", ids[i], " at position ", i, " is outside the vocabulary [0, ", vocab, ")");
  }
  pool.parallel_for(n, row_grain(hidden), [&](int64_t b, int64_t e, int) {
    for (int64_t i = b; i < e; ++i) {
      float* o = out + i * hidden;
      const int64_t off = int64_t(ids[i]) * hidden;
      switch (table.dtype) {
        case DType::F32: std::memcpy(o, table.as<float>() + off, size_t(hidden) * 4); break;
        case DType::BF16: {
          const uint16_t* s = table.as<uint16_t>() + off;
          for (int64_t c = 0; c < hidden; ++c) o[c] = bf16_to_f32(s[c]);
          break;
        }
        case DType::F16: {
          const uint16_t* s = table.as<uint16_t>() + off;
          for (int64_t c = 0; c < hidden; ++c) o[c] = f16_to_f32(s[c]);
          break;
        }
        default: LR_CHECK(false, "embedding table ", table.name, " has non-float dtype ", dtype_name(table.dtype));
      }
    }
  });
}

void rms_norm(const float* x, int64_t rows, int64_t cols, const float* w, float eps, float* out, ThreadPool& pool) {
  pool.parallel_for(rows, row_grain(cols), [&](int64_t b, int64_t e, int) {
    for (int64_t r = b; r < e; ++r) {
      const float* xr = x + r * cols;
      float* o = out + r * cols;
      double acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};  // independent lanes: vectorizable, exact enough
      int64_t c = 0;
      for (; c + 8 <= cols; c += 8)
        for (int j = 0; j < 8; ++j) acc[j] += double(xr[c + j]) * double(xr[c + j]);
      for (; c < cols; ++c) acc[0] += double(xr[c]) * double(xr[c]);
      double sum = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
      const float var = float(sum / double(cols));
      const float inv = 1.0f / std::sqrt(var + eps);
      for (c = 0; c < cols; ++c) o[c] = w[c] * (xr[c] * inv);
    }
  });
}

std::vector<float> rope_inv_freq(double theta, int64_t head_dim) {
  const int64_t half = head_dim / 2;
  std::vector<float> f(static_cast<size_t>(half));
  const float base = float(theta);
  for (int64_t i = 0; i < half; ++i) {
    const float expo = float(2 * i) / float(head_dim);                 // fp32, as torch arange/dim
    const float p = float(std::pow(double(base), double(expo)));        // correctly rounded powf
    f[size_t(i)] = 1.0f / p;
  }
  return f;
}

void rope_tables(const std::vector<float>& inv_freq, int64_t n_pos, float* cos, float* sin) {
  const int64_t half = int64_t(inv_freq.size());
  for (int64_t p = 0; p < n_pos; ++p) {
    for (int64_t i = 0; i < half; ++i) {
      const float angle = float(p) * inv_freq[size_t(i)];
      cos[p * half + i] = float(std::cos(double(angle)));
      sin[p * half + i] = float(std::sin(double(angle)));
    }
  }
}

void apply_rope(float* x, int64_t rows, int64_t heads, int64_t hd, const float* cos, const float* sin,
                const int64_t* pos, ThreadPool& pool) {
  const int64_t half = hd / 2;
  pool.parallel_for(rows, row_grain(heads * hd), [&](int64_t b, int64_t e, int) {
    for (int64_t r = b; r < e; ++r) {
      const int64_t p = pos ? pos[r] : r;
      const float* c = cos + p * half;
      const float* s = sin + p * half;
      for (int64_t h = 0; h < heads; ++h) {
        float* x1 = x + (r * heads + h) * hd;
        float* x2 = x1 + half;
        for (int64_t i = 0; i < half; ++i) {
          const float a = x1[i], bb = x2[i];
          x1[i] = a * c[i] - bb * s[i];
          x2[i] = bb * c[i] + a * s[i];
        }
      }
    }
  });
}

float exp_approx(float x) { return exp_inline(x); }

void swiglu(float* g, const float* u, int64_t n, ThreadPool& pool) {
  pool.parallel_for(n, kElemGrain, [&](int64_t b, int64_t e, int) {
    int64_t i = b;
    for (; i + 16 <= e; i += 16) {
      F32x16 gv, uv;
      std::memcpy(&gv, g + i, sizeof gv);
      std::memcpy(&uv, u + i, sizeof uv);
      F32x16 ev = -gv;
      exp_x16(ev);
      gv = gv / (1.0f + ev) * uv;
      std::memcpy(g + i, &gv, sizeof gv);
    }
    for (; i < e; ++i) g[i] = g[i] / (1.0f + exp_inline(-g[i])) * u[i];
  });
}

void add_inplace(float* x, const float* y, int64_t n, ThreadPool& pool) {
  pool.parallel_for(n, kElemGrain, [&](int64_t b, int64_t e, int) {
    for (int64_t i = b; i < e; ++i) x[i] += y[i];
  });
}

void attention_rows(const AttentionShape& s, const int64_t* rows, int64_t n_rows, const float* q, const float* k,
                    const float* v, float* out, ThreadPool& pool) {
  LR_CHECK(s.n_kv > 0 && s.n_q % s.n_kv == 0, "attention_rows: n_q=", s.n_q, " n_kv=", s.n_kv);
  const int64_t group = s.n_q / s.n_kv, d = s.d;
  const float scale = 1.0f / std::sqrt(float(d));
  for (int64_t r = 0; r < n_rows; ++r) LR_CHECK(rows[r] >= 0 && rows[r] < s.len, "attention_rows: row ", rows[r]);
  std::vector<std::vector<float>> scratch(size_t(pool.size()));
  // One task = one (query row, query head); the score row has at most len entries.
  pool.parallel_for(n_rows * s.n_q, 1, [&](int64_t b, int64_t e, int worker) {
    std::vector<float>& p = scratch[size_t(worker)];
    p.resize(size_t(s.len));
    for (int64_t t = b; t < e; ++t) {
      const int64_t r = t / s.n_q, h = t % s.n_q, kvh = h / group, i = rows[r];
      const int64_t j0 = s.window > 0 ? std::max<int64_t>(0, i - s.window + 1) : 0;
      const float* qi = q + (r * s.n_q + h) * d;
      float mx = -INFINITY;
      for (int64_t j = j0; j <= i; ++j) {
        const float* kj = k + (j * s.n_kv + kvh) * d;
        p[size_t(j)] = dot16(qi, kj, d) * scale;
        mx = std::max(mx, p[size_t(j)]);
      }
      float sum = 0;
      for (int64_t j = j0; j <= i; ++j) sum += (p[size_t(j)] = std::exp(p[size_t(j)] - mx));
      float* o = out + (r * s.n_q + h) * d;
      std::fill(o, o + d, 0.0f);
      for (int64_t j = j0; j <= i; ++j) {
        const float* vj = v + (j * s.n_kv + kvh) * d;
        const float pj = p[size_t(j)];
        for (int64_t c = 0; c < d; ++c) o[c] += pj * vj[c];
      }
      const float inv = 1.0f / sum;
      for (int64_t c = 0; c < d; ++c) o[c] *= inv;
    }
  });
}

void fill_ops(KernelTable& t) {
  t.set = LR_TARGET_KERNEL_SET;
  t.embedding_lookup = &embedding_lookup;
  t.rms_norm = &rms_norm;
  t.rope_inv_freq = &rope_inv_freq;
  t.rope_tables = &rope_tables;
  t.apply_rope = &apply_rope;
  t.swiglu = &swiglu;
  t.add_inplace = &add_inplace;
  t.exp_approx = &exp_approx;
  t.attention_rows = &attention_rows;
}

}  // namespace lastrank::cpu::LR_KERNEL_SET
