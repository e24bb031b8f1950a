# Kernel sets (src/backend/cpu/kernel_set.h, docs/dispatch.md). The SIMD kernel TUs are compiled
# once per kernel set of the target architecture, each as an OBJECT library with that set's -m
# flags and -DLR_KERNEL_SET=<set> (their code lives in namespace lastrank::cpu::<set>); the
# program picks one set at start-up from CPUID. A LASTRANK_NATIVE build compiles one set, "native"
# (-march=native, like the rest of that build).
#
# Each set's objects are then merged into one relocatable object (cmake/localize_kernel_set.cmake)
# whose symbols outside lastrank::cpu::<set> are made local: the std / core templates a kernel TU
# instantiates (std::vector<float>::resize, ...) are compiled with that set's flags, and as ordinary
# weak symbols the linker could pick that copy for every caller, baseline code included (SIGILL on
# an older CPU). tests/cli/isa_leak.sh checks the linked binary for such leaks.
#
# In:  LASTRANK_NATIVE. Out: LASTRANK_KERNEL_SRC (to leave out of the library's own sources),
#      LASTRANK_KERNEL_OBJECTS (the merged objects, to add to it), LASTRANK_GENERATED_DIR
#      (include dir of backend/cpu/kernel_sets_compiled.h).
set(LASTRANK_KERNEL_SRC
  ${CMAKE_SOURCE_DIR}/src/backend/cpu/attention.cpp
  ${CMAKE_SOURCE_DIR}/src/backend/cpu/fma_probe.cpp
  ${CMAKE_SOURCE_DIR}/src/backend/cpu/gemm_f32.cpp
  ${CMAKE_SOURCE_DIR}/src/backend/cpu/gemm_int8.cpp
  ${CMAKE_SOURCE_DIR}/src/backend/cpu/ops.cpp)

if(LASTRANK_NATIVE)
  set(LASTRANK_KERNEL_SETS native)
  set(LASTRANK_KERNEL_FLAGS_native "")  # -march=native is already on every TU
elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "^(x86_64|AMD64|amd64)$")
  set(LASTRANK_KERNEL_SETS x86_64 avx2 avx2_vnni avx512 avx512_vnni avx512_bf16)
  set(LASTRANK_KERNEL_FLAGS_x86_64 "")
  set(LASTRANK_KERNEL_FLAGS_avx2 -march=x86-64-v3)
  set(LASTRANK_KERNEL_FLAGS_avx2_vnni -march=x86-64-v3 -mavxvnni)
  set(LASTRANK_KERNEL_FLAGS_avx512 -march=x86-64-v4)
  set(LASTRANK_KERNEL_FLAGS_avx512_vnni -march=x86-64-v4 -mavx512vnni)
  set(LASTRANK_KERNEL_FLAGS_avx512_bf16 -march=x86-64-v4 -mavx512vnni -mavx512bf16)
elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "^(aarch64|arm64|ARM64)$")
  # Each set adds one extension to armv8.2-a (not armv8.6-a, which would also allow bf16 and more
  # into neon_i8mm): a set needs only what it names (kernel_set.cpp).
  set(LASTRANK_KERNEL_SETS neon neon_dotprod neon_i8mm neon_bf16)
  set(LASTRANK_KERNEL_FLAGS_neon "")
  set(LASTRANK_KERNEL_FLAGS_neon_dotprod -march=armv8.2-a+dotprod)
  set(LASTRANK_KERNEL_FLAGS_neon_i8mm -march=armv8.2-a+dotprod+i8mm)
  set(LASTRANK_KERNEL_FLAGS_neon_bf16 -march=armv8.2-a+dotprod+i8mm+bf16)
else()
  message(FATAL_ERROR "lastrank: no portable kernel sets for ${CMAKE_SYSTEM_PROCESSOR}; configure with -DLASTRANK_NATIVE=ON")
endif()

# The merge step needs GNU binutils (clang builds default to lld, which lacks --force-group-allocation),
# of the target: a cross build (cmake/aarch64-linux-gnu.cmake) uses aarch64-linux-gnu-ld.bfd etc.
set(_lastrank_binutils_prefix "")
if(CMAKE_CROSSCOMPILING AND CMAKE_LIBRARY_ARCHITECTURE)
  set(_lastrank_binutils_prefix "${CMAKE_LIBRARY_ARCHITECTURE}-")
endif()
find_program(LASTRANK_LD_BFD NAMES ${_lastrank_binutils_prefix}ld.bfd ${_lastrank_binutils_prefix}ld REQUIRED)
find_program(LASTRANK_OBJCOPY NAMES ${_lastrank_binutils_prefix}objcopy REQUIRED)
find_program(LASTRANK_NM NAMES ${_lastrank_binutils_prefix}nm REQUIRED)

set(LASTRANK_GENERATED_DIR ${CMAKE_BINARY_DIR}/generated)
set(LASTRANK_KERNEL_OBJECTS "")
set(kernel_set_list "")
foreach(set ${LASTRANK_KERNEL_SETS})
  set(lib lastrank_kernels_${set})
  add_library(${lib} OBJECT ${LASTRANK_KERNEL_SRC})
  target_compile_options(${lib} PRIVATE ${LASTRANK_KERNEL_FLAGS_${set}})
  target_compile_definitions(${lib} PRIVATE LR_KERNEL_SET=${set})
  # The engine library goes into liblastrank.so and the Python module (cmake/library.cmake).
  set_target_properties(${lib} PROPERTIES POSITION_INDEPENDENT_CODE ON)
  target_include_directories(${lib} PRIVATE ${CMAKE_SOURCE_DIR}/src)
  target_link_libraries(${lib} PRIVATE Threads::Threads)
  set(merged ${CMAKE_BINARY_DIR}/kernel_sets/${set}.o)
  add_custom_command(OUTPUT ${merged}
    COMMAND ${CMAKE_COMMAND} "-DOBJECTS=$<TARGET_OBJECTS:${lib}>" -DSET=${set} -DOUT=${merged}
      -DLINKER=${LASTRANK_LD_BFD} -DOBJCOPY=${LASTRANK_OBJCOPY} -DNM=${LASTRANK_NM}
      -P ${CMAKE_SOURCE_DIR}/cmake/localize_kernel_set.cmake
    DEPENDS ${lib} $<TARGET_OBJECTS:${lib}> ${CMAKE_SOURCE_DIR}/cmake/localize_kernel_set.cmake
    COMMENT "Merging kernel set ${set} into one object with local helper symbols"
    VERBATIM)
  list(APPEND LASTRANK_KERNEL_OBJECTS ${merged})
  if(set STREQUAL "native")  # the set -march=native amounts to, as the dispatch TU sees it too
    string(APPEND kernel_set_list " X(native, LR_TARGET_KERNEL_SET)")
  else()
    string(APPEND kernel_set_list " X(${set}, ::lastrank::cpu::KernelSet::${set})")
  endif()
endforeach()
set_source_files_properties(${LASTRANK_KERNEL_OBJECTS} PROPERTIES EXTERNAL_OBJECT TRUE GENERATED TRUE)

if(LASTRANK_NATIVE)
  set(native_build true)
else()
  set(native_build false)
endif()
file(CONFIGURE OUTPUT ${LASTRANK_GENERATED_DIR}/backend/cpu/kernel_sets_compiled.h CONTENT
"// Generated by cmake/kernel_sets.cmake: the kernel sets compiled into this build, as
// X(namespace, KernelSet value).
#pragma once
#define LR_FOR_EACH_COMPILED_KERNEL_SET(X)${kernel_set_list}
#define LR_NATIVE_BUILD ${native_build}
")
