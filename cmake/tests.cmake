# Test registration. Every tests/{unit,golden,server}/*_test.cpp is one GoogleTest binary.
# Tests find data through tests/test_paths.h (LASTRANK_SOURCE_DIR, LASTRANK_BINARY_DIR,
# LASTRANK_DEPS_DIR, LASTRANK_TEST_MODELS, LASTRANK_CLI), whose values this file writes into one
# generated source, lastrank_test_paths: no absolute path reaches a test's own compile line, so the
# compiler cache serves the tests of any clone (cmake/ccache.cmake).
find_package(GTest REQUIRED)
include(GoogleTest)

set(LASTRANK_TEST_MODELS "${CMAKE_BINARY_DIR}/test-models")
# The CLI and server default to a packed-weight cache in the home directory (docs/model-files.md);
# tests use one in the build tree instead.
set(LASTRANK_TEST_ENV "LASTRANK_WEIGHT_CACHE=${CMAKE_BINARY_DIR}/weight-cache")

# Cross builds (cmake/aarch64-linux-gnu.cmake) run their binaries through
# CMAKE_CROSSCOMPILING_EMULATOR. ctest and gtest_discover_tests apply it themselves; the scripts
# and tests that start the CLI get a wrapper, lastrank-emulated, that runs it through the emulator.
set(LASTRANK_CLI_RUN "$<TARGET_FILE:lastrank>")
if(CMAKE_CROSSCOMPILING_EMULATOR AND TARGET lastrank)
  list(JOIN CMAKE_CROSSCOMPILING_EMULATOR " " _lastrank_emulator)
  file(GENERATE OUTPUT "${CMAKE_BINARY_DIR}/lastrank-emulated"
    CONTENT "#!/bin/sh\nexec ${_lastrank_emulator} \"$<TARGET_FILE:lastrank>\" \"$@\"\n"
    FILE_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)
  set(LASTRANK_CLI_RUN "${CMAKE_BINARY_DIR}/lastrank-emulated")
endif()

# Fixture checkpoints are generated (seeded, byte-identical everywhere) before the tests that
# need them: tools/make_checkpoint.cpp writes them, tests/data/checkpoints.txt lists them.
if(TARGET make_checkpoint)
  add_test(NAME generate_test_models
    COMMAND ${CMAKE_COMMAND} -E env "LASTRANK_EMULATOR=${_lastrank_emulator}" bash ${CMAKE_SOURCE_DIR}/tests/make_test_models.sh
      $<TARGET_FILE:make_checkpoint> ${LASTRANK_TEST_MODELS} ${LASTRANK_DEPS_DIR}/tokenizer)
  set_tests_properties(generate_test_models PROPERTIES FIXTURES_SETUP test_models)
endif()

# The paths the C++ tests read (tests/test_paths.h), in one small generated library.
set(_test_cli "")
set(_have_cli 0)
if(TARGET lastrank)
  set(_test_cli "${LASTRANK_CLI_RUN}")
  set(_have_cli 1)
endif()
file(GENERATE OUTPUT "${CMAKE_BINARY_DIR}/test_paths.cpp" CONTENT "#include \"test_paths.h\"
namespace lastrank_test_paths {
const char* const source_dir = \"${CMAKE_SOURCE_DIR}\";
const char* const binary_dir = \"${CMAKE_BINARY_DIR}\";
const char* const deps_dir = \"${LASTRANK_DEPS_DIR}\";
const char* const test_models = \"${LASTRANK_TEST_MODELS}\";
const char* const cli = \"${_test_cli}\";
}  // namespace lastrank_test_paths
")
add_library(lastrank_test_paths STATIC "${CMAKE_BINARY_DIR}/test_paths.cpp")
target_include_directories(lastrank_test_paths PUBLIC "${CMAKE_SOURCE_DIR}/tests")
target_compile_definitions(lastrank_test_paths PUBLIC LASTRANK_HAVE_CLI=${_have_cli})

# The server tests talk HTTP through cpp-httplib's client (Debian's package ships only a pkg-config file).
find_package(httplib CONFIG QUIET)
if(NOT TARGET httplib::httplib)
  pkg_check_modules(HTTPLIB REQUIRED IMPORTED_TARGET GLOBAL cpp-httplib)
  add_library(httplib::httplib ALIAS PkgConfig::HTTPLIB)
endif()

file(GLOB LASTRANK_TEST_SRC CONFIGURE_DEPENDS tests/unit/*_test.cpp tests/golden/*_test.cpp tests/server/*_test.cpp)
foreach(src ${LASTRANK_TEST_SRC})
  get_filename_component(name ${src} NAME_WE)
  get_filename_component(dir ${src} DIRECTORY)
  get_filename_component(group ${dir} NAME)
  add_executable(${name} ${src})
  target_link_libraries(${name} PRIVATE lastrank_lib GTest::gtest GTest::gtest_main)
  set(labels ${group})
  if(group STREQUAL "server" AND TARGET lastrank_server)
    target_link_libraries(${name} PRIVATE lastrank_server httplib::httplib)
  endif()
  if(name MATCHES "_slow_clients_test$")  # 1,000 connections for ~10 s: label slow, not under ASan
    set(labels ${group} slow nosan)
  endif()
  target_link_libraries(${name} PRIVATE lastrank_test_paths)
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60
    PROPERTIES LABELS "${labels}" FIXTURES_REQUIRED test_models ENVIRONMENT "${LASTRANK_TEST_ENV}")
endforeach()

# CLI end-to-end tests: tests/cli/*.sh, run as `bash script LASTRANK_BIN MODELS_DIR SOURCE_DIR`;
# exit code 77 means SKIP (the script prints why).
if(TARGET lastrank)
  file(GLOB LASTRANK_CLI_TESTS CONFIGURE_DEPENDS tests/cli/*.sh)
  foreach(src ${LASTRANK_CLI_TESTS})
    get_filename_component(name ${src} NAME_WE)
    add_test(NAME cli_${name} COMMAND bash ${src} ${LASTRANK_CLI_RUN} ${LASTRANK_TEST_MODELS} ${CMAKE_SOURCE_DIR})
    set(labels cli)
    if(name STREQUAL "qemu_golden")  # slow; scripts/test.sh runs it as a step of its own
      set(labels cli qemu nosan)
    elseif(name STREQUAL "onnx_builder")  # the reference chroot's python, no lastrank code under test
      set(labels cli peers nosan)
    endif()
    set_tests_properties(cli_${name} PROPERTIES LABELS "${labels}" FIXTURES_REQUIRED test_models SKIP_RETURN_CODE 77
      ENVIRONMENT "${LASTRANK_TEST_ENV}")
  endforeach()
  # Deployment tests: tests/deploy/*.sh, same arguments; exit 77 = skipped (says why: no container
  # engine, an opt-in test not enabled). Label deploy, not run under the sanitizers (nosan).
  file(GLOB LASTRANK_DEPLOY_TESTS CONFIGURE_DEPENDS tests/deploy/*.sh)
  foreach(src ${LASTRANK_DEPLOY_TESTS})
    get_filename_component(name ${src} NAME_WE)
    add_test(NAME deploy_${name} COMMAND bash ${src} ${LASTRANK_CLI_RUN} ${LASTRANK_TEST_MODELS} ${CMAKE_SOURCE_DIR})
    set_tests_properties(deploy_${name} PROPERTIES LABELS "deploy;nosan" FIXTURES_REQUIRED test_models SKIP_RETURN_CODE 77
      ENVIRONMENT "${LASTRANK_TEST_ENV}")
  endforeach()
endif()

# Script checks that need no build products: DIR/*.sh, each run as `bash script SOURCE_DIR` and
# named PREFIX_<script name>, with LABELS.
function(lastrank_source_script_tests dir prefix labels)
  file(GLOB scripts CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/${dir}/*.sh)
  foreach(src ${scripts})
    get_filename_component(name ${src} NAME_WE)
    add_test(NAME ${prefix}_${name} COMMAND bash ${src} ${CMAKE_SOURCE_DIR})
    set_tests_properties(${prefix}_${name} PROPERTIES LABELS "${labels}")
  endforeach()
endfunction()
# Source checks (grep over src/).
lastrank_source_script_tests(tests/lint lint lint)
# Benchmark tooling checks (bench/*.py on synthetic rows, with the python3 on PATH).
lastrank_source_script_tests(tests/bench bench "bench;nosan")

include(cmake/tests_library.cmake)
