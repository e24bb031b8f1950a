// Scalar reference causal GQA attention (the oracle for the fast kernel).
#include <cmath>
#include <vector>

#include "backend/cpu/attention.h"
#include "core/error.h"

namespace lastrank::cpu {

void attention_ref(const AttentionShape& s, const float* q, const float* k, const float* v, float* out) {
  LR_CHECK(s.n_kv > 0 && s.n_q % s.n_kv == 0 && s.q_begin >= 0 && s.q_begin <= s.len, "attention_ref: n_q=", s.n_q,
           " n_kv=", s.n_kv, " q_begin=", s.q_begin);
  const int64_t group = s.n_q / s.n_kv, d = s.d;
  const float scale = 1.0f / std::sqrt(float(d));
  std::vector<double> p(size_t(s.len));
  for (int64_t i = s.q_begin; i < s.len; ++i) {
    const int64_t j0 = s.window > 0 ? std::max<int64_t>(0, i - s.window + 1) : 0;
    for (int64_t h = 0; h < s.n_q; ++h) {
      const int64_t kvh = h / group;
      const float* qi = q + ((i - s.q_begin) * s.n_q + h) * d;
      double mx = -INFINITY;
      for (int64_t j = j0; j <= i; ++j) {
        const float* kj = k + (j * s.n_kv + kvh) * d;
        double dot = 0;
        for (int64_t c = 0; c < d; ++c) dot += double(qi[c]) * kj[c];
        p[size_t(j)] = dot * scale;
        mx = std::max(mx, p[size_t(j)]);
      }
      double sum = 0;
      for (int64_t j = j0; j <= i; ++j) sum += (p[size_t(j)] = std::exp(p[size_t(j)] - mx));
      float* o = out + ((i - s.q_begin) * s.n_q + h) * d;
      for (int64_t c = 0; c < d; ++c) {
        double acc = 0;
        for (int64_t j = j0; j <= i; ++j) acc += p[size_t(j)] * v[(j * s.n_kv + kvh) * d + c];
        o[c] = float(acc / sum);
      }
    }
  }
}

}  // namespace lastrank::cpu
