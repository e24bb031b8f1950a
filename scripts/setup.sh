#!/usr/bin/env bash
# Installs every Debian package the build, tests and tools need, fetches the tokenizer data,
# and builds lastrank into build/. Idempotent. Run as root on Debian 12 (bookworm).
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
PKGS="build-essential cmake ninja-build ccache pkg-config git ca-certificates python3 nodejs npm
      nlohmann-json3-dev libxxhash-dev libboost1.81-dev libcpp-httplib-dev libcli11-dev libutf8proc-dev
      libgtest-dev libgmock-dev libbenchmark-dev clang libclang-rt-14-dev curl strace binutils qemu-user-static
      python3-yaml haproxy pybind11-dev python3-dev python3-numpy python3-pytest
      g++-aarch64-linux-gnu
      libc6:arm64 libutf8proc-dev:arm64 libgtest-dev:arm64 libgmock-dev:arm64 libcpp-httplib-dev:arm64"
# The opt-in container test (LASTRANK_CONTAINER_TEST=1, deploy/README.md) needs an engine and debootstrap.
if [ "${LASTRANK_CONTAINER_TEST:-0}" = 1 ]; then PKGS="$PKGS docker.io debootstrap"; fi
# The AArch64 cross build (cmake/aarch64-linux-gnu.cmake, scripts/test_aarch64.sh) links the arm64
# builds of the libraries above (multiarch); nlohmann-json and CLI11 are header-only (Multi-Arch: foreign).
dpkg --print-foreign-architectures | grep -qx arm64 || dpkg --add-architecture arm64
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
# node/npm may come from another source (nodesource) on some machines: accept any working npm.
if command -v npm >/dev/null; then missing=$(echo "$missing" | tr ' ' '\n' | grep -vxE 'nodejs|npm' | tr '\n' ' '); fi
if [ -n "${missing// /}" ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # shellcheck disable=SC2086
  apt-get install -y -qq --no-install-recommends $missing
fi
bash "$REPO/scripts/fetch_tokenizer.sh"
cmake -S "$REPO" -B "$REPO/build" -G Ninja -DCMAKE_BUILD_TYPE=Release
cmake --build "$REPO/build" -j"$(nproc)"
# `import lastrank` for the python3 on PATH and /usr/bin/python3 (docs/library.md).
bash "$REPO/scripts/install_python.sh" "$REPO/build"
# The library for C and C++ programs (docs/library.md): liblastrank.so, include/lastrank/, lastrank.pc for
# pkg-config and the CMake package (find_package(lastrank)), plus the CLI, under /usr/local.
cmake --install "$REPO/build" --prefix /usr/local >/dev/null
ldconfig
