# The AArch64 counterpart of tests/cli/isa_leak.sh (docs/dispatch.md, docs/arm64.md): disassembles a
# cross-built `lastrank` with aarch64-linux-gnu-objdump and checks, per function, that no
# instruction needs more than its kernel set has (by name: tests/cli/kernel_set_of.awk):
#   sdot / udot (dotprod)                                 only in neon_dotprod and above,
#   smmla / ummla / usmmla / usdot / sudot (i8mm)        only in neon_i8mm and above,
#   bfdot / bfmmla / bfmlal[bt] / bfcvt* (bf16)          only in neon_bf16.
# Baseline code (outside every set), static initializers and the neon set may use none of them.
# It also fails if neon_dotprod holds no sdot, neon_i8mm no smmla or neon_bf16 no bfdot (the check
# would be blind).
# The Cortex-A53 stage of scripts/test_aarch64.sh is the run-time check of the same rule for dotprod.
# Args: LASTRANK_BIN (an aarch64 build). Exit 77 (skip) without aarch64-linux-gnu-objdump.
set -u
BIN=$1
OBJDUMP=aarch64-linux-gnu-objdump
if ! command -v "$OBJDUMP" >/dev/null; then echo "SKIP: $OBJDUMP (binutils-aarch64-linux-gnu) not installed"; exit 77; fi
# The native ctest suite runs every tests/cli script on its own build: only an AArch64 ELF
# (e_machine 0xb7 at byte 18) is checked here; scripts/test_aarch64.sh passes the cross build.
if [ "$(od -An -j18 -N2 -tx2 "$BIN" 2>/dev/null | tr -d ' ')" != 00b7 ]; then
  echo "SKIP: $BIN is not an AArch64 binary (scripts/test_aarch64.sh runs this on the cross build)"; exit 77
fi
"$OBJDUMP" -d --no-show-raw-insn "$BIN" | awk -f "$(dirname "$0")/kernel_set_of.awk" -f <(cat <<'AWK'
  BEGIN {
    rank["neon"] = 0; rank["neon_dotprod"] = 1; rank["neon_i8mm"] = 2; rank["neon_bf16"] = 3
    need_name[1] = "dotprod"; need_name[2] = "i8mm"; need_name[3] = "bf16"
  }
  /^[0-9a-f]+ <.*>:$/ {
    fn = function_name($0)
    set = kernel_set_of(fn)
    if (!(set in rank) || fn ~ /_GLOBAL__(sub_)?I_/) set = "baseline"
    next
  }
  !/^ +[0-9a-f]+:\t/ { next }
  {
    insn = substr($0, index($0, "\t") + 1)
    op = insn; sub(/[ \t].*/, "", op)
    need = 0
    if (op ~ /^[su]dot$/) need = 1
    else if (op ~ /^(smmla|ummla|usmmla|usdot|sudot)$/) need = 2
    else if (op ~ /^(bfdot|bfmmla|bfmlalb|bfmlalt|bfcvt|bfcvtn|bfcvtn2)$/) need = 3
    if (need == 0) next
    count[set, op]++
    have = set == "baseline" ? 0 : rank[set]
    if (need > have && !(fn in seen)) {
      seen[fn] = 1; leaks++
      if (leaks <= 20) printf "LEAK %s (%s): %s needs %s\n", fn, set, insn, need_name[need] | "c++filt"
    }
  }
  END {
    close("c++filt")
    if (leaks > 0) { printf "%d function(s) use instructions beyond their kernel set (baseline: armv8-a)\n", leaks; exit 1 }
    if (count["neon_dotprod", "sdot"] == 0 || count["neon_i8mm", "smmla"] == 0 || count["neon_bf16", "bfdot"] == 0) {
      print "no sdot in neon_dotprod, smmla in neon_i8mm or bfdot in neon_bf16: sets missing or not recognized"; exit 1
    }
    printf "no dotprod / i8mm / bf16 instructions below their kernel sets (%d sdot in neon_dotprod, %d smmla in neon_i8mm, %d bfdot in neon_bf16)\n",
      count["neon_dotprod", "sdot"], count["neon_i8mm", "smmla"], count["neon_bf16", "bfdot"]
  }
AWK
)
