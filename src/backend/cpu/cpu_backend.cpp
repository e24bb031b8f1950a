// The CPU backend: backend/backend.h over this folder's kernels. CpuBackend runs the fast kernels
// (packed GEMM, tiled attention); CpuReferenceBackend swaps in the scalar oracles (gemm_ref on the
// raw checkpoint weights, attention_ref) and keeps the element-wise ops, which are plain loops.
#include "backend/cpu/cpu_backend.h"
#include "backend/cpu/kernel_dispatch.h"

#include <algorithm>

#include "backend/cpu/attention.h"
#include "backend/cpu/cpu_weight_cache.h"
#include "backend/cpu/pool_each.h"
#include "backend/cpu/ops.h"
#include "core/error.h"
#include "core/thread_pool.h"
#include "io/mmap_file.h"

namespace lastrank::cpu {
namespace {

class HostBuffer final : public Buffer {
 public:
  float* data() override { return v_.data(); }
  float* grow(int64_t n) override {
    if (int64_t(v_.size()) < n) v_.resize(size_t(n));
    return v_.data();
  }

 private:
  std::vector<float> v_;
};

// An embedding table, read in place (the checkpoint's mmap).
class TableWeight final : public Weight {
 public:
  explicit TableWeight(const TensorView& w) : w_(w) {}
  const TensorView& view() const { return w_; }

 private:
  TensorView w_;
};

// A linear weight read in place by the oracle's gemm_ref.
class RawWeight final : public LinearWeight {
 public:
  RawWeight(const TensorView& w, Precision p) : w_(w), p_(p) {}
  int64_t n() const override { return w_.shape[0]; }
  int64_t k() const override { return w_.shape[1]; }
  Precision precision() const override { return p_; }
  const TensorView& view() const { return w_; }

 private:
  TensorView w_;
  Precision p_;
};

class PackedWeight final : public LinearWeight {
 public:
  PackedWeight(std::unique_ptr<PackedMatrix> m, Precision p) : m_(std::move(m)), p_(p) {}
  int64_t n() const override { return m_->n(); }
  int64_t k() const override { return m_->k(); }
  Precision precision() const override { return p_; }
  const PackedMatrix& matrix() const { return *m_; }

 private:
  std::unique_ptr<PackedMatrix> m_;
  Precision p_;
};

AttentionShape to_cpu(const lastrank::AttentionShape& s, bool bf16_dot) {
  AttentionShape c;
  c.len = s.len;
  c.n_q = s.n_q;
  c.n_kv = s.n_kv;
  c.d = s.d;
  c.window = s.window;
  c.q_begin = s.q_begin;
  c.bf16 = s.bf16 && bf16_dot;
  return c;
}

class CpuBackend : public Backend {
 public:
  explicit CpuBackend(const CpuBackendOptions& o) : opt_(o), pool_(o.threads) {}

  int threads() const override { return pool_.size(); }
  std::string kernel_set() const override { return kernel_set_name(active_kernel_set()); }

  std::unique_ptr<Buffer> buffer() override { return std::make_unique<HostBuffer>(); }
  void upload(const float* host, int64_t n, float* dst) override { std::copy_n(host, n, dst); }
  void download(const float* src, int64_t n, float* host) override { std::copy_n(src, n, host); }

  // Packed on the pool, each worker taking the next weight in spec order (the formats pack at
  // different rates: int8 mode's leading bf16 layers are much faster than its int8 ones, so fixed
  // contiguous shares left one worker idle); each weight's packing is the same whoever packs it.
  // Errors are carried out of the workers and the first by spec order is rethrown, so the message
  // does not depend on the thread count.
  std::vector<std::unique_ptr<LinearWeight>> load_linears(const std::vector<LinearSpec>& specs) override {
    std::vector<std::unique_ptr<LinearWeight>> out(specs.size());
    each_on_pool(pool_, specs.size(), [&](size_t i) { out[i] = load_linear(specs[i]); });
    return out;
  }
  // Through the packed-weight cache (cpu_weight_cache.h); packing as above when it misses.
  std::vector<std::unique_ptr<LinearWeight>> load_linears(const std::vector<LinearSpec>& specs,
                                                          const WeightCacheSpec& cache) override {
    if (cache.dir.empty() || opt_.reference) return load_linears(specs);
    std::vector<CacheItem> items;
    for (const LinearSpec& s : specs) items.push_back(cache_item(*s.w, pack_format(s.precision, opt_.bf16_dot)));
    std::vector<std::unique_ptr<PackedMatrix>> m = load_through_cache(items, cache, pool_, [&] {
      std::vector<std::unique_ptr<PackedMatrix>> packed(specs.size());
      each_on_pool(pool_, specs.size(), [&](size_t i) { packed[i] = pack_linear(specs[i]); });
      return packed;
    });
    std::vector<std::unique_ptr<LinearWeight>> out;
    for (size_t i = 0; i < specs.size(); ++i) out.push_back(std::make_unique<PackedWeight>(std::move(m[i]), specs[i].precision));
    return out;
  }

  std::unique_ptr<Buffer> load_vector(const TensorView& w) override {
    auto b = std::make_unique<HostBuffer>();
    float* d = b->grow(w.numel());
    for (int64_t i = 0; i < w.numel(); ++i) d[i] = w.at(i);
    return b;
  }
  std::unique_ptr<Weight> load_table(const TensorView& w) override {
    return std::make_unique<TableWeight>(w);
  }

  void embed(const Weight& table, const int32_t* ids, int64_t n, float* out) override {
    embedding_lookup(static_cast<const TableWeight&>(table).view(), ids, n, out, pool_);
  }
  void linear(const LinearWeight& w, const float* x, int64_t m, float* y) override {
    if (m == 0) return;
    static_cast<const PackedWeight&>(w).matrix().apply(x, m, y, w.n(), pool_, workspace_);
  }
  void rms_norm(const float* x, int64_t rows, int64_t cols, const float* w, float eps, float* out) override {
    cpu::rms_norm(x, rows, cols, w, eps, out, pool_);
  }
  void rope_tables(double theta, int64_t head_dim, int64_t n_pos, float* cos, float* sin) override {
    cpu::rope_tables(rope_inv_freq(theta, head_dim), n_pos, cos, sin);
  }
  void rope(float* x, int64_t rows, int64_t heads, int64_t hd, const float* cos, const float* sin,
            const int64_t* pos) override {
    apply_rope(x, rows, heads, hd, cos, sin, pos, pool_);
  }
  void swiglu(float* g, const float* u, int64_t n) override { cpu::swiglu(g, u, n, pool_); }
  void relu(float* x, int64_t n) override {
    for (int64_t i = 0; i < n; ++i) x[i] = std::max(x[i], 0.0f);
  }
  void add(float* x, const float* y, int64_t n) override { add_inplace(x, y, n, pool_); }
  void gather_rows(const float* src, int64_t cols, const int64_t* rows, int64_t n, float* dst) override {
    for (int64_t r = 0; r < n; ++r) std::copy_n(src + rows[r] * cols, cols, dst + r * cols);
  }
  void attention(const lastrank::AttentionShape& s, const float* q, const float* k, const float* v,
                 float* out) override {
    cpu::attention(to_cpu(s, opt_.bf16_dot), q, k, v, out, pool_);
  }
  void attention_rows(const lastrank::AttentionShape& s, const int64_t* rows, int64_t n_rows, const float* q,
                      const float* k, const float* v, float* out) override {
    cpu::attention_rows(to_cpu(s, opt_.bf16_dot), rows, n_rows, q, k, v, out, pool_);
  }

 protected:
  // The packed copy serves from then on: the checkpoint's pages are released (RSS: one copy).
  virtual std::unique_ptr<LinearWeight> load_linear(const LinearSpec& s) {
    return std::make_unique<PackedWeight>(pack_linear(s), s.precision);
  }
  std::unique_ptr<PackedMatrix> pack_linear(const LinearSpec& s) {
    auto m = pack_matrix(*s.w, pack_format(s.precision, opt_.bf16_dot));
    release_pages(s.w->data, s.w->nbytes());
    return m;
  }

  CpuBackendOptions opt_;
  ThreadPool pool_;
  Workspace workspace_;  // GEMM scratch, reused by every linear() of this backend
};

// The slow oracle: double-accumulated GEMM on the raw weights, materialized-score attention.
class CpuReferenceBackend final : public CpuBackend {
 public:
  using CpuBackend::CpuBackend;

  void linear(const LinearWeight& w, const float* x, int64_t m, float* y) override {
    if (m == 0) return;
    gemm_ref(x, m, w.k(), static_cast<const RawWeight&>(w).view(), y);
  }
  void attention(const lastrank::AttentionShape& s, const float* q, const float* k, const float* v,
                 float* out) override {
    attention_ref(to_cpu(s, false), q, k, v, out);
  }
  // Full causal attention over all rows (query rows zero but the selected ones), then the
  // selected rows.
  void attention_rows(const lastrank::AttentionShape& s, const int64_t* rows, int64_t n_rows, const float* q,
                      const float* k, const float* v, float* out) override {
    const int64_t qdim = s.n_q * s.d;
    std::vector<float> qall(size_t(s.len * qdim), 0.f), oall(size_t(s.len * qdim));
    for (int64_t r = 0; r < n_rows; ++r) std::copy_n(q + r * qdim, qdim, qall.data() + rows[r] * qdim);
    lastrank::AttentionShape full = s;
    full.q_begin = 0;
    attention_ref(to_cpu(full, false), qall.data(), k, v, oall.data());
    gather_rows(oall.data(), qdim, rows, n_rows, out);
  }

 protected:
  std::unique_ptr<LinearWeight> load_linear(const LinearSpec& s) override {
    return std::make_unique<RawWeight>(*s.w, s.precision);
  }
};

}  // namespace

PackFormat pack_format(Precision p, bool bf16_dot) {
  switch (p) {
    case Precision::fp32: return PackFormat::fp32;
    case Precision::bf16:
      return bf16_dot && gemm_bf16_dot_rounds_activations() ? PackFormat::bf16_dot : PackFormat::bf16_weights;
    case Precision::int8: return PackFormat::int8;
  }
  fail("pack_format: unknown precision");
}

std::unique_ptr<Backend> make_cpu_backend(const CpuBackendOptions& opt) {
  if (opt.reference) return std::make_unique<CpuReferenceBackend>(opt);
  return std::make_unique<CpuBackend>(opt);
}

}  // namespace lastrank::cpu
