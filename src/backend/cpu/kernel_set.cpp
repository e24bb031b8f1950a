// Kernel set names and what each needs from the CPU (kernel_set.h).
#include "backend/cpu/kernel_set.h"

#include <iterator>

#include "core/error.h"

namespace lastrank::cpu {
namespace {

constexpr KernelSet kAllSets[] = {KernelSet::x86_64,      KernelSet::avx2,        KernelSet::avx2_vnni,
                                  KernelSet::avx512,      KernelSet::avx512_vnni, KernelSet::avx512_bf16,
                                  KernelSet::neon,        KernelSet::neon_dotprod, KernelSet::neon_i8mm,
                                  KernelSet::neon_bf16};

struct Need {
  bool have;
  const char* name;  // the /proc/cpuinfo flag, or the XCR0 state the OS must enable
};

// What set s needs, including everything the sets below it need; avx2_vnni is a side branch:
// the avx512 sets above it do not need AVX-VNNI (they have AVX512_VNNI or no VNNI at all).
std::vector<Need> needs(KernelSet s, const CpuFeatures& f) {
  std::vector<Need> n;
  auto x86 = [&](KernelSet level) { return s >= level && s <= KernelSet::avx512_bf16; };
  if (x86(KernelSet::x86_64)) n.push_back({f.sse2, "sse2"});
  if (x86(KernelSet::avx2)) {
    n.insert(n.end(), {{f.x86_64_v2, "x86-64-v2 (sse4_2 popcnt cx16)"},
                       {f.avx, "avx"},
                       {f.avx2, "avx2"},
                       {f.fma, "fma"},
                       {f.f16c, "f16c"},
                       {f.bmi1, "bmi1"},
                       {f.bmi2, "bmi2"},
                       {f.lzcnt, "lzcnt"},
                       {f.movbe, "movbe"},
                       {f.os_ymm, "OS ymm state (XCR0)"}});
  }
  if (s == KernelSet::avx2_vnni) n.push_back({f.avx_vnni, "avx_vnni"});
  if (x86(KernelSet::avx512)) {
    n.insert(n.end(), {{f.avx512f, "avx512f"},
                       {f.avx512bw, "avx512bw"},
                       {f.avx512vl, "avx512vl"},
                       {f.avx512dq, "avx512dq"},
                       {f.avx512cd, "avx512cd"},
                       {f.os_zmm, "OS zmm/opmask state (XCR0)"}});
  }
  if (x86(KernelSet::avx512_vnni)) n.push_back({f.avx512_vnni, "avx512_vnni"});
  if (x86(KernelSet::avx512_bf16)) n.push_back({f.avx512_bf16, "avx512_bf16"});
  if (s >= KernelSet::neon) n.push_back({f.neon, "neon"});
  if (s >= KernelSet::neon_dotprod) n.push_back({f.asimddp, "asimddp"});
  if (s >= KernelSet::neon_i8mm) n.push_back({f.i8mm, "i8mm"});
  if (s >= KernelSet::neon_bf16) n.push_back({f.bf16, "bf16"});
  return n;
}

}  // namespace

const char* kernel_set_name(KernelSet s) {
  switch (s) {
    case KernelSet::x86_64: return "x86_64";
    case KernelSet::avx2: return "avx2";
    case KernelSet::avx2_vnni: return "avx2_vnni";
    case KernelSet::avx512: return "avx512";
    case KernelSet::avx512_vnni: return "avx512_vnni";
    case KernelSet::avx512_bf16: return "avx512_bf16";
    case KernelSet::neon: return "neon";
    case KernelSet::neon_dotprod: return "neon_dotprod";
    case KernelSet::neon_i8mm: return "neon_i8mm";
    case KernelSet::neon_bf16: return "neon_bf16";
  }
  return "unknown";
}

const std::vector<KernelSet>& architecture_kernel_sets() {
#if defined(__aarch64__)
  static const std::vector<KernelSet> sets = {KernelSet::neon, KernelSet::neon_dotprod, KernelSet::neon_i8mm,
                                              KernelSet::neon_bf16};
#else
  static const std::vector<KernelSet> sets = {KernelSet::x86_64,      KernelSet::avx2,
                                              KernelSet::avx2_vnni,   KernelSet::avx512,
                                              KernelSet::avx512_vnni, KernelSet::avx512_bf16};
#endif
  return sets;
}

std::string missing_features(KernelSet s, const CpuFeatures& f) {
  std::string out;
  for (const Need& n : needs(s, f))
    if (!n.have) out += (out.empty() ? "" : " ") + std::string(n.name);
  return out;
}

std::string kernel_set_names(const std::vector<KernelSet>& sets) {
  std::string s;
  for (KernelSet k : sets) s += (s.empty() ? "" : ", ") + std::string(kernel_set_name(k));
  return s;
}

KernelSet parse_kernel_set(const std::string& name) {
  for (KernelSet s : kAllSets)
    if (name == kernel_set_name(s)) return s;
  fail("unknown kernel set \"", name, "\"; valid names: ",
       kernel_set_names(std::vector<KernelSet>(std::begin(kAllSets), std::end(kAllSets))));
}

}  // namespace lastrank::cpu
