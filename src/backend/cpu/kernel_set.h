// Kernel sets: the instruction-set levels the SIMD kernels (GEMM, attention, ops) are compiled
// for. A portable build compiles every kernel set of its architecture and picks one at start-up
// (kernel_dispatch.h); docs/dispatch.md has the whole story. Names are the enum values' own:
//   x86_64       baseline x86-64 (SSE2): the portable scalar kernels
//   avx2         x86-64-v3: AVX2 + FMA + F16C + BMI1/2 + LZCNT + MOVBE (Haswell, Zen 1+)
//   avx2_vnni    avx2 + AVX-VNNI (256-bit int8 vpdpbusd; Alder Lake+, Zen 5), for CPUs without
//                AVX-512 (with it, the avx512 sets rank higher)
//   avx512       x86-64-v4: AVX-512 F/BW/VL/DQ/CD (Skylake-X, Zen 4+)
//   avx512_vnni  avx512 + AVX512_VNNI (int8 vpdpbusd; Cascade Lake+)
//   avx512_bf16  avx512_vnni + AVX512_BF16 (bf16 vdpbf16ps; Cooper Lake, Sapphire Rapids, Zen 4+)
//   neon         ARMv8-A Advanced SIMD (the ARM64 baseline)
//   neon_dotprod ARMv8.2-A + dot product (sdot / udot)
//   neon_i8mm    neon_dotprod + int8 matrix multiply (FEAT_I8MM: smmla; Graviton 3, Neoverse V1/N2)
//   neon_bf16    neon_i8mm + bf16 (FEAT_BF16: bfdot; the same CPUs)
#pragma once
#include <string>
#include <vector>

#include "backend/cpu/cpu_features.h"

namespace lastrank::cpu {

enum class KernelSet { x86_64, avx2, avx2_vnni, avx512, avx512_vnni, avx512_bf16, neon, neon_dotprod, neon_i8mm, neon_bf16 };

// The set's name, spelled as its enum value ("avx512_bf16").
const char* kernel_set_name(KernelSet s);

// Every kernel set of this build's architecture, lowest first (x86-64: x86_64, avx2, avx2_vnni,
// avx512, avx512_vnni, avx512_bf16). Start-up picks the last one the CPU runs.
const std::vector<KernelSet>& architecture_kernel_sets();

// The features set s needs that f lacks, space-separated ("avx512_bf16"); empty when f runs s.
std::string missing_features(KernelSet s, const CpuFeatures& f);

// The names of sets, joined by ", ".
std::string kernel_set_names(const std::vector<KernelSet>& sets);

// The set named `name` (any architecture); throws lastrank::Error listing the valid names.
KernelSet parse_kernel_set(const std::string& name);

}  // namespace lastrank::cpu

// The kernel set the compiler's target flags of this translation unit amount to (the -m flags of
// a kernel-set object, or -march=native in a LASTRANK_NATIVE build).
#if defined(__AVX512BF16__) && defined(__AVX512VNNI__) && defined(__AVX512BW__) && defined(__AVX512VL__) && \
    defined(__AVX512DQ__) && defined(__AVX512CD__)
#define LR_TARGET_KERNEL_SET ::lastrank::cpu::KernelSet::avx512_bf16
#elif defined(__AVX512VNNI__) && defined(__AVX512BW__) && defined(__AVX512VL__) && defined(__AVX512DQ__) && \
    defined(__AVX512CD__)
#define LR_TARGET_KERNEL_SET ::lastrank::cpu::KernelSet::avx512_vnni
#elif defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VL__) && defined(__AVX512DQ__) && \
    defined(__AVX512CD__)
#define LR_TARGET_KERNEL_SET ::lastrank::cpu::KernelSet::avx512
#elif defined(__AVX2__) && defined(__FMA__) && defined(__F16C__) && defined(__BMI2__) && defined(__AVXVNNI__)
#define LR_TARGET_KERNEL_SET ::lastrank::cpu::KernelSet::avx2_vnni
#elif defined(__AVX2__) && defined(__FMA__) && defined(__F16C__) && defined(__BMI2__)
#define LR_TARGET_KERNEL_SET ::lastrank::cpu::KernelSet::avx2
#elif defined(__x86_64__)
#define LR_TARGET_KERNEL_SET ::lastrank::cpu::KernelSet::x86_64
#elif defined(__aarch64__) && defined(__ARM_FEATURE_DOTPROD) && defined(__ARM_FEATURE_MATMUL_INT8) && \
    defined(__ARM_FEATURE_BF16_VECTOR_ARITHMETIC)
#define LR_TARGET_KERNEL_SET ::lastrank::cpu::KernelSet::neon_bf16
#elif defined(__aarch64__) && defined(__ARM_FEATURE_DOTPROD) && defined(__ARM_FEATURE_MATMUL_INT8)
#define LR_TARGET_KERNEL_SET ::lastrank::cpu::KernelSet::neon_i8mm
#elif defined(__aarch64__) && defined(__ARM_FEATURE_DOTPROD)
#define LR_TARGET_KERNEL_SET ::lastrank::cpu::KernelSet::neon_dotprod
#elif defined(__aarch64__)
#define LR_TARGET_KERNEL_SET ::lastrank::cpu::KernelSet::neon
#endif
