// CPU feature detection (cpu_features.h). Compiled for the baseline ISA: it only runs CPUID /
// XGETBV (neither is a VEX instruction) and reads their bits.
#include "backend/cpu/cpu_features.h"

#include <cstdint>

#if defined(__x86_64__)
#include <cpuid.h>
#elif defined(__aarch64__)
#include <sys/auxv.h>
#endif

namespace lastrank::cpu {
namespace {

#if defined(__x86_64__)
struct Regs {
  uint32_t a = 0, b = 0, c = 0, d = 0;
};
Regs cpuid(uint32_t leaf, uint32_t sub) {
  Regs r;
  if (!__get_cpuid_count(leaf, sub, &r.a, &r.b, &r.c, &r.d)) return Regs{};
  return r;
}
bool bit(uint32_t reg, int n) { return (reg >> n) & 1u; }

// XCR0, the state components the OS saves on a context switch (valid only when OSXSAVE is set).
uint64_t xgetbv0() {
  uint32_t lo = 0, hi = 0;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return (uint64_t(hi) << 32) | lo;
}

CpuFeatures detect_x86_64() {
  CpuFeatures f;
  const uint32_t max_leaf = cpuid(0, 0).a;
  const Regs l1 = cpuid(1, 0);
  const Regs l7 = max_leaf >= 7 ? cpuid(7, 0) : Regs{};
  const Regs l7s1 = max_leaf >= 7 && l7.a >= 1 ? cpuid(7, 1) : Regs{};
  const Regs e1 = cpuid(0x80000000u, 0).a >= 0x80000001u ? cpuid(0x80000001u, 0) : Regs{};
  f.sse2 = bit(l1.d, 26);
  f.x86_64_v2 = bit(l1.c, 0) && bit(l1.c, 9) && bit(l1.c, 13) && bit(l1.c, 19) && bit(l1.c, 20) && bit(l1.c, 23) &&
                bit(e1.c, 0);
  const bool osxsave = bit(l1.c, 27);
  const uint64_t xcr0 = osxsave ? xgetbv0() : 0;
  f.os_ymm = (xcr0 & 0x6) == 0x6;
  f.os_zmm = f.os_ymm && (xcr0 & 0xe0) == 0xe0;
  f.avx = bit(l1.c, 28);
  f.fma = bit(l1.c, 12);
  f.movbe = bit(l1.c, 22);
  f.f16c = bit(l1.c, 29);
  f.bmi1 = bit(l7.b, 3);
  f.avx2 = bit(l7.b, 5);
  f.bmi2 = bit(l7.b, 8);
  f.lzcnt = bit(e1.c, 5);
  f.avx512f = bit(l7.b, 16);
  f.avx512dq = bit(l7.b, 17);
  f.avx512cd = bit(l7.b, 28);
  f.avx512bw = bit(l7.b, 30);
  f.avx512vl = bit(l7.b, 31);
  f.avx512_vnni = bit(l7.c, 11);
  f.avx_vnni = bit(l7s1.a, 4);
  f.avx512_bf16 = bit(l7s1.a, 5);
  return f;
}
#endif

#if defined(__aarch64__)
// ARM64: the kernel's AT_HWCAP and AT_HWCAP2 bits (Linux arch/arm64 uapi hwcap.h; qemu-user sets
// them from its -cpu model). Every ARMv8-A CPU has Advanced SIMD (HWCAP_ASIMD, bit 1); dot product
// is HWCAP bit 20, int8 matrix multiply (FEAT_I8MM) HWCAP2 bit 13, bf16 (FEAT_BF16) HWCAP2 bit 14.
CpuFeatures detect_arm64() {
  constexpr unsigned long kAsimd = 1ul << 1, kAsimdDp = 1ul << 20, kI8mm = 1ul << 13, kBf16 = 1ul << 14;
  const unsigned long hw = getauxval(AT_HWCAP), hw2 = getauxval(AT_HWCAP2);
  CpuFeatures f;
  f.neon = (hw & kAsimd) != 0;
  f.asimddp = (hw & kAsimdDp) != 0;
  f.i8mm = (hw2 & kI8mm) != 0;
  f.bf16 = (hw2 & kBf16) != 0;
  return f;
}
#endif

CpuFeatures detect() {
#if defined(__x86_64__)
  return detect_x86_64();
#elif defined(__aarch64__)
  return detect_arm64();
#else
  return CpuFeatures{};
#endif
}

}  // namespace

const CpuFeatures& cpu_features() {
  static const CpuFeatures f = detect();
  return f;
}

}  // namespace lastrank::cpu
