// Linear layers on CPU: y[m, n] = x[m, k] · W[n, k]^T (PyTorch Linear layout, no bias).
// gemm_ref is the scalar reference (the oracle for every fast path); PackedMatrix + gemm is the
// fast path, whose weight layout and kernels are private to src/backend/cpu/.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "core/thread_pool.h"

namespace lastrank::cpu {

// What a packed matrix computes with, and how its weights are stored. The CPU backend picks one
// per user Precision (cpu_backend.h, pack_format); each prints as its own name (pack_format_name).
//  fp32 ("fp32"): the exact path, y = x · W^T with fp32 FMA. Weights keep the checkpoint's dtype
//        where that is exact: BF16 weights stay bf16 (half the memory) and are widened one block
//        at a time; F32 and F16 weights are stored as f32.
//  bf16_weights ("bf16-weights"): weights rounded to bf16, exact fp32 activations:
//        y = x · bf16(W)^T at fp32 FMA speed (on a bf16 checkpoint this is the fp32 path). Serves
//        Precision::bf16 where the CPU lacks AVX512_BF16.
//  bf16_dot ("bf16-dot"): where the CPU has AVX512_BF16 the activations are rounded to bf16 too
//        and vdpbf16ps multiplies bf16 pairs exactly into fp32 accumulators (twice the fp32 FMA
//        rate on Zen 4/5), with the few input channels far larger than the rest compensated in
//        fp32: y = bf16(x) · bf16(W)^T + outlier residuals (docs/perf.md). Without AVX512_BF16 it
//        is the bf16-weights path.
//  int8 ("int8"): int8 weights x dynamic int8 activations, scales per group of 32 input channels
//        (VNNI), outlier channels in fp32 (docs/perf.md, "int8 GEMM").
enum class PackFormat { fp32, bf16_weights, bf16_dot, int8 };

// "fp32", "bf16-weights", "bf16-dot", "int8".
const char* pack_format_name(PackFormat f);

// Scalar reference: y = x · W^T with W any float dtype (F32/BF16/F16), double accumulation.
void gemm_ref(const float* x, int64_t m, int64_t k, const TensorView& w, float* y);

// Scratch memory for PackedMatrix::apply, owned by the caller (the CPU backend keeps one per
// model; tests and benches one per loop), grown on demand and freed with its owner. Nothing is
// kept per thread. Contents do not carry meaning from one call to the next.
class Workspace {
 public:
  uint8_t* bytes(size_t n) { return grow(bytes_, n); }  // at least n bytes
  float* floats(size_t n) { return grow(floats_, n); }  // at least n floats, apart from bytes()
  size_t held_bytes() const { return bytes_.size() + floats_.size() * sizeof(float); }

 private:
  template <class T>
  static T* grow(std::vector<T>& v, size_t n) {
    if (v.size() < n) v.resize(n);
    return v.data();
  }
  std::vector<uint8_t> bytes_;
  std::vector<float> floats_;
};

// A packed matrix as bytes, the unit the weight cache stores (cpu_weight_cache.h): what it
// computes with, its shape, its element type, and its arrays in the order the matrix kind
// defines (panels; int8: quantized panels, scales, column-sum biases). The pointers are the
// matrix's own memory: valid while it lives.
struct PackedImage {
  struct Array {
    const void* data = nullptr;
    size_t bytes = 0;
  };
  PackFormat format = PackFormat::fp32;
  int64_t n = 0, k = 0;
  int64_t element_bytes = 0;  // panel element: 4 (fp32), 2 (bf16), 1 (int8)
  bool pairs = false;         // bf16 panels k-pair interleaved (vdpbf16ps)
  std::vector<Array> arrays;
};

// A weight matrix [n, k] repacked for the fast kernels.
class PackedMatrix {
 public:
  virtual ~PackedMatrix() = default;
  virtual int64_t n() const = 0;  // output features
  virtual int64_t k() const = 0;  // input features
  virtual PackFormat format() const = 0;
  virtual size_t bytes() const = 0;  // memory held by the packed copy (0 if it aliases the mmap)
  virtual PackedImage image() const = 0;
  // y[m, n] = x[m, k] · W^T. x rows are contiguous (stride k), y rows have stride ldy >= n.
  // ws: scratch for this call (one caller at a time per Workspace).
  virtual void apply(const float* x, int64_t m, float* y, int64_t ldy, ThreadPool& pool, Workspace& ws) const = 0;
};

// Whether PackFormat::bf16_dot rounds the activations to bf16 in the kernel set in use (true where
// AVX512_BF16's vdpbf16ps runs the product: y = bf16(x) · bf16(W)^T, outlier channels exact);
// otherwise it is the bf16-weights path, y = x · bf16(W)^T.
bool gemm_bf16_dot_rounds_activations();

// Packs w ([n, k], F32/BF16/F16) in the given format.
std::unique_ptr<PackedMatrix> pack_matrix(const TensorView& w, PackFormat f);

// The matrix whose image is `img`, reading img's arrays in place (no copy; keep holds their
// memory, e.g. a weight cache mapping). Throws lastrank::Error unless img is exactly what
// pack_matrix makes in the kernel set in use for that format and shape (array count and sizes,
// element type, pair layout) with arrays aligned to 64 bytes.
std::unique_ptr<PackedMatrix> adopt_packed_matrix(const PackedImage& img, std::shared_ptr<const void> keep);

// Test hook: true makes pack_matrix use its simple reference packers (the same packed bytes,
// slower), so a test can compare the fast packers against them. Process-wide; default false.
void set_reference_packing(bool on);

}  // namespace lastrank::cpu
