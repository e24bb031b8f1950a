# Tests of the public library (cmake/library.cmake) and the Python package (cmake/python.cmake).
# Included from cmake/tests.cmake; every test needs the generated fixture checkpoints.
set(_test_env LASTRANK_TEST_MODELS=${LASTRANK_TEST_MODELS} LASTRANK_SOURCE_DIR=${CMAKE_SOURCE_DIR})

# C and C++ API through liblastrank.so (also under ASan+UBSan).
file(GLOB LASTRANK_LIBRARY_TEST_SRC CONFIGURE_DEPENDS tests/library/*_test.cpp)
foreach(src ${LASTRANK_LIBRARY_TEST_SRC})
  get_filename_component(name ${src} NAME_WE)
  add_executable(${name} ${src})
  # c_api_test also runs the engine itself (src/rerank) to compare with; its copy inside the
  # shared library is local to it (cmake/lastrank.map), so the two never mix.
  target_link_libraries(${name} PRIVATE lastrank_shared lastrank_lib GTest::gtest GTest::gtest_main)
  target_link_libraries(${name} PRIVATE lastrank_test_paths)  # tests/test_paths.h
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60 PROPERTIES LABELS library FIXTURES_REQUIRED test_models)
endforeach()

add_test(NAME library_exports
  COMMAND bash ${CMAKE_SOURCE_DIR}/tests/library/exports.sh $<TARGET_FILE:lastrank_shared> $<TARGET_SONAME_FILE_NAME:lastrank_shared>)
set_tests_properties(library_exports PROPERTIES LABELS "library")

# Installs into a temporary prefix and builds the C / C++ examples against it. The installed
# library of a sanitizer build cannot link into a plain program: nosan.
if(TARGET lastrank)
  add_test(NAME library_install_examples
    COMMAND bash ${CMAKE_SOURCE_DIR}/tests/library/install_examples.sh
      ${CMAKE_BINARY_DIR} ${CMAKE_SOURCE_DIR} ${LASTRANK_TEST_MODELS} $<TARGET_FILE:lastrank>)
  set_tests_properties(library_install_examples PROPERTIES LABELS "library;nosan" FIXTURES_REQUIRED test_models)
endif()

# Python: the pytest suite under Debian's /usr/bin/python3 (the one with python3-pytest and
# python3-numpy), the import smoke test and the example under every interpreter the module was
# built for. A missing interpreter or pytest skips (exit 77) with the reason.
if(LASTRANK_PYTHON_MODULES AND TARGET lastrank)
  set(_py_env PYTHONPATH=${LASTRANK_PYTHON_DIR} PYTHONDONTWRITEBYTECODE=1 LASTRANK_CLI=$<TARGET_FILE:lastrank> ${_test_env} ${LASTRANK_TEST_ENV})
  add_test(NAME python_pytest
    COMMAND ${CMAKE_COMMAND} -E env ${_py_env} bash -c
      "/usr/bin/python3 -c 'import pytest' 2>/dev/null || { echo 'SKIP: /usr/bin/python3 has no pytest (apt-get install python3-pytest)'; exit 77; }; exec /usr/bin/python3 -m pytest -q -p no:cacheprovider ${CMAKE_SOURCE_DIR}/tests/python")
  set_tests_properties(python_pytest PROPERTIES LABELS "python;nosan" FIXTURES_REQUIRED test_models SKIP_RETURN_CODE 77)
  set(_i 0)
  foreach(entry ${LASTRANK_PYTHON_MODULES})
    string(REPLACE "|" ";" entry "${entry}")
    list(GET entry 0 exe)
    add_test(NAME python_import_smoke_${_i}
      COMMAND ${CMAKE_COMMAND} -E env ${_py_env} ${exe} ${CMAKE_SOURCE_DIR}/tests/python/import_smoke.py ${LASTRANK_TEST_MODELS}/tiny-gqa2)
    add_test(NAME python_example_${_i}
      COMMAND ${CMAKE_COMMAND} -E env ${_py_env} ${exe} ${CMAKE_SOURCE_DIR}/examples/python/rerank.py ${LASTRANK_TEST_MODELS}/tiny-gqa2)
    set_tests_properties(python_import_smoke_${_i} python_example_${_i} PROPERTIES
      LABELS "python;nosan" FIXTURES_REQUIRED test_models)
    math(EXPR _i "${_i} + 1")
  endforeach()
endif()
