// Which kernel set runs (kernel_set.h): chosen once from the CPU's features, overridable with the
// environment variable LASTRANK_ISA=<set> (a set this CPU runs, e.g. avx2 on an AVX-512 machine)
// or, for tests and benches, use_kernel_set(). docs/dispatch.md.
#pragma once
#include <vector>

#include "backend/cpu/kernel_set.h"
#include "backend/cpu/kernel_table.h"

namespace lastrank::cpu {

// The kernel sets compiled into this binary, lowest first (a LASTRANK_NATIVE build: one, its target).
const std::vector<KernelSet>& compiled_kernel_sets();

// The compiled sets this CPU runs, lowest first.
std::vector<KernelSet> supported_kernel_sets();

// Why this CPU cannot run the compiled set s ("not compiled into this build" or the missing
// features); empty when it can.
std::string kernel_set_unavailable(KernelSet s);

// The set in use: the last use_kernel_set(), else LASTRANK_ISA, else the best supported set.
// Throws lastrank::Error when LASTRANK_ISA names an unknown or unavailable set.
KernelSet active_kernel_set();
const KernelTable& active_kernels();

// The table of set s; throws lastrank::Error (naming what is missing) if it is unavailable.
const KernelTable& kernels_of(KernelSet s);

// Runs set s from now on (process-wide; call it before starting work, not during).
void use_kernel_set(KernelSet s);

// Whether this is a LASTRANK_NATIVE (-march=native) build.
bool native_build();

// What `lastrank --version` prints about the kernels, one "key: value" per line:
//   kernel_set: avx512_bf16
//   supported: x86_64, avx2, avx2_vnni, avx512, avx512_vnni, avx512_bf16   (compiled sets this CPU runs)
//   build: portable (x86_64, avx2, ...; LASTRANK_ISA=<set> forces one) | native (-march=native)
// Throws lastrank::Error like active_kernel_set().
std::string kernel_set_summary();

}  // namespace lastrank::cpu
