// The kernels compiled once per kernel set (kernel_set.h), as one table of function pointers.
// Each kernel TU (gemm_f32.cpp, gemm_int8.cpp, attention.cpp, ops.cpp, fma_probe.cpp) is built once
// per set with that set's -m flags and -DLR_KERNEL_SET=<set>, with all its code (and the inline
// code of simd.h / gemm_kernel.h) in namespace lastrank::cpu::<set>, and fills its part of the
// table through fill_<tu>() (set code: called only where the CPU runs the set). kernel_dispatch.cpp
// collects one table per compiled set this CPU runs; the public
// entry points (gemm.h, attention.h, ops.h) forward to the selected one (kernels.cpp).
#pragma once
#include <cstdint>
#include <memory>

#include "backend/cpu/attention.h"
#include "backend/cpu/gemm.h"
#include "backend/cpu/kernel_set.h"
#include "backend/cpu/ops.h"

namespace lastrank::cpu {

struct KernelTable {
  KernelSet set = KernelSet::x86_64;  // what the compiled code needs (a native build: its target)
  // gemm_f32.cpp: the packed fp32 / bf16 GEMM (gemm_internal.h has the contracts).
  std::unique_ptr<PackedMatrix> (*pack_f32)(const TensorView& w) = nullptr;
  std::unique_ptr<PackedMatrix> (*pack_bf16)(const TensorView& w, PackFormat f) = nullptr;
  bool bf16_dot_rounds_activations = false;  // gemm_bf16_dot_rounds_activations()
  // adopt_packed_matrix for the fp32 / bf16 formats and for int8 (gemm.h).
  std::unique_ptr<PackedMatrix> (*adopt_panels)(const PackedImage& img, std::shared_ptr<const void> keep) = nullptr;
  // gemm_int8.cpp
  std::unique_ptr<PackedMatrix> (*pack_int8)(const TensorView& w) = nullptr;
  int int8_weight_qmax = 0;
  std::unique_ptr<PackedMatrix> (*adopt_int8)(const PackedImage& img, std::shared_ptr<const void> keep) = nullptr;
  // attention.cpp
  decltype(&cpu::attention) attention = nullptr;
  bool attention_bf16 = false;  // attention_bf16_available()
  // y[i] = simd::exp_neg(x[i]), n a multiple of vector_lanes (the softmax exp, for its test)
  void (*exp_neg)(const float* x, float* y, int64_t n) = nullptr;
  // ops.cpp (ops.h)
  decltype(&cpu::embedding_lookup) embedding_lookup = nullptr;
  decltype(&cpu::rms_norm) rms_norm = nullptr;
  decltype(&cpu::rope_inv_freq) rope_inv_freq = nullptr;
  decltype(&cpu::rope_tables) rope_tables = nullptr;
  decltype(&cpu::apply_rope) apply_rope = nullptr;
  decltype(&cpu::swiglu) swiglu = nullptr;
  decltype(&cpu::add_inplace) add_inplace = nullptr;
  decltype(&cpu::exp_approx) exp_approx = nullptr;
  decltype(&cpu::attention_rows) attention_rows = nullptr;
  // fma_probe.cpp: fp32 lanes of simd.h's vector, and 12 independent FMA chains of `iters` steps
  // (the benches' FMA peak probe).
  int vector_lanes = 0;
  float (*fma_chains)(int64_t iters) = nullptr;
};

}  // namespace lastrank::cpu

// Declares the fill functions of kernel set `set` (the namespace lastrank::cpu::set).
#define LR_DECLARE_KERNEL_SET(set)                       \
  namespace lastrank::cpu::set {                         \
  void fill_gemm_f32(::lastrank::cpu::KernelTable& t);   \
  void fill_gemm_int8(::lastrank::cpu::KernelTable& t);  \
  void fill_attention(::lastrank::cpu::KernelTable& t);  \
  void fill_ops(::lastrank::cpu::KernelTable& t);        \
  void fill_fma_probe(::lastrank::cpu::KernelTable& t);  \
  }
