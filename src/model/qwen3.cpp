// The Qwen3 backbone forward + jina projector on CPU (shared/docs/reference.md §1.3, §1.5).
// Straight-line code over reused fp32 activation buffers (grown on demand, linear in L; the
// MLP runs in row chunks). Weights are packed once here (or read raw by the scalar oracle).
// Causality: only rows 0..last readout are computed, and the last layer computes q, attention,
// o_proj, MLP and final norm only at the readout rows (K/V still for all rows) — exact.
#include "model/qwen3.h"

#include <algorithm>
#include <exception>

#include "backend/cpu/attention.h"
#include "backend/cpu/ops.h"
#include "core/error.h"
#include "io/mmap_file.h"

namespace lastrank {

namespace {

constexpr int64_t kMlpRowChunk = 1024;  // rows per MLP pass: bounds the [rows, inter] buffers

std::vector<float> to_f32(const TensorView& t) {
  std::vector<float> v(static_cast<size_t>(t.numel()));
  for (int64_t i = 0; i < t.numel(); ++i) v[size_t(i)] = t.at(i);
  return v;
}

template <typename T>
T* grow(std::vector<T>& v, int64_t n) {
  if (int64_t(v.size()) < n) v.resize(size_t(n));
  return v.data();
}

}  // namespace

// One linear layer: the raw checkpoint view (oracle path) and its packed copy (fast path).
struct Linear {
  const TensorView* raw = nullptr;
  std::unique_ptr<cpu::PackedMatrix> packed;
  int64_t n() const { return raw->shape[0]; }
  int64_t k() const { return raw->shape[1]; }
};

struct Qwen3Model::Impl {
  struct Layer {
    Linear q, k, v, o, gate, up, down;
    std::vector<float> input_norm, post_norm, q_norm, k_norm;  // fp32 copies of the norm weights
  };
  bool reference = false;
  ThreadPool* pool = nullptr;
  cpu::Workspace ws;  // GEMM scratch of this model, reused by every linear()
  std::vector<Layer> layers;
  std::vector<float> final_norm;
  Linear proj0, proj2;
  std::vector<float> inv_freq;
  std::vector<float> rope_cos, rope_sin;  // [rope_len, hd/2]
  int64_t rope_len = 0;
  // Activations (fp32, rows contiguous), reused across calls.
  std::vector<float> x;     // [L, hidden] residual stream
  std::vector<float> h;     // [L, hidden] normed input / o_proj and down_proj outputs
  std::vector<float> q;     // [min(L, EngineOptions::attn_row_chunk), n_q*hd]
  std::vector<float> k, v;  // [L, n_kv*hd]
  std::vector<float> att;   // [min(L, EngineOptions::attn_row_chunk), n_q*hd]
  std::vector<float> g, u;  // [min(L, kMlpRowChunk), inter]
  std::vector<float> xr, hr;  // [R, hidden] last-layer rows
  std::vector<float> proj_mid;  // [rows, proj_hidden]

  void pack(Linear& l, const TensorView& w, cpu::Precision p) {
    l.raw = &w;
    if (reference) return;
    l.packed = cpu::pack_matrix(w, p);
    release_pages(w.data, w.nbytes());  // the packed copy serves from now on: keep RSS to one copy
  }

  // y[m, n] = x[m, k] · W^T
  void linear(const Linear& l, const float* in, int64_t m, float* y) {
    if (m == 0) return;
    if (reference) {
      cpu::gemm_ref(in, m, l.k(), *l.raw, y);
    } else {
      l.packed->apply(in, m, y, l.n(), *pool, ws);
    }
  }

  void attention(const cpu::AttentionShape& s, const float* qq, const float* kk, const float* vv, float* out) {
    if (reference) {
      cpu::attention_ref(s, qq, kk, vv, out);
    } else {
      cpu::attention(s, qq, kk, vv, out, *pool);
    }
  }

  void ensure_rope(int64_t n_pos, int64_t hd) {
    if (n_pos <= rope_len) return;
    const int64_t len = std::max(n_pos, 2 * rope_len);
    const int64_t half = hd / 2;
    rope_cos.resize(size_t(len * half));
    rope_sin.resize(size_t(len * half));
    cpu::rope_tables(inv_freq, len, rope_cos.data(), rope_sin.data());
    rope_len = len;
  }

  // SwiGLU MLP of rows in[0..m) [m, hidden] → out [m, hidden] (out may alias in).
  void mlp(const Layer& ly, const float* in, int64_t m, float* out, int64_t hidden, int64_t inter) {
    for (int64_t r0 = 0; r0 < m; r0 += kMlpRowChunk) {
      const int64_t rows = std::min(kMlpRowChunk, m - r0);
      float* gg = grow(g, rows * inter);
      float* uu = grow(u, rows * inter);
      linear(ly.gate, in + r0 * hidden, rows, gg);
      linear(ly.up, in + r0 * hidden, rows, uu);
      cpu::swiglu(gg, uu, rows * inter, *pool);
      linear(ly.down, gg, rows, out + r0 * hidden);
    }
  }
};

Qwen3Model::Qwen3Model(ModelConfig cfg, ModelWeights weights, const EngineOptions& opt)
    : cfg_(std::move(cfg)), weights_(std::move(weights)), opt_(opt) {
  LR_CHECK(int64_t(weights_.layers.size()) == cfg_.num_hidden_layers, "weights/config layer count mismatch");
  LR_CHECK(cfg_.head_dim % 2 == 0 && cfg_.num_key_value_heads > 0 &&
               cfg_.num_attention_heads % cfg_.num_key_value_heads == 0,
           "bad head configuration");
  LR_CHECK(opt_.attn_row_chunk > 0, "attn_row_chunk must be positive: ", opt_.attn_row_chunk);
  pool_ = std::make_unique<ThreadPool>(opt_.threads);
  impl_ = std::make_unique<Impl>();
  Impl& m = *impl_;
  m.reference = opt_.reference_kernels;
  m.pool = pool_.get();
  const cpu::Precision p = opt_.precision;
  // int8 mode is mixed precision: the first opt_.int8_leading_layers layers are packed as
  // kInt8LeadingPrecision (qwen3.h says why); every other mode packs every layer as p.
  auto layer_precision = [&](int64_t layer) {
    return p == cpu::Precision::int8 && layer < opt_.int8_leading_layers ? kInt8LeadingPrecision : p;
  };
  m.layers.resize(weights_.layers.size());
  // Layers are packed in parallel (load time: the repacking and the first touch of the packed
  // pages split over the pool). A packing error (e.g. a shape the int8 kernel rejects) is carried
  // out of the worker and rethrown here: the first one by layer order, so the message is stable.
  std::vector<std::exception_ptr> errors(weights_.layers.size());
  pool_->parallel_for(int64_t(weights_.layers.size()), 1, [&](int64_t b, int64_t e, int) {
    for (int64_t i = b; i < e; ++i) {
      try {
        const LayerWeights& w = weights_.layers[size_t(i)];
        Impl::Layer& l = m.layers[size_t(i)];
        const cpu::Precision lp = layer_precision(i);
        m.pack(l.q, w.q_proj, lp);
        m.pack(l.k, w.k_proj, lp);
        m.pack(l.v, w.v_proj, lp);
        m.pack(l.o, w.o_proj, lp);
        m.pack(l.gate, w.gate_proj, lp);
        m.pack(l.up, w.up_proj, lp);
        m.pack(l.down, w.down_proj, lp);
        l.input_norm = to_f32(w.input_layernorm);
        l.post_norm = to_f32(w.post_attention_layernorm);
        l.q_norm = to_f32(w.q_norm);
        l.k_norm = to_f32(w.k_norm);
      } catch (...) {
        errors[size_t(i)] = std::current_exception();
      }
    }
  });
  for (const std::exception_ptr& e : errors)
    if (e) std::rethrow_exception(e);
  m.final_norm = to_f32(weights_.norm);
  // The projector is tiny and its output feeds cosines: always fp32 (the HF fp32 reference).
  m.pack(m.proj0, weights_.projector0, cpu::Precision::fp32);
  m.pack(m.proj2, weights_.projector2, cpu::Precision::fp32);
  m.inv_freq = cpu::rope_inv_freq(cfg_.rope_theta, cfg_.head_dim);
}

Qwen3Model::~Qwen3Model() = default;

std::vector<cpu::Precision> Qwen3Model::layer_precisions(int64_t layer) const {
  LR_CHECK(layer >= 0 && layer < int64_t(impl_->layers.size()), "layer out of range: ", layer);
  const Impl::Layer& l = impl_->layers[size_t(layer)];
  std::vector<cpu::Precision> r;
  for (const Linear* x : {&l.q, &l.k, &l.v, &l.o, &l.gate, &l.up, &l.down})
    r.push_back(x->packed ? x->packed->precision() : opt_.precision);
  return r;
}

void Qwen3Model::forward(const std::vector<int32_t>& ids, const std::vector<int64_t>& readout, float* out,
                         const TraceFn* trace) {
  Impl& m = *impl_;
  ThreadPool& pool = *pool_;
  const int64_t R = int64_t(readout.size());
  if (R == 0) return;
  for (int64_t r = 0; r < R; ++r) {
    if (readout[size_t(r)] < 0 || readout[size_t(r)] >= int64_t(ids.size()) ||
        (r > 0 && readout[size_t(r)] <= readout[size_t(r - 1)]))
      fail("forward: readout positions must be ascending and < ", ids.size(), "; found ", readout[size_t(r)],
           " at index ", r);
  }
  const int64_t L = readout.back() + 1;  // causality: later tokens never influence the readout rows
  const int64_t hidden = cfg_.hidden_size, hd = cfg_.head_dim, n_q = cfg_.num_attention_heads,
                n_kv = cfg_.num_key_value_heads, inter = cfg_.intermediate_size;
  const int64_t qdim = n_q * hd, kvdim = n_kv * hd;
  const float eps = float(cfg_.rms_norm_eps);
  const int64_t n_layers = cfg_.num_hidden_layers;
  auto emit = [&](const char* name, int layer, const float* data, int64_t rows, int64_t cols) {
    if (trace && *trace) (*trace)(name, layer, data, rows, cols);
  };

  float* x = grow(m.x, L * hidden);
  float* h = grow(m.h, L * hidden);
  // q / att hold one query chunk; the last layer needs R rows (the readout rows) of each.
  const int64_t chunk = opt_.attn_row_chunk;
  const int64_t q_rows = std::max(std::min(L, chunk), R);
  float* q = grow(m.q, q_rows * qdim);
  float* k = grow(m.k, L * kvdim);
  float* v = grow(m.v, L * kvdim);
  float* att = grow(m.att, q_rows * qdim);
  m.ensure_rope(L, hd);
  const float* cos = m.rope_cos.data();
  const float* sin = m.rope_sin.data();

  cpu::embedding_lookup(weights_.embed_tokens, ids.data(), L, x, pool);
  emit("embed", -1, x, L, hidden);

  for (int64_t li = 0; li < n_layers; ++li) {
    const Impl::Layer& ly = m.layers[size_t(li)];
    cpu::AttentionShape shape{L, n_q, n_kv, hd, cfg_.window_for_layer(li)};
    // bf16 mode rounds the attention operands too (Q, K, V, P: vdpbf16ps products, fp32 softmax).
    shape.bf16 = opt_.precision == cpu::Precision::bf16_dot;
    const bool last = li == n_layers - 1;
    const int layer = int(li);

    // Attention block. K/V always over all L rows.
    cpu::rms_norm(x, L, hidden, ly.input_norm.data(), eps, h, pool);
    m.linear(ly.k, h, L, k);
    m.linear(ly.v, h, L, v);
    cpu::rms_norm(k, L * n_kv, hd, ly.k_norm.data(), eps, k, pool);
    cpu::apply_rope(k, L, n_kv, hd, cos, sin, nullptr, pool);
    if (!last) {
      // Queries in chunks of attn_row_chunk rows (keys/values: all rows up to the chunk's end).
      // o_proj of a chunk overwrites h's rows of that chunk, which no later chunk reads.
      for (int64_t r0 = 0; r0 < L; r0 += chunk) {
        const int64_t rows = std::min(chunk, L - r0);
        cpu::AttentionShape cs = shape;
        cs.q_begin = r0;
        cs.len = r0 + rows;
        m.linear(ly.q, h + r0 * hidden, rows, q);
        cpu::rms_norm(q, rows * n_q, hd, ly.q_norm.data(), eps, q, pool);
        cpu::apply_rope(q, rows, n_q, hd, cos + r0 * (hd / 2), sin + r0 * (hd / 2), nullptr, pool);
        m.attention(cs, q, k, v, att);
        m.linear(ly.o, att, rows, h + r0 * hidden);
      }
      emit("attn_out", layer, h, L, hidden);
      cpu::add_inplace(x, h, L * hidden, pool);
      cpu::rms_norm(x, L, hidden, ly.post_norm.data(), eps, h, pool);
      m.mlp(ly, h, L, h, hidden, inter);
      emit("mlp_out", layer, h, L, hidden);
      cpu::add_inplace(x, h, L * hidden, pool);
      emit("layer_out", layer, x, L, hidden);
      continue;
    }
    // Last layer: everything after K/V only at the R readout rows.
    float* xr = grow(m.xr, R * hidden);
    float* hr = grow(m.hr, R * hidden);
    for (int64_t r = 0; r < R; ++r) {
      std::copy_n(h + readout[size_t(r)] * hidden, hidden, hr + r * hidden);
      std::copy_n(x + readout[size_t(r)] * hidden, hidden, xr + r * hidden);
    }
    m.linear(ly.q, hr, R, q);
    cpu::rms_norm(q, R * n_q, hd, ly.q_norm.data(), eps, q, pool);
    cpu::apply_rope(q, R, n_q, hd, cos, sin, readout.data(), pool);
    if (m.reference) {
      // Oracle: full causal attention over all rows, then pick the readout rows.
      std::vector<float> qall(size_t(L * qdim), 0.f), oall(size_t(L * qdim));
      for (int64_t r = 0; r < R; ++r) std::copy_n(q + r * qdim, qdim, qall.data() + readout[size_t(r)] * qdim);
      cpu::attention_ref(shape, qall.data(), k, v, oall.data());
      for (int64_t r = 0; r < R; ++r) std::copy_n(oall.data() + readout[size_t(r)] * qdim, qdim, att + r * qdim);
    } else {
      cpu::attention_rows(shape, readout.data(), R, q, k, v, att, pool);
    }
    m.linear(ly.o, att, R, hr);
    emit("attn_out", layer, hr, R, hidden);
    cpu::add_inplace(xr, hr, R * hidden, pool);
    cpu::rms_norm(xr, R, hidden, ly.post_norm.data(), eps, hr, pool);
    m.mlp(ly, hr, R, hr, hidden, inter);
    emit("mlp_out", layer, hr, R, hidden);
    cpu::add_inplace(xr, hr, R * hidden, pool);
    emit("layer_out", layer, xr, R, hidden);
    cpu::rms_norm(xr, R, hidden, m.final_norm.data(), eps, out, pool);
    emit("final_norm", -1, out, R, hidden);
  }
}

void Qwen3Model::project(const float* h, int64_t rows, float* e) {
  Impl& m = *impl_;
  if (rows <= 0) return;
  const int64_t mid = weights_.projector_hidden();
  float* t = grow(m.proj_mid, rows * mid);
  m.linear(m.proj0, h, rows, t);
  for (int64_t i = 0; i < rows * mid; ++i) t[i] = std::max(t[i], 0.0f);
  m.linear(m.proj2, t, rows, e);
}

}  // namespace lastrank
