// The numeric precision of the forward, as the user picks it (--precision of the CLI, the server
// and the benches). Backend-neutral: every backend maps each value to its own kernels
// (src/backend/cpu/cpu_backend.cpp for the CPU), and each value prints as the name the user types.
//  fp32: exact fp32 math (weights kept in the checkpoint's dtype where that is exact).
//  bf16 (the default): weights rounded to bf16; on hardware with exact bf16 products (AVX512_BF16
//        on the CPU) the GEMM and attention operands are rounded to bf16 too, with fp32
//        accumulation and the few outlier input channels compensated in fp32 (docs/perf.md).
//  int8: int8 weights x dynamic int8 activations, mixed with bf16 in the leading layers
//        (model/qwen3.h, kInt8LeadingLayers).
#pragma once
#include <string>
#include <vector>

namespace lastrank {

enum class Precision { fp32, bf16, int8 };

// "fp32", "bf16", "int8".
const char* precision_name(Precision p);
// Every precision_name, in order of speed: the one list --precision accepts everywhere.
const std::vector<std::string>& precision_names();
// The Precision named `name`; throws lastrank::Error naming the accepted values otherwise.
Precision parse_precision(const std::string& name);

}  // namespace lastrank
