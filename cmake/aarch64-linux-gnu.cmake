# Cross build for 64-bit ARM Linux (AWS Graviton, Ampere, Apple silicon in Linux containers) on a
# Debian x86-64 host, with Debian's cross compiler and the arm64 multiarch -dev packages
# (scripts/setup.sh installs both):
#   cmake -S . -B build-aarch64 -G Ninja -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake
# Binaries run through qemu-aarch64-static (CMAKE_CROSSCOMPILING_EMULATOR: ctest and
# gtest_discover_tests use it without any binfmt registration). docs/arm64.md has the details.
#
# The build is portable like the x86-64 one (docs/dispatch.md): baseline armv8-a code plus the
# kernel sets neon (armv8-a), neon_dotprod (armv8.2-a+dotprod, int8 on sdot), neon_i8mm (+i8mm,
# int8 on smmla) and neon_bf16 (+bf16, bf16 on bfdot), chosen at start-up from AT_HWCAP / AT_HWCAP2. LASTRANK_AARCH64_CPU picks
# the CPU qemu emulates: max (default; qemu's every feature, dotprod, i8mm and bf16 included: all
# sets run), neoverse-n1 (Graviton 2, armv8.2-a + dotprod: neon and neon_dotprod) or cortex-a53
# (armv8.0-a: only neon, and an armv8.2 instruction anywhere faults instead of passing unnoticed).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)

set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)

set(LASTRANK_AARCH64_CPU "max" CACHE STRING "CPU qemu emulates for the tests (max, neoverse-n1 or cortex-a53)")
# -march=native means the build machine, which is not the target.
set(LASTRANK_NATIVE OFF CACHE BOOL "Compile for the build machine's CPU (-march=native)" FORCE)

find_program(LASTRANK_QEMU_AARCH64 qemu-aarch64-static)
if(LASTRANK_QEMU_AARCH64)
  # The guest's dynamic loader and libc are the multiarch libc6:arm64 (/lib/ld-linux-aarch64.so.1,
  # installed with the :arm64 libraries), so no -L prefix: with -L /usr/aarch64-linux-gnu (the
  # cross toolchain's libc6-arm64-cross, 2.36-8cross1) qemu 7.2 hung in the first pthread_create.
  set(CMAKE_CROSSCOMPILING_EMULATOR "${LASTRANK_QEMU_AARCH64};-cpu;${LASTRANK_AARCH64_CPU}")
endif()

# Libraries and headers from the arm64 multiarch packages (/usr/lib/aarch64-linux-gnu), never the
# host's; build tools (programs) from the host.
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)
set(ENV{PKG_CONFIG_LIBDIR} "/usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig")
set(ENV{PKG_CONFIG_PATH} "")
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
