// Private factories behind pack_matrix (one per precision) and the int8 quantization contract
// shared by the int8 kernel, its scalar reference and the tests.
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "backend/cpu/gemm.h"

namespace lastrank::cpu {

std::unique_ptr<PackedMatrix> pack_f32(const TensorView& w);   // gemm_f32.cpp
std::unique_ptr<PackedMatrix> pack_bf16(const TensorView& w);  // gemm_f32.cpp
std::unique_ptr<PackedMatrix> pack_int8(const TensorView& w);  // gemm_int8.cpp

// Row j of a [n, k] F32/BF16/F16 weight, widened to fp32 (exact).
void weight_row(const TensorView& w, int64_t j, float* out);

// int8 quantization (see gemm_int8.cpp):
//  weights: per output channel j, scale_w[j] = max_c |W[j,c]| / kWeightQMax, q = round(W / scale_w).
//    kWeightQMax is 127 where VNNI (vpdpbusd, 4-way u8 x s8 into int32) exists; with AVX2's
//    vpmaddubsw the u8 x s8 pair sum saturates at int16, so weights use 63 levels
//    (2 * 255 * 63 < 32767), keeping the integer dot product exact.
//  activations: per row i, scale_x[i] = max_c |x[i,c]| / 127, q = round(x / scale_x) in [-127, 127].
//  y[i,j] = scale_x[i] * scale_w[j] * sum_c qx[i,c] * qw[j,c]   (int32 sum, exact)
//  outlier channels O = select_outlier_channels(x) (per call, over all m rows) are zeroed before
//  the activation quantization and added back in fp32: y[i,j] += x[i,c] * qw[j,c] * scale_w[j]
//  (fma, c ascending). So a few huge input channels no longer wipe out every row's resolution.
int int8_weight_qmax();
struct QuantizedRows {
  int64_t rows = 0, cols = 0;
  std::vector<int8_t> q;      // [rows, cols]
  std::vector<float> scale;   // [rows]
};
// Outlier input channels of x [m, k], ascending (pool: optional, for the column-max scan).
std::vector<int64_t> select_outlier_channels(const float* x, int64_t m, int64_t k, ThreadPool* pool = nullptr);
QuantizedRows quantize_rows(const float* x, int64_t rows, int64_t cols, int qmax);
// Scalar reference of the int8 GEMM for the same quantization (exact integer dot products).
void gemm_int8_ref(const float* x, int64_t m, int64_t k, const TensorView& w, float* y);

}  // namespace lastrank::cpu
