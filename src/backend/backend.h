// The backend seam: what the model's forward (src/model/qwen3.cpp) needs from a compute backend.
// The model prepares its weights through the backend once, holds activation buffers the backend
// allocates, and calls the ops below in order; it never touches backend memory itself and never
// names a backend's kernels. One backend per folder (src/backend/cpu today); make_backend picks
// one by name (docs/DEVELOPERS.md, "Backends").
//
// Memory: every float* an op takes or returns is backend memory: Buffer::data() plus an element
// offset (rows are contiguous, so `p + r * cols` is row r). Host memory crosses only through
// upload / download and the index arrays (token ids, row and position lists), which are host arrays.
// Ops run in call order; download returns once the data is on the host.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "backend/precision.h"
#include "core/tensor.h"

namespace lastrank {

// fp32 activations in backend memory, reused across calls.
class Buffer {
 public:
  virtual ~Buffer() = default;
  virtual float* data() = 0;
  // At least n floats (grown when smaller; then the earlier contents are unspecified).
  virtual float* grow(int64_t n) = 0;
};

// A checkpoint tensor prepared once for the backend's kernels (packed, converted or uploaded).
class Weight {
 public:
  virtual ~Weight() = default;
};

// A linear layer's weight W [n, k] (PyTorch layout), prepared for one Precision.
class LinearWeight : public Weight {
 public:
  virtual int64_t n() const = 0;  // output features
  virtual int64_t k() const = 0;  // input features
  virtual Precision precision() const = 0;
};

struct LinearSpec {
  const TensorView* w = nullptr;  // [n, k] F32/BF16/F16; must outlive the prepared weight
  Precision precision = Precision::fp32;
};

// Causal grouped-query attention over one sequence: q and out hold rows [rows, n_q, d], k and v
// hold positions 0..len-1 [len, n_kv, d]; query head h uses KV head h / (n_q / n_kv); scale
// 1/sqrt(d), fp32 softmax. window > 0: query i sees keys j with i - window < j <= i.
struct AttentionShape {
  int64_t len = 0;
  int64_t n_q = 0;
  int64_t n_kv = 0;
  int64_t d = 0;
  int64_t window = 0;   // 0 = full causal
  int64_t q_begin = 0;  // attention(): q and out hold positions [q_begin, len)
  bool bf16 = false;    // bf16 products (Q, K, V and the probabilities rounded) where the backend has them
};

// Where load_linears may keep its prepared weights across processes, and how it reports what it
// did (the CPU backend: docs/model-files.md, "Start-up: the packed-weight cache").
struct WeightCacheSpec {
  std::string dir;            // "" = no cache
  std::string checkpoint_id;  // identity of the checkpoint the specs' tensors come from
  // status: "hit" (used), "written", "ignored" (a file there was not used; detail says why, the
  // weights are prepared again and the file rewritten) or "disabled" (not written; detail: why).
  std::function<void(const std::string& status, const std::string& detail)> log;
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual int threads() const = 0;  // compute threads it runs on (reported by the server and benches)
  virtual std::string kernel_set() const = 0;  // the kernels it runs (CPU: the kernel set in use, docs/dispatch.md)

  // Memory.
  virtual std::unique_ptr<Buffer> buffer() = 0;  // empty; grow() it
  virtual void upload(const float* host, int64_t n, float* dst) = 0;
  virtual void download(const float* src, int64_t n, float* host) = 0;

  // Weights, prepared once at load. load_linears may prepare concurrently; it throws the first
  // error in spec order (lastrank::Error for a shape or dtype the kernels reject).
  virtual std::vector<std::unique_ptr<LinearWeight>> load_linears(const std::vector<LinearSpec>& specs) = 0;
  // The same weights, bit for bit, taken from the cache where it has them (a backend without one
  // ignores `cache`). Cache problems are logged, never thrown.
  virtual std::vector<std::unique_ptr<LinearWeight>> load_linears(const std::vector<LinearSpec>& specs,
                                                                  const WeightCacheSpec& cache) {
    (void)cache;
    return load_linears(specs);
  }
  virtual std::unique_ptr<Buffer> load_vector(const TensorView& w) = 0;  // w widened to fp32 (norm weights)
  virtual std::unique_ptr<Weight> load_table(const TensorView& w) = 0;   // [vocab, hidden] (embedding)

  // out[i, :] = table[ids[i], :] widened to fp32; lastrank::Error for an id outside the table.
  virtual void embed(const Weight& table, const int32_t* ids, int64_t n, float* out) = 0;
  // y[m, n] = x[m, k] · W^T (m = 0: nothing).
  virtual void linear(const LinearWeight& w, const float* x, int64_t m, float* y) = 0;
  // Qwen3RMSNorm per row of x [rows, cols] with weight w [cols]; out may alias x.
  virtual void rms_norm(const float* x, int64_t rows, int64_t cols, const float* w, float eps, float* out) = 0;
  // RoPE cos/sin tables [n_pos, head_dim / 2] for positions 0..n_pos-1 (transformers' fp32 math).
  virtual void rope_tables(double theta, int64_t head_dim, int64_t n_pos, float* cos, float* sin) = 0;
  // Rotate-half RoPE in place on x [rows, heads, hd]; row r at position pos[r] (host), or r if null.
  virtual void rope(float* x, int64_t rows, int64_t heads, int64_t hd, const float* cos, const float* sin,
                    const int64_t* pos) = 0;
  virtual void swiglu(float* g, const float* u, int64_t n) = 0;  // g = silu(g) * u
  virtual void relu(float* x, int64_t n) = 0;                     // x = max(x, 0)
  virtual void add(float* x, const float* y, int64_t n) = 0;      // x += y
  // dst[i, :] = src[rows[i], :] for i < n, rows of `cols` floats; rows: host.
  virtual void gather_rows(const float* src, int64_t cols, const int64_t* rows, int64_t n, float* dst) = 0;
  // Query rows of positions [s.q_begin, s.len).
  virtual void attention(const AttentionShape& s, const float* q, const float* k, const float* v, float* out) = 0;
  // Query row r at position rows[r] (host, ascending, < s.len) only; q, out: [n_rows, n_q, d].
  virtual void attention_rows(const AttentionShape& s, const int64_t* rows, int64_t n_rows, const float* q,
                              const float* k, const float* v, float* out) = 0;
};

// What every backend accepts at construction.
struct BackendOptions {
  int threads = 0;                 // compute threads, 0 = all cores
  bool reference_kernels = false;  // the backend's slow, simple oracle kernels
};

// The backend registered as `name` (backend_names()); lastrank::Error for any other name.
std::unique_ptr<Backend> make_backend(const std::string& name, const BackendOptions& opt);
const std::vector<std::string>& backend_names();

// What `lastrank --version` prints about the kernels, one "key: value" per line, for every
// registered backend (CPU: the kernel set in use, the sets this CPU runs, the build kind;
// docs/dispatch.md). Throws lastrank::Error when the environment forces kernels this machine
// cannot run (LASTRANK_ISA).
std::string kernel_set_report();

}  // namespace lastrank
