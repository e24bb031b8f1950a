// The Qwen3 backbone forward + jina projector (docs/DEVELOPERS.md, "Model"), written once over
// the backend seam (backend/backend.h): straight-line code, one function per step, over fp32
// activation buffers the backend allocates (grown on demand, linear in L; the MLP runs in row
// chunks). Weights are prepared by the backend once, at construction.
// Causality: only rows 0..last readout are computed, and the last layer computes q, attention,
// o_proj, MLP and final norm only at the readout rows (K/V still for all rows): exact.
// Shared prefix (model/shared_prefix.h): the rows [0, r0) a set prefix covers run as a pass of
// their own, once; later passes restore their K/V and compute rows [r0, L) only.
// Cancellation: stop_point() between backend calls (layers, K/V, attention and MLP row chunks);
// at 8K tokens on the full-size model one layer is seconds of work on 2 cores, a chunk a fraction
// of that (docs/server.md, "Cancellation"). Never inside the backend: its ops run to completion.
#include "model/qwen3.h"

#include <algorithm>

#include "core/error.h"
#include "model/checkpoint_identity.h"
#include "model/prefix_cache.h"
#include "model/shared_prefix.h"

namespace lastrank {

namespace {

constexpr int64_t kMlpRowChunk = 1024;  // rows per MLP pass: bounds the [rows, inter] buffers

}  // namespace

struct Qwen3Model::Impl {
  struct Layer {
    std::unique_ptr<LinearWeight> q, k, v, o, gate, up, down;
    std::unique_ptr<Buffer> input_norm, post_norm, q_norm, k_norm;  // fp32 norm weights
  };
  // One forward call: its lengths and activation pointers (backend memory).
  struct Pass {
    int64_t L = 0, R = 0;              // rows up to the last readout, readout rows
    int64_t r0 = 0;                    // rows [0, r0): the shared prefix's, K/V restored, not computed
    bool keep_prefix = false;          // the prefix's own pass: keep every layer's K/V
    const int64_t* readout = nullptr;  // [R] host
    const TraceFn* trace = nullptr;
    const CancelToken* cancel = nullptr;
    float *x = nullptr, *h = nullptr;  // [L, hidden] residual stream; normed input / block outputs
    float *q = nullptr, *att = nullptr;  // [max(min(L, attn_row_chunk), R), n_q * hd]
    float *k = nullptr, *v = nullptr;    // [L, n_kv * hd]
    const float *cos = nullptr, *sin = nullptr;  // RoPE tables [>= L, hd / 2]
  };

  Impl(const ModelConfig& c, const EngineOptions& o, Backend& b)
      : cfg(c), opt(o), be(b), hidden(c.hidden_size), hd(c.head_dim), n_q(c.num_attention_heads),
        n_kv(c.num_key_value_heads), inter(c.intermediate_size), eps(float(c.rms_norm_eps)) {}

  const ModelConfig& cfg;
  const EngineOptions& opt;
  Backend& be;
  const int64_t hidden, hd, n_q, n_kv, inter;
  const float eps;

  std::vector<Layer> layers;
  std::unique_ptr<Weight> embed_table;
  std::unique_ptr<Buffer> final_norm;
  std::unique_ptr<LinearWeight> proj0, proj2;
  // Activations, reused across calls.
  std::unique_ptr<Buffer> x = be.buffer(), h = be.buffer(), q = be.buffer(), att = be.buffer(), k = be.buffer(),
                          v = be.buffer();
  std::unique_ptr<Buffer> g = be.buffer(), u = be.buffer();    // [min(m, kMlpRowChunk), inter]
  std::unique_ptr<Buffer> xr = be.buffer(), hr = be.buffer();  // [R, hidden] last-layer rows
  std::unique_ptr<Buffer> rope_cos = be.buffer(), rope_sin = be.buffer();  // [rope_len, hd / 2]
  int64_t rope_len = 0;
  std::unique_ptr<Buffer> proj_in = be.buffer(), proj_mid = be.buffer(), proj_out = be.buffer();
  std::vector<float> trace_host;  // a traced tensor, downloaded
  SharedPrefix prefix{be};
  std::string checkpoint_id;  // checkpoint_identity, when there is a weight cache directory

  // int8 mode is mixed precision: its first opt.int8_leading_layers layers are prepared as
  // kInt8LeadingPrecision (qwen3.h says why); every other mode prepares every layer as itself.
  Precision layer_precision(int64_t layer) const {
    return opt.precision == Precision::int8 && layer < opt.int8_leading_layers ? kInt8LeadingPrecision
                                                                                : opt.precision;
  }

  CacheLogFn cache_log(CacheFileKind kind) const {
    if (!opt.weight_cache_log) return {};
    return [log = opt.weight_cache_log, kind](const std::string& status, const std::string& detail) {
      log(kind, status, detail);
    };
  }

  void load(const ModelWeights& w) {
    std::vector<LinearSpec> specs;
    for (size_t i = 0; i < w.layers.size(); ++i) {
      const LayerWeights& lw = w.layers[i];
      const Precision p = layer_precision(int64_t(i));
      for (const TensorView* t : {&lw.q_proj, &lw.k_proj, &lw.v_proj, &lw.o_proj, &lw.gate_proj, &lw.up_proj,
                                  &lw.down_proj})
        specs.push_back({t, p});
    }
    // The projector is tiny and its output feeds cosines: always fp32 (the HF fp32 reference).
    specs.push_back({&w.projector0, Precision::fp32});
    specs.push_back({&w.projector2, Precision::fp32});
    WeightCacheSpec cache;
    if (!opt.weight_cache_dir.empty()) {
      checkpoint_id = checkpoint_identity(w.archive);
      cache = {opt.weight_cache_dir, checkpoint_id, cache_log(CacheFileKind::packed)};
    }
    std::vector<std::unique_ptr<LinearWeight>> lin = be.load_linears(specs, cache);
    auto next = lin.begin();
    layers.resize(w.layers.size());
    for (size_t i = 0; i < w.layers.size(); ++i) {
      Layer& l = layers[i];
      for (std::unique_ptr<LinearWeight>* dst : {&l.q, &l.k, &l.v, &l.o, &l.gate, &l.up, &l.down})
        *dst = std::move(*next++);
      const LayerWeights& lw = w.layers[i];
      l.input_norm = be.load_vector(lw.input_layernorm);
      l.post_norm = be.load_vector(lw.post_attention_layernorm);
      l.q_norm = be.load_vector(lw.q_norm);
      l.k_norm = be.load_vector(lw.k_norm);
    }
    proj0 = std::move(*next++);
    proj2 = std::move(*next++);
    final_norm = be.load_vector(w.norm);
    embed_table = be.load_table(w.embed_tokens);
  }

  void emit(const Pass& p, const char* name, int64_t layer, const float* data, int64_t rows, int64_t cols) {
    if (!p.trace || !*p.trace) return;
    trace_host.resize(size_t(rows * cols));
    be.download(data, rows * cols, trace_host.data());
    (*p.trace)(name, int(layer), trace_host.data(), rows, cols);
  }

  void ensure_rope(int64_t n_pos) {
    if (n_pos <= rope_len) return;
    const int64_t len = std::max(n_pos, 2 * rope_len);
    be.rope_tables(cfg.rope_theta, hd, len, rope_cos->grow(len * (hd / 2)), rope_sin->grow(len * (hd / 2)));
    rope_len = len;
  }

  static void check_readout(const std::vector<int32_t>& ids, const std::vector<int64_t>& readout) {
    for (size_t r = 0; r < readout.size(); ++r) {
      if (readout[r] < 0 || readout[r] >= int64_t(ids.size()) || (r > 0 && readout[r] <= readout[r - 1]))
        fail("forward: readout positions must be ascending and < ", ids.size(), "; found ", readout[r],
             " at index ", r);
    }
  }

  // Sizes the buffers for rows 0..L-1 (a forward: up to the last readout; causality: later tokens
  // never influence them).
  Pass begin(int64_t L, const std::vector<int64_t>& readout, const TraceFn* trace, const CancelToken* cancel) {
    Pass p;
    p.R = int64_t(readout.size());
    p.L = L;
    p.readout = readout.data();
    p.trace = trace;
    p.cancel = cancel;
    // q / att hold one query chunk; the last layer needs R rows (the readout rows) of each.
    const int64_t q_rows = std::max(std::min(p.L, opt.attn_row_chunk), p.R);
    p.x = x->grow(p.L * hidden);
    p.h = h->grow(p.L * hidden);
    p.q = q->grow(q_rows * n_q * hd);
    p.k = k->grow(p.L * n_kv * hd);
    p.v = v->grow(p.L * n_kv * hd);
    p.att = att->grow(q_rows * n_q * hd);
    ensure_rope(p.L);
    p.cos = rope_cos->data();
    p.sin = rope_sin->data();
    return p;
  }

  // Throws Cancelled if the pass's token is cancelled: one relaxed load. Every buffer is rewritten
  // by the next forward before it is read, so leaving here leaves nothing half-done behind.
  static void stop_point(const Pass& p) { check_cancel(p.cancel); }

  AttentionShape attention_shape(const Pass& p, int64_t li) const {
    AttentionShape s{p.L, n_q, n_kv, hd, cfg.window_for_layer(li)};
    // bf16 mode rounds the attention operands too (Q, K, V, P: bf16 products, fp32 softmax).
    s.bf16 = opt.precision == Precision::bf16;
    return s;
  }

  // Input norm into h, then K and V (normed, rotated) of rows [r0, L); rows [0, r0) restored from
  // the shared prefix (or, in the prefix's own pass, all rows kept there).
  void keys_values(const Pass& p, int64_t li) {
    const Layer& ly = layers[size_t(li)];
    const int64_t m = p.L - p.r0, kv = n_kv * hd;
    float *h0 = p.h + p.r0 * hidden, *k0 = p.k + p.r0 * kv, *v0 = p.v + p.r0 * kv;
    be.rms_norm(p.x + p.r0 * hidden, m, hidden, ly.input_norm->data(), eps, h0);
    be.linear(*ly.k, h0, m, k0);
    be.linear(*ly.v, h0, m, v0);
    be.rms_norm(k0, m * n_kv, hd, ly.k_norm->data(), eps, k0);
    be.rope(k0, m, n_kv, hd, p.cos + p.r0 * (hd / 2), p.sin + p.r0 * (hd / 2), nullptr);
    if (p.r0 > 0) prefix.restore(li, p.k, p.v, kv);
    if (p.keep_prefix) prefix.save(li, p.k, p.v, kv);
  }

  // q_proj, q norm and RoPE into p.q of m rows `in` [m, hidden] at positions r0 + r, or pos[r]
  // (host) when pos is given.
  void queries(const Pass& p, const Layer& ly, const float* in, int64_t m, int64_t r0, const int64_t* pos) {
    be.linear(*ly.q, in, m, p.q);
    be.rms_norm(p.q, m * n_q, hd, ly.q_norm->data(), eps, p.q);
    be.rope(p.q, m, n_q, hd, p.cos + r0 * (hd / 2), p.sin + r0 * (hd / 2), pos);
  }

  // Attention of rows [p.r0, L), queries in chunks of attn_row_chunk rows (keys/values: all rows up
  // to the chunk's end). o_proj of a chunk overwrites h's rows of that chunk, which no later chunk reads.
  void attend_all_rows(const Pass& p, int64_t li) {
    const Layer& ly = layers[size_t(li)];
    const int64_t chunk = opt.attn_row_chunk;
    for (int64_t r0 = p.r0; r0 < p.L; r0 += chunk) {
      stop_point(p);
      const int64_t rows = std::min(chunk, p.L - r0);
      AttentionShape s = attention_shape(p, li);
      s.q_begin = r0;
      s.len = r0 + rows;
      queries(p, ly, p.h + r0 * hidden, rows, r0, nullptr);
      be.attention(s, p.q, p.k, p.v, p.att);
      be.linear(*ly.o, p.att, rows, p.h + r0 * hidden);
    }
  }

  // Attention of the R readout rows only: hr [R, hidden] (their normed input) -> o_proj into hr.
  void attend_readout_rows(const Pass& p, int64_t li, float* hr) {
    const Layer& ly = layers[size_t(li)];
    queries(p, ly, hr, p.R, 0, p.readout);
    be.attention_rows(attention_shape(p, li), p.readout, p.R, p.q, p.k, p.v, p.att);
    be.linear(*ly.o, p.att, p.R, hr);
  }

  // SwiGLU MLP of rows in[0..m) [m, hidden] -> out [m, hidden] (out may alias in).
  void mlp(const Pass& p, const Layer& ly, const float* in, int64_t m, float* out) {
    for (int64_t r0 = 0; r0 < m; r0 += kMlpRowChunk) {
      stop_point(p);
      const int64_t rows = std::min(kMlpRowChunk, m - r0);
      float* gg = g->grow(rows * inter);
      float* uu = u->grow(rows * inter);
      be.linear(*ly.gate, in + r0 * hidden, rows, gg);
      be.linear(*ly.up, in + r0 * hidden, rows, uu);
      be.swiglu(gg, uu, rows * inter);
      be.linear(*ly.down, gg, rows, out + r0 * hidden);
    }
  }

  // After attention (its output in hh): residual, post norm, MLP, residual; on `rows` rows of xx.
  void layer_tail(const Pass& p, int64_t li, float* xx, float* hh, int64_t rows) {
    const Layer& ly = layers[size_t(li)];
    emit(p, "attn_out", li, hh, rows, hidden);
    be.add(xx, hh, rows * hidden);
    be.rms_norm(xx, rows, hidden, ly.post_norm->data(), eps, hh);
    mlp(p, ly, hh, rows, hh);
    emit(p, "mlp_out", li, hh, rows, hidden);
    be.add(xx, hh, rows * hidden);
    emit(p, "layer_out", li, xx, rows, hidden);
  }

  // Every layer but the last, over rows [r0, L).
  void inner_layer(const Pass& p, int64_t li) {
    stop_point(p);
    keys_values(p, li);
    attend_all_rows(p, li);
    layer_tail(p, li, p.x + p.r0 * hidden, p.h + p.r0 * hidden, p.L - p.r0);
  }

  // The last layer: K/V over all rows, everything after only at the R readout rows; then the
  // final norm, into out [R, hidden] (host).
  void last_layer(const Pass& p, float* out) {
    const int64_t li = int64_t(layers.size()) - 1;
    stop_point(p);
    keys_values(p, li);
    stop_point(p);
    float* xx = xr->grow(p.R * hidden);
    float* hh = hr->grow(p.R * hidden);
    be.gather_rows(p.h, hidden, p.readout, p.R, hh);
    be.gather_rows(p.x, hidden, p.readout, p.R, xx);
    attend_readout_rows(p, li, hh);
    layer_tail(p, li, xx, hh, p.R);
    be.rms_norm(xx, p.R, hidden, final_norm->data(), eps, hh);
    emit(p, "final_norm", -1, hh, p.R, hidden);
    be.download(hh, p.R * hidden, out);
  }

  // The shared prefix's own pass over ids[0, P): every layer's K/V kept (the last layer's too, whose
  // other work no later row needs). Marked ready only once complete, so a cancelled pass is redone.
  void prefix_pass(const CancelToken* cancel) {
    const std::vector<int32_t>& ids = prefix.ids();
    const std::vector<int64_t> none;
    Pass p = begin(int64_t(ids.size()), none, nullptr, cancel);
    p.keep_prefix = true;
    be.embed(*embed_table, ids.data(), p.L, p.x);
    for (int64_t li = 0; li + 1 < int64_t(layers.size()); ++li) inner_layer(p, li);
    stop_point(p);
    keys_values(p, int64_t(layers.size()) - 1);
    prefix.mark_ready();
  }

  // The prefix's K/V from the weight cache directory, or computed now and written there.
  void prefix_through_cache() {
    const std::string key = prefix_cache_key(cfg, opt, be.kernel_set(), checkpoint_id, prefix.ids());
    if (key.empty()) {
      if (CacheLogFn log = cache_log(CacheFileKind::prefix)) log("disabled", kNoBuildIdDetail);
      return;
    }
    load_prefix_through_cache(prefix, n_kv * hd, opt.weight_cache_dir, key, cache_log(CacheFileKind::prefix),
                              [&] { prefix_pass(nullptr); });
  }

  void forward(const std::vector<int32_t>& ids, const std::vector<int64_t>& readout, float* out,
               const TraceFn* trace, const CancelToken* cancel) {
    check_readout(ids, readout);
    if (readout.empty()) return;
    // A traced forward computes every row, so that the trace sees them all.
    const int64_t r0 = trace && *trace ? 0 : prefix.rows_for(ids, readout.front());
    if (r0 > 0 && !prefix.ready()) prefix_pass(cancel);
    Pass p = begin(readout.back() + 1, readout, trace, cancel);
    p.r0 = r0;
    be.embed(*embed_table, ids.data() + r0, p.L - r0, p.x + r0 * hidden);
    emit(p, "embed", -1, p.x, p.L, hidden);
    for (int64_t li = 0; li + 1 < int64_t(layers.size()); ++li) inner_layer(p, li);
    last_layer(p, out);
  }

  void project(const float* hs, int64_t rows, float* e) {
    if (rows <= 0) return;
    const int64_t mid = proj0->n(), dim = proj2->n();
    float* in = proj_in->grow(rows * hidden);
    float* t = proj_mid->grow(rows * mid);
    float* o = proj_out->grow(rows * dim);
    be.upload(hs, rows * hidden, in);
    be.linear(*proj0, in, rows, t);
    be.relu(t, rows * mid);
    be.linear(*proj2, t, rows, o);
    be.download(o, rows * dim, e);
  }
};

Qwen3Model::Qwen3Model(ModelConfig cfg, ModelWeights weights, const EngineOptions& opt)
    : Qwen3Model(std::move(cfg), std::move(weights), opt,
                 make_backend(opt.backend, BackendOptions{opt.threads, opt.reference_kernels})) {}

Qwen3Model::Qwen3Model(ModelConfig cfg, ModelWeights weights, const EngineOptions& opt,
                       std::unique_ptr<Backend> backend)
    : cfg_(std::move(cfg)), weights_(std::move(weights)), opt_(opt), backend_(std::move(backend)) {
  LR_CHECK(backend_ != nullptr, "Qwen3Model: no backend");
  LR_CHECK(int64_t(weights_.layers.size()) == cfg_.num_hidden_layers && cfg_.num_hidden_layers > 0,
           "weights/config layer count mismatch");
  LR_CHECK(cfg_.head_dim % 2 == 0 && cfg_.num_key_value_heads > 0 &&
               cfg_.num_attention_heads % cfg_.num_key_value_heads == 0,
           "bad head configuration");
  LR_CHECK(opt_.attn_row_chunk > 0, "attn_row_chunk must be positive: ", opt_.attn_row_chunk);
  impl_ = std::make_unique<Impl>(cfg_, opt_, *backend_);
  impl_->load(weights_);
}

Qwen3Model::~Qwen3Model() = default;

std::vector<Precision> Qwen3Model::layer_precisions(int64_t layer) const {
  LR_CHECK(layer >= 0 && layer < int64_t(impl_->layers.size()), "layer out of range: ", layer);
  const Impl::Layer& l = impl_->layers[size_t(layer)];
  std::vector<Precision> r;
  for (const LinearWeight* w : {l.q.get(), l.k.get(), l.v.get(), l.o.get(), l.gate.get(), l.up.get(), l.down.get()})
    r.push_back(w->precision());
  return r;
}

void Qwen3Model::forward(const std::vector<int32_t>& ids, const std::vector<int64_t>& readout, float* out,
                         const TraceFn* trace, const CancelToken* cancel) {
  impl_->forward(ids, readout, out, trace, cancel);
}

void Qwen3Model::set_shared_prefix(std::vector<int32_t> ids) {
  impl_->prefix.set(std::move(ids), int64_t(impl_->layers.size()));
  if (!opt_.weight_cache_dir.empty() && !impl_->prefix.ids().empty()) impl_->prefix_through_cache();
}

void Qwen3Model::project(const float* h, int64_t rows, float* e) { impl_->project(h, rows, e); }

}  // namespace lastrank
