// The CPU backend (backend/backend.h over the kernels of this folder): host fp32 activations, a
// persistent ThreadPool, weights packed once by pack_matrix, and the GEMM scratch (Workspace)
// owned here rather than per thread.
#pragma once
#include <memory>

#include "backend/backend.h"
#include "backend/cpu/gemm.h"

namespace lastrank::cpu {

struct CpuBackendOptions {
  int threads = 0;         // 0 = all cores
  bool reference = false;  // scalar oracle: gemm_ref on the raw weights, attention_ref
  // false: Precision::bf16 runs as on a CPU without AVX512_BF16 (bf16 weights, exact fp32
  // activations and attention), so tests can cover that path on any CPU.
  bool bf16_dot = true;
};

std::unique_ptr<Backend> make_cpu_backend(const CpuBackendOptions& opt = {});

// The packing that serves Precision p: fp32 -> fp32; bf16 -> bf16_dot where the kernel set in use
// has vdpbf16ps and bf16_dot is set, else bf16_weights; int8 -> int8.
PackFormat pack_format(Precision p, bool bf16_dot = true);

}  // namespace lastrank::cpu
