#!/usr/bin/env bash
# AArch64 correctness under emulation (docs/arm64.md): cross-builds lastrank with Debian's
# aarch64-linux-gnu toolchain (cmake/aarch64-linux-gnu.cmake) and runs the tests of the cross-built
# binaries under qemu-aarch64-static:
#   1. build-aarch64, emulated Neoverse N1 (armv8.2-a + dotprod): the unit tests (kernels vs their
#      scalar references, int8 exactness, on both kernel sets neon and neon_dotprod) and the golden
#      tests (tiny fixture checkpoints vs the HF reference scores in tests/data/golden);
#   2. the same binaries emulated as a Cortex-A53 (armv8.0-a, no dotprod: only the neon set runs,
#      and a stray armv8.2 instruction faults): the same unit and golden tests. The build is
#      portable, so only the emulator changes (CMake reconfigures the tree; nothing recompiles).
# The CLI, server and tokenizer-parity suites are left to the native run (scripts/test.sh): they
# test no ISA-specific code and cost most of the emulated time.
#   bash scripts/test_aarch64.sh             skips (exit 0) with a message if the toolchain is missing
#   bash scripts/test_aarch64.sh --required  fails instead (CI: scripts/setup.sh installs it)
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
cd "$REPO"
required=0
[ "${1:-}" = "--required" ] && required=1

missing=""
for tool in aarch64-linux-gnu-g++ qemu-aarch64-static; do
  command -v "$tool" >/dev/null || missing="$missing $tool"
done
for lib in libutf8proc.so libgtest.a libcpp-httplib.so; do
  [ -e "/usr/lib/aarch64-linux-gnu/$lib" ] || missing="$missing $lib:arm64"
done
if [ -n "$missing" ]; then
  if [ "$required" = 1 ]; then
    echo "test_aarch64: FAILED: the AArch64 cross toolchain is incomplete (missing:$missing); scripts/setup.sh installs it" >&2
    exit 1
  fi
  echo "test_aarch64: SKIPPED: missing$missing (bash scripts/setup.sh installs the cross toolchain)"
  exit 0
fi

JOBS=$(nproc)
TEST_TARGETS=$(for f in tests/unit/*_test.cpp tests/golden/*_test.cpp; do basename "$f" .cpp; done)
# The emulated suites: every unit and golden test except tokenizer parity (a large corpus, no
# ISA-specific code; tokenizer_test covers the tokenizer under emulation).
SKIP_REGEX='^TokenizerParity\.'

# build DIR QEMU_CPU TARGETS...: configure and build the fixture generator and the given targets.
build() {
  local dir=$1 cpu=$2
  shift 2
  cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake \
    -DLASTRANK_AARCH64_CPU="$cpu" >/dev/null
  cmake --build "$dir" -j"$JOBS" --target make_checkpoint "$@"
}
# The unit and golden tests of the built test binaries (unbuilt ones carry no label), under qemu
# (CMAKE_CROSSCOMPILING_EMULATOR); ctest adds the fixture generator they need.
run_ctest() {
  ctest --test-dir "$1" --output-on-failure -j"$JOBS" --timeout 1800 -E "$SKIP_REGEX" -L 'unit|golden'
}

start=$(date +%s)
echo "== aarch64 (qemu neoverse-n1: neon + neon_dotprod): build"
# shellcheck disable=SC2086
build build-aarch64 neoverse-n1 lastrank $TEST_TARGETS
echo "== aarch64 (neoverse-n1): unit + golden tests under qemu"
run_ctest build-aarch64
mid=$(date +%s)

echo "== aarch64 baseline (qemu cortex-a53: neon only): the same build, another emulated CPU"
# shellcheck disable=SC2086
build build-aarch64 cortex-a53 lastrank $TEST_TARGETS
echo "== aarch64 baseline (cortex-a53): unit + golden tests under qemu"
run_ctest build-aarch64
end=$(date +%s)
echo "test_aarch64: passed (neoverse-n1 build + tests $((mid - start)) s, cortex-a53 $((end - mid)) s)"
