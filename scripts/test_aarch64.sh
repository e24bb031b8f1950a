#!/usr/bin/env bash
# AArch64 correctness under emulation (docs/arm64.md): cross-builds lastrank with Debian's
# aarch64-linux-gnu toolchain (cmake/aarch64-linux-gnu.cmake) and runs the tests of the cross-built
# binaries under qemu-aarch64-static:
#   1. build-aarch64, emulated as qemu's `max` CPU (dotprod, i8mm and bf16: every kernel set runs):
#      the unit tests (kernels vs their scalar references, int8 exactness, on each of
#      neon_dotprod, neon_i8mm and neon_bf16) and the golden tests (tiny fixture checkpoints vs
#      the HF reference scores in tests/data/golden); before them tests/cli/isa_leak_aarch64.sh
#      checks the binary for instructions outside their kernel set. The tests parameterized on
#      the neon set are left to stage 2, which runs them all (emulated time is most of CI's);
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
# run_ctest DIR [EXCLUDE]: the unit and golden tests of the built test binaries (unbuilt ones carry
# no label) but those matching EXCLUDE, under qemu (CMAKE_CROSSCOMPILING_EMULATOR); ctest adds the
# fixture generator they need.
run_ctest() {
  ctest --test-dir "$1" --output-on-failure -j"$JOBS" --timeout 1800 -E "$SKIP_REGEX${2:+|$2}" -L 'unit|golden'
}
# The tests of one kernel set by name: gtest_discover_tests appends "  # GetParam() = ..." to a
# parameterized test's name, whose last part is the set ("/neon", "_neon" after a case name).
set_tests() { echo "[/_]$1  # GetParam"; }

start=$(date +%s)
echo "== aarch64 (qemu max: neon, neon_dotprod, neon_i8mm, neon_bf16): build"
# shellcheck disable=SC2086
build build-aarch64 max lastrank $TEST_TARGETS
echo "== aarch64: kernel-set instructions (tests/cli/isa_leak_aarch64.sh)"
bash tests/cli/isa_leak_aarch64.sh build-aarch64/lastrank
# The two large golden cases are left out of this stage but for one run: the long multilingual
# list on neon_bf16, the set that holds both sdot/smmla int8 and bfdot. The 130-document
# multi-block list tests the block split and merge, which no kernel set or CPU changes: it runs in
# the native suite (scripts/test.sh) and not here (3.5 emulated minutes on neon alone, on an AMD
# Zen 1, the longest test of stage 2 and its critical path). Every set runs the small golden
# cases, and its kernels are compared with the scalar references at every size in the unit tests.
LARGE_CASES='(multi_block_130_neon_(dotprod|i8mm|bf16)|defaults_long_multilingual_neon_(dotprod|i8mm))  # GetParam'
echo "== aarch64 (max): unit + golden tests under qemu, but those of the neon set (stage 2 runs them)"
run_ctest build-aarch64 "$(set_tests neon)|$LARGE_CASES"
mid=$(date +%s)

echo "== aarch64 baseline (qemu cortex-a53: neon only): the same build, another emulated CPU"
# shellcheck disable=SC2086
build build-aarch64 cortex-a53 lastrank $TEST_TARGETS
echo "== aarch64 baseline (cortex-a53): unit + golden tests under qemu, but the multi-block list"
run_ctest build-aarch64 'multi_block_130_neon  # GetParam'
end=$(date +%s)
echo "test_aarch64: passed (max build + tests $((mid - start)) s, cortex-a53 $((end - mid)) s)"
