// Linear layers on CPU: y[m, n] = x[m, k] · W[n, k]^T (PyTorch Linear layout, no bias).
// gemm_ref is the scalar reference (the oracle for every fast path); PackedMatrix + gemm is the
// fast path, whose weight layout and kernels are private to src/backend/cpu/.
#pragma once
#include <cstdint>
#include <memory>
#include <string>

#include "core/tensor.h"
#include "core/thread_pool.h"

namespace lastrank::cpu {

// How weights are stored for the fast path and what the kernel computes with.
//  fp32: weights widened to f32, fp32 FMA.            (exact path)
//  bf16: weights kept as bf16 (rounded if needed), exact fp32 activations, fp32 accumulation:
//        y = x · bf16(W)^T at fp32 FMA speed with half the weight memory (on a bf16 checkpoint,
//        bit-identical to fp32).
//  bf16_dot ("fast-bf16"): as bf16, but where the CPU has AVX512_BF16 the activations are rounded
//        to bf16 too and vdpbf16ps multiplies (twice the fp32 FMA rate here), with the few input
//        channels far larger than the rest compensated in fp32. Faster, less exact (docs/perf.md);
//        elsewhere it is the bf16 path.
//  int8: per-output-channel int8 weights x per-row dynamic int8 activations (VNNI), fp32 rescale.
enum class Precision { fp32, bf16, int8, bf16_dot };

// "fp32" | "bf16" | "fast-bf16" | "int8" (the --precision names of the CLI, server and benches).
const char* precision_name(Precision p);
// Throws lastrank::Error naming the accepted values for any other string.
Precision parse_precision(const std::string& name);

// Scalar reference: y = x · W^T with W any float dtype (F32/BF16/F16), double accumulation.
void gemm_ref(const float* x, int64_t m, int64_t k, const TensorView& w, float* y);

// A weight matrix [n, k] repacked for the fast kernels.
class PackedMatrix {
 public:
  virtual ~PackedMatrix() = default;
  virtual int64_t n() const = 0;  // output features
  virtual int64_t k() const = 0;  // input features
  virtual Precision precision() const = 0;
  virtual size_t bytes() const = 0;  // memory held by the packed copy (0 if it aliases the mmap)
  // y[m, n] = x[m, k] · W^T. x rows are contiguous (stride k), y rows have stride ldy >= n.
  virtual void apply(const float* x, int64_t m, float* y, int64_t ldy, ThreadPool& pool) const = 0;
};

// Whether Precision::bf16_dot rounds the activations to bf16 on this build (true where AVX512_BF16's
// vdpbf16ps runs the product: y = bf16(x) · bf16(W)^T, outlier channels exact); otherwise it is
// the bf16 path, y = x · bf16(W)^T.
bool gemm_bf16_dot_rounds_activations();

// Packs w ([n, k], F32/BF16/F16) for the given precision.
std::unique_ptr<PackedMatrix> pack_matrix(const TensorView& w, Precision p);

}  // namespace lastrank::cpu
