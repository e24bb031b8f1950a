// Linear layers on CPU: y[m, n] = x[m, k] · W[n, k]^T (PyTorch Linear layout, no bias).
// gemm_ref is the scalar reference (the oracle for every fast path); PackedMatrix + gemm is the
// fast path, whose weight layout and kernels are private to src/backend/cpu/.
#pragma once
#include <cstdint>
#include <memory>

#include "core/tensor.h"
#include "core/thread_pool.h"

namespace lastrank::cpu {

// How weights are stored for the fast path and what the kernel computes with.
//  fp32: weights widened to f32, fp32 FMA.            (exact path)
//  bf16: weights kept as bf16 (rounded if needed), fp32 accumulation.
//  int8: per-output-channel int8 weights x per-row dynamic int8 activations (VNNI), fp32 rescale.
enum class Precision { fp32, bf16, int8 };

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

// Whether Precision::bf16 also rounds the activations to bf16 (true where AVX512_BF16's vdpbf16ps
// runs the product: y = bf16(x) · bf16(W)^T, fp32 accumulation); otherwise y = x · bf16(W)^T.
bool gemm_bf16_rounds_activations();

// Packs w ([n, k], F32/BF16/F16) for the given precision.
std::unique_ptr<PackedMatrix> pack_matrix(const TensorView& w, Precision p);

}  // namespace lastrank::cpu
