// What this CPU (and its OS) can run: the instruction-set extensions the kernel sets need
// (kernel_set.h), detected once at start-up. x86-64: CPUID plus XGETBV (the OS must save the
// ymm / zmm / opmask state, else AVX code faults even on a CPU that has it). ARM64: the AT_HWCAP
// and AT_HWCAP2 bits of getauxval (asimd, asimddp, i8mm, bf16).
#pragma once
namespace lastrank::cpu {

struct CpuFeatures {
  // x86-64 (field names are the Linux /proc/cpuinfo flag names, which also name a missing one).
  bool sse2 = false;
  bool x86_64_v2 = false;  // cx16 lahf_lm popcnt sse3 ssse3 sse4_1 sse4_2
  bool avx = false, avx2 = false, fma = false, f16c = false, bmi1 = false, bmi2 = false, lzcnt = false,
       movbe = false;
  bool os_ymm = false;  // XCR0: SSE + AVX state
  bool avx512f = false, avx512bw = false, avx512vl = false, avx512dq = false, avx512cd = false;
  bool os_zmm = false;  // XCR0: opmask + ZMM_Hi256 + Hi16_ZMM state
  bool avx512_vnni = false, avx512_bf16 = false, avx_vnni = false;
  // ARM64.
  bool neon = false, asimddp = false, i8mm = false, bf16 = false;
};

// The features of the running CPU (detected on first use, then cached).
const CpuFeatures& cpu_features();

}  // namespace lastrank::cpu
