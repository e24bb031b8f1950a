#!/usr/bin/env bash
# No SIMD code leaks out of the kernel sets (docs/dispatch.md): disassembles the `lastrank` binary
# and fails if any function outside the kernel-set namespaces lastrank::cpu::<set>:: (mangled
# _ZN8lastrank3cpu<len><set>..., also _ZNK / _ZZN for const members and lambdas) and the kernel-set
# objects' local copies (named kernel_set.<set>.*, cmake/localize_kernel_set.cmake) holds an instruction beyond
# baseline x86-64: VEX/EVEX encodings (v-prefixed SSE/AVX mnemonics, ymm/zmm/k registers, the
# BMI1/BMI2 VEX integer ops) or MOVBE / LZCNT. Such a function could run on a CPU without them
# (SIGILL). Static initializers are never allowed (they run on every CPU). CPUID and XGETBV, which
# the feature detection runs, are baseline instructions.
# Args: LASTRANK_BIN MODELS_DIR SOURCE_DIR. Exit 77 (ctest SKIP) where it cannot apply.
set -u
BIN=$1
if [ "$(uname -m)" != x86_64 ]; then echo "SKIP: x86-64 only (this is $(uname -m))"; exit 77; fi
if ! command -v objdump >/dev/null; then echo "SKIP: objdump (binutils) not installed"; exit 77; fi
if "$BIN" --version | grep -q '^build: native'; then
  echo "SKIP: a LASTRANK_NATIVE build compiles everything for this CPU (-march=native)"; exit 77
fi
objdump -d --no-show-raw-insn "$BIN" | awk '
  /^[0-9a-f]+ <.*>:$/ {
    fn = substr($0, index($0, "<") + 1); fn = substr(fn, 1, length(fn) - 2)
    allowed = fn ~ /^_Z[NKZ]+8lastrank3cpu(6x86_64|4avx2|6avx512|11avx512_vnni|11avx512_bf16|6native)/ || fn ~ /^kernel_set\./
    if (fn ~ /_GLOBAL__(sub_)?I_/) allowed = 0  # static initializers run on every CPU
    next
  }
  allowed || !/^ +[0-9a-f]+:\t/ { next }
  {
    insn = substr($0, index($0, "\t") + 1)
    n = split(insn, tok, /[ \t]+/)
    i = 1
    while (i < n && tok[i] ~ /^(rep|repz|repe|repnz|repne|lock|notrack|bnd|data16|addr32|cs|ds|es|ss|fs|gs|rex.*)$/) i++
    op = tok[i]
    bad = (op ~ /^v/ && op !~ /^ver[rw]$/) || op ~ /^(andn|bextr|blsi|blsmsk|blsr|bzhi|mulx|pdep|pext|rorx|sarx|shlx|shrx|movbe|lzcnt)$/ \
          || insn ~ /%[yz]mm[0-9]|%k[0-7]([^0-9]|$)|\{(vex|evex)\}/
    if (bad && !(fn in seen)) { seen[fn] = 1; leaks++; if (leaks <= 20) printf "LEAK %s: %s\n", fn, insn | "c++filt" }
  }
  END {
    close("c++filt")
    if (leaks > 0) { printf "%d function(s) outside the kernel sets use instructions beyond x86-64\n", leaks; exit 1 }
    print "no SIMD instructions outside the kernel sets"
  }'
