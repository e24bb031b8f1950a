# Test registration. Every tests/{unit,golden,server}/*_test.cpp is one GoogleTest binary.
# Tests find data through these compile definitions:
#   LASTRANK_SOURCE_DIR  repository root (tests/data lives there)
#   LASTRANK_BINARY_DIR  build dir (generated fixture checkpoints live in test-models/)
#   LASTRANK_DEPS_DIR    fetched data (.deps/tokenizer/tokenizer.json = Qwen3 + jina tokens)
find_package(GTest REQUIRED)
include(GoogleTest)

set(LASTRANK_TEST_MODELS "${CMAKE_BINARY_DIR}/test-models")

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

file(GLOB LASTRANK_TEST_SRC CONFIGURE_DEPENDS tests/unit/*_test.cpp tests/golden/*_test.cpp tests/server/*_test.cpp)
foreach(src ${LASTRANK_TEST_SRC})
  get_filename_component(name ${src} NAME_WE)
  get_filename_component(dir ${src} DIRECTORY)
  get_filename_component(group ${dir} NAME)
  add_executable(${name} ${src})
  target_link_libraries(${name} PRIVATE lastrank_lib GTest::gtest GTest::gtest_main)
  if(group STREQUAL "server" AND TARGET lastrank_server)
    target_link_libraries(${name} PRIVATE lastrank_server)
  endif()
  target_compile_definitions(${name} PRIVATE
    LASTRANK_SOURCE_DIR="${CMAKE_SOURCE_DIR}" LASTRANK_BINARY_DIR="${CMAKE_BINARY_DIR}"
    LASTRANK_DEPS_DIR="${LASTRANK_DEPS_DIR}" LASTRANK_TEST_MODELS="${LASTRANK_TEST_MODELS}"
    $<$<TARGET_EXISTS:lastrank>:LASTRANK_CLI="${LASTRANK_CLI_RUN}">)
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60
    PROPERTIES LABELS ${group} FIXTURES_REQUIRED test_models)
endforeach()

# CLI end-to-end tests: tests/cli/*.sh, run as `bash script LASTRANK_BIN MODELS_DIR SOURCE_DIR`.
if(TARGET lastrank)
  file(GLOB LASTRANK_CLI_TESTS CONFIGURE_DEPENDS tests/cli/*.sh)
  foreach(src ${LASTRANK_CLI_TESTS})
    get_filename_component(name ${src} NAME_WE)
    add_test(NAME cli_${name} COMMAND bash ${src} ${LASTRANK_CLI_RUN} ${LASTRANK_TEST_MODELS} ${CMAKE_SOURCE_DIR})
    set_tests_properties(cli_${name} PROPERTIES LABELS cli FIXTURES_REQUIRED test_models)
  endforeach()
endif()
