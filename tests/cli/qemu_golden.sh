#!/usr/bin/env bash
# The portable `lastrank` binary on older CPUs, emulated by qemu user mode (Debian
# qemu-user-static): under `-cpu Haswell` it must pick the avx2 kernel set and under `-cpu Nehalem`
# the x86_64 one (`lastrank --version`), and its rerank output on small golden cases must meet the
# golden rule (tests/golden/rerank_golden_test.cpp, RerankGoldenCli: the gtest runs this same
# binary under LASTRANK_GOLDEN_RUNNER="qemu-x86_64-static -cpu <model>").
# Args: LASTRANK_BIN MODELS_DIR SOURCE_DIR. Exit 77 (ctest SKIP) where it cannot apply.
set -u
BIN=$1
QEMU=${QEMU_X86_64:-qemu-x86_64-static}
GOLDEN_TEST=$(dirname "$BIN")/rerank_golden_test
# qemu is slow: the smallest cases (one with embeddings, one GQA model).
CASES=${LASTRANK_QEMU_CASES:-single_doc:special_tokens}
skip() { echo "SKIP: $*"; exit 77; }
[ "$(uname -m)" = x86_64 ] || skip "x86-64 only (this is $(uname -m))"
command -v "$QEMU" >/dev/null || skip "$QEMU not installed (Debian package qemu-user-static; scripts/setup.sh)"
[ -x "$GOLDEN_TEST" ] || skip "no rerank_golden_test next to $BIN"
objdump -p "$BIN" 2>/dev/null | grep -q 'NEEDED.*lib[at]san' && skip "sanitizer builds do not run under qemu user mode"
"$BIN" --version | grep -q '^build: native' && skip "a LASTRANK_NATIVE build runs only on the CPU it was built for"

fails=0
for pair in Haswell:avx2 Nehalem:x86_64; do
  cpu=${pair%%:*} want=${pair##*:}
  got=$("$QEMU" -cpu "$cpu" "$BIN" --version | sed -n 's/^kernel_set: //p')
  if [ "$got" = "$want" ]; then echo "ok: -cpu $cpu runs kernel set $got"; else
    echo "FAIL: -cpu $cpu runs kernel set '$got', want $want"; fails=$((fails + 1)); fi
  filter=$(echo "$CASES" | tr ':' '\n' | sed 's|^|Cases/RerankGoldenCli.MatchesReference/|' | paste -sd: -)
  if LASTRANK_GOLDEN_RUNNER="$QEMU -cpu $cpu" "$GOLDEN_TEST" --gtest_filter="$filter" --gtest_brief=1; then
    echo "ok: golden reranks under -cpu $cpu"
  else
    echo "FAIL: golden reranks under -cpu $cpu"; fails=$((fails + 1))
  fi
done
[ $fails -eq 0 ]
