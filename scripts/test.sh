#!/usr/bin/env bash
# The test command (README.md). On a fresh machine it installs what is missing (scripts/setup.sh),
# then runs:
#   1. the release build's ctest suite (unit, golden vs HF fixtures, tokenizer parity, CLI, server);
#      then the same release binary's golden reranks on emulated older CPUs (qemu, label qemu);
#   2. an ASan+UBSan build running the same suite again (tests labelled nosan excepted);
#   3. the AArch64 cross build's unit and golden tests under qemu (scripts/test_aarch64.sh);
#   4. every libFuzzer target for a bounded time (LASTRANK_FUZZ_SECONDS, default 20 each: 8 targets,
#      one per core at a time; longer runs are for development, docs/DEVELOPERS.md).
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
cd "$REPO"
JOBS=$(nproc)
# Each stage's wall time, so a CI log shows where its ~45 minutes go.
stage_start=$(date +%s)
stage() {
  local now; now=$(date +%s)
  echo "   (previous stage: $((now - stage_start)) s)"
  stage_start=$now
  echo "== $*"
}

stage "setup (scripts/setup.sh)"
bash scripts/setup.sh
stage "release tests"
ctest --test-dir build --output-on-failure -j"$JOBS" --timeout 900 -LE qemu

stage "release binary on emulated Haswell (avx2) and Nehalem (x86_64) CPUs"
ctest --test-dir build --output-on-failure --timeout 1200 -L qemu

stage "AArch64 cross build, tests under qemu (docs/arm64.md)"
bash scripts/test_aarch64.sh --required

stage "ASan+UBSan tests (same suite; labels nosan excluded)"
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLASTRANK_SANITIZE=ON >/dev/null
cmake --build build-asan -j"$JOBS"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan --output-on-failure -j"$JOBS" --timeout 900 -LE nosan

stage "fuzz (libFuzzer, clang)"
CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLASTRANK_FUZZ=ON >/dev/null
cmake --build build-fuzz -j"$JOBS"
secs=${LASTRANK_FUZZ_SECONDS:-20}
# One target for secs seconds; prints one line, and the log's tail when it found something.
fuzz_one() {
  local f=$1 secs=$2 name corpus seeds
  name=$(basename "$f")
  corpus="build-fuzz/corpus-$name"; mkdir -p "$corpus"
  seeds="tests/fuzz/seeds/$name"; [ -d "$seeds" ] || seeds=""
  if "$f" -max_total_time="$secs" -rss_limit_mb=4096 -artifact_prefix="build-fuzz/$name-" -print_final_stats=0 \
      "$corpus" $seeds >"build-fuzz/$name.log" 2>&1; then
    echo "fuzz $name: clean for ${secs}s ($(grep -c '^#' "build-fuzz/$name.log" || true) status lines)"
  else
    { echo "fuzz $name: FAILED"; tail -40 "build-fuzz/$name.log"; } | sed "s/^/[$name] /"
    return 1
  fi
}
export -f fuzz_one
# Each target is one process on one core: as many at once as there are cores.
fuzz_fail=0
find build-fuzz -maxdepth 1 -name 'fuzz_*' -type f -executable -print0 | sort -z |
  xargs -0 -P "$JOBS" -I{} bash -c 'fuzz_one "$1" "$2"' _ {} "$secs" || fuzz_fail=1
stage "done"
exit $fuzz_fail
