// Helpers shared by the GEMM kernels and their references (the packers themselves are per kernel
// set: KernelTable in kernel_table.h), and the int8 quantization contract shared by the int8
// kernel, its scalar reference and the tests.
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "backend/cpu/gemm.h"

namespace lastrank::cpu {

// Row j of a [n, k] F32/BF16/F16 weight, widened to fp32 (exact).
void weight_row(const TensorView& w, int64_t j, float* out);

// Whether the packers take their simple reference path (each row widened with weight_row, then
// stored element by element) instead of a fast path for the same bytes (set_reference_packing).
bool reference_packing();

// int8 quantization (see gemm_int8.cpp). k is split into groups of kInt8Group input channels
// (the last one may be shorter); every scale below is per group g:
//  weights: per output channel j, scale_w[j,g] = max_{c in g} |W[j,c]| / kWeightQMax,
//    q = round(W / scale_w). kWeightQMax is 127 where VNNI (vpdpbusd, 4-way u8 x s8 into int32:
//    avx512_vnni and up, avx2_vnni) exists; plain AVX2 (vpmaddubsw of |w| and sign(w) * q, int16
//    pair sums) uses 63 levels, so the pair sums of two k steps add in int16 before widening
//    (2 * 2 * 63 * 127 = 32004 < 32767), keeping the integer dot product exact. AArch64 (s8 x s8: sdot,
//    or widening multiplies whose pair sums stay below 2 * 127 * 127) uses 127 like VNNI.
//  activations: per row i, scale_x[i,g] = max_{c in g} |x[i,c]| / 127, q = round(x / scale_x).
//  acc = 0; for g ascending: acc = fma(float(sum_{c in g} qx[i,c] * qw[j,c]), scale_x[i,g] * scale_w[j,g], acc)
//    (the group sums are exact integers, |sum| <= kInt8Group * 127 * 127 < 2^24, so float() is exact too)
//  outlier channels O = select_outlier_channels(x) (per call, over all m rows) are zeroed before
//  the activation quantization and added back in fp32: acc = fma(x[i,c], qw[j,c] * scale_w[j,g(c)], acc)
//  (c ascending); y[i,j] = acc. So a few huge input channels no longer wipe out every row's resolution,
//  and a heavy-tailed row (the SwiGLU product feeding down_proj) only coarsens the groups that hold
//  its large values.
// 32: per-GEMM relative error vs fp32 inside the full-size outlier model (q/k/v/gate/up, o, down):
// 0.66 / 0.86 / 1.17 % at 128 -> 0.56 / 0.73 / 0.89 % at 32, score max |diff| 0.019 -> 0.013-0.014
// (4 lists); the extra per-group rescale costs ~20 % of int8 GEMM speed (docs/perf.md).
constexpr int64_t kInt8Group = 32;
// kWeightQMax of the kernel set in use (kernel_dispatch.h).
int int8_weight_qmax();
struct QuantizedRows {
  int64_t rows = 0, cols = 0, group = 0, groups = 0;
  std::vector<int8_t> q;      // [rows, cols]
  std::vector<float> scale;   // [rows, groups]
};
// Input channels c of x [m, k] whose max_i |x[i, c]| exceeds ratio x the median channel max,
// ascending; at most max_channels (the largest, ties by index). Shared by int8 and bf16 (bf16_dot),
// which each take such channels out of their low-precision product (gemm_pack.cpp).
std::vector<int64_t> select_large_channels(const float* x, int64_t m, int64_t k, float ratio, int64_t max_channels,
                                           ThreadPool* pool = nullptr);
// int8's outlier input channels of x [m, k] (select_large_channels with int8's rule, gemm_int8.cpp).
std::vector<int64_t> select_outlier_channels(const float* x, int64_t m, int64_t k, ThreadPool* pool = nullptr);
// Symmetric quantization with one scale per (row, group of `group` columns); group <= 0: whole rows.
QuantizedRows quantize_rows(const float* x, int64_t rows, int64_t cols, int qmax, int64_t group = 0);
// Scalar reference of the int8 GEMM for the same quantization (exact integer dot products), with the
// weight levels (int8_weight_qmax) of the kernel set in use.
void gemm_int8_ref(const float* x, int64_t m, int64_t k, const TensorView& w, float* y);

}  // namespace lastrank::cpu
