# No SIMD code leaks out of the kernel sets, nor a higher set's instructions into a lower set
# (docs/dispatch.md): disassembles the `lastrank` binary and, per function, checks what its kernel
# set (by name: tests/cli/kernel_set_of.awk) may hold:
#  - baseline code (outside every set) and the x86_64 set: nothing beyond baseline x86-64, i.e. no
#    VEX/EVEX encodings (v-prefixed SSE/AVX mnemonics, ymm/zmm/k registers, the BMI1/BMI2 VEX
#    integer ops) and no MOVBE / LZCNT. Such a function could run on a CPU without them (SIGILL).
#    Static initializers are never allowed SIMD (they run on every CPU). CPUID and XGETBV, which the
#    feature detection runs, are baseline instructions.
#  - avx2 and avx2_vnni: no AVX-512 (zmm or opmask registers, {evex}); avx2 also no VNNI
#    (vpdpbusd / vpdpwssd) and no AVX512_BF16 (vdpbf16ps, vcvtne2ps2bf16).
#  - avx512, avx512_vnni, avx512_bf16 and a native build's set: not checked here.
# Args: LASTRANK_BIN MODELS_DIR SOURCE_DIR. Exit 77 (ctest SKIP) where it cannot apply.
set -u
BIN=$1
if [ "$(uname -m)" != x86_64 ]; then echo "SKIP: x86-64 only (this is $(uname -m))"; exit 77; fi
if ! command -v objdump >/dev/null; then echo "SKIP: objdump (binutils) not installed"; exit 77; fi
if "$BIN" --version | grep -q '^build: native'; then
  echo "SKIP: a LASTRANK_NATIVE build compiles everything for this CPU (-march=native)"; exit 77
fi
objdump -d --no-show-raw-insn "$BIN" | awk -f "$(dirname "$0")/kernel_set_of.awk" -f <(cat <<'AWK'
  /^[0-9a-f]+ <.*>:$/ {
    fn = function_name($0)
    set = kernel_set_of(fn)
    if (set !~ /^(avx2|avx2_vnni|avx512|avx512_vnni|avx512_bf16|native)$/) set = "baseline"  # x86_64 too
    if (fn ~ /_GLOBAL__(sub_)?I_/) set = "baseline"  # static initializers run on every CPU
    next
  }
  !/^ +[0-9a-f]+:\t/ { next }
  set == "baseline" || set == "avx2" || set == "avx2_vnni" {
    insn = substr($0, index($0, "\t") + 1)
    n = split(insn, tok, /[ \t]+/)
    i = 1
    while (i < n && tok[i] ~ /^(rep|repz|repe|repnz|repne|lock|notrack|bnd|data16|addr32|cs|ds|es|ss|fs|gs|rex.*|\{vex\}|\{evex\})$/) i++
    op = tok[i]
    if (set == "baseline")
      bad = (op ~ /^v/ && op !~ /^ver[rw]$/) || op ~ /^(andn|bextr|blsi|blsmsk|blsr|bzhi|mulx|pdep|pext|rorx|sarx|shlx|shrx|movbe|lzcnt)$/ \
            || insn ~ /%[yz]mm[0-9]|%k[0-7]([^0-9]|$)|\{(vex|evex)\}/
    else
      bad = insn ~ /%zmm[0-9]|%[xy]mm(1[6-9]|2[0-9]|3[01])|%k[0-7]([^0-9]|$)|\{evex\}/ \
            || (set == "avx2" && op ~ /^(vpdpbusds?|vpdpwssds?|vdpbf16ps|vcvtne2ps2bf16|vcvtneps2bf16)$/)
    if (bad && !(fn in seen)) { seen[fn] = 1; leaks++; if (leaks <= 20) printf "LEAK %s (%s): %s\n", fn, set, insn | "c++filt" }
  }
  END {
    close("c++filt")
    if (leaks > 0) { printf "%d function(s) use instructions beyond their kernel set (baseline: x86-64)\n", leaks; exit 1 }
    print "no SIMD instructions outside the kernel sets, no AVX-512 in avx2 / avx2_vnni, no VNNI in avx2"
  }
AWK
)
