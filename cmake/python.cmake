# The Python package `lastrank` (docs/library.md): python/lastrank/ (pure Python, stubs) plus the
# pybind11 extension _lastrank (src/python/), assembled in ${CMAKE_BINARY_DIR}/python/lastrank/.
# The extension is built once per distinct CPython ABI among LASTRANK_PYTHON_EXECUTABLES (by
# default the python3 on PATH and Debian's /usr/bin/python3); the files differ by their ABI
# suffix (_lastrank.cpython-311-x86_64-linux-gnu.so), so one directory serves every interpreter.
# scripts/install_python.sh puts that directory on each interpreter's path (a .pth file).
find_path(LASTRANK_PYBIND11_INCLUDE pybind11/pybind11.h DOC "pybind11 headers (Debian pybind11-dev)")
find_program(LASTRANK_PATH_PYTHON python3 DOC "The python3 on PATH at configure time")
set(_default_pythons "")
foreach(exe ${LASTRANK_PATH_PYTHON} /usr/bin/python3)
  if(EXISTS ${exe})
    list(APPEND _default_pythons ${exe})
  endif()
endforeach()
list(REMOVE_DUPLICATES _default_pythons)
set(LASTRANK_PYTHON_EXECUTABLES "${_default_pythons}" CACHE STRING "Python interpreters to build the lastrank module for")

set(LASTRANK_PYTHON_DIR ${CMAKE_BINARY_DIR}/python)
set(LASTRANK_PYTHON_MODULES "")  # "exe|target" per built ABI; the tests use them
if(NOT LASTRANK_PYBIND11_INCLUDE)
  message(STATUS "lastrank Python module: pybind11 headers not found (apt-get install pybind11-dev); not built")
  return()
endif()

# The pure-Python part: symlinks into the build tree, so edits need no rebuild.
file(GLOB _py_files CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/python/lastrank/*)
file(MAKE_DIRECTORY ${LASTRANK_PYTHON_DIR}/lastrank)
foreach(f ${_py_files})
  get_filename_component(name ${f} NAME)
  file(CREATE_LINK ${f} ${LASTRANK_PYTHON_DIR}/lastrank/${name} SYMBOLIC)
endforeach()

file(GLOB LASTRANK_PYTHON_SRC CONFIGURE_DEPENDS src/python/*.cpp)
set(_abis "")
foreach(exe ${LASTRANK_PYTHON_EXECUTABLES})
  execute_process(
    COMMAND ${exe} -c "import sysconfig; print(sysconfig.get_paths()['include']); print(sysconfig.get_config_var('EXT_SUFFIX'))"
    OUTPUT_VARIABLE _out RESULT_VARIABLE _rc ERROR_QUIET OUTPUT_STRIP_TRAILING_WHITESPACE)
  if(NOT _rc EQUAL 0)
    message(STATUS "lastrank Python module: ${exe} does not run; skipped")
    continue()
  endif()
  string(REPLACE "\n" ";" _out "${_out}")
  list(GET _out 0 _include)
  list(GET _out 1 _suffix)
  if(NOT EXISTS ${_include}/Python.h)
    message(STATUS "lastrank Python module: no Python.h for ${exe} (Debian: python3-dev); skipped")
    continue()
  endif()
  list(FIND _abis "${_suffix}" _seen)
  if(NOT _seen EQUAL -1)
    list(APPEND LASTRANK_PYTHON_MODULES "${exe}|${_target_of_${_suffix}}")
    continue()
  endif()
  list(LENGTH _abis _n)
  set(target lastrank_python${_n})
  list(APPEND _abis "${_suffix}")
  set(_target_of_${_suffix} ${target})
  add_library(${target} MODULE ${LASTRANK_PYTHON_SRC})
  target_include_directories(${target} SYSTEM PRIVATE ${_include} ${LASTRANK_PYBIND11_INCLUDE})
  target_sources(${target} PRIVATE $<TARGET_OBJECTS:lastrank_facade>)
  target_include_directories(${target} PRIVATE ${CMAKE_SOURCE_DIR}/include)
  target_link_libraries(${target} PRIVATE lastrank_lib)
  target_link_options(${target} PRIVATE -Wl,--version-script=${CMAKE_SOURCE_DIR}/cmake/python_module.map)
  set_target_properties(${target} PROPERTIES
    OUTPUT_NAME _lastrank PREFIX "" SUFFIX "${_suffix}"
    LIBRARY_OUTPUT_DIRECTORY ${LASTRANK_PYTHON_DIR}/lastrank
    CXX_VISIBILITY_PRESET hidden VISIBILITY_INLINES_HIDDEN ON
    LINK_DEPENDS ${CMAKE_SOURCE_DIR}/cmake/python_module.map)
  list(APPEND LASTRANK_PYTHON_MODULES "${exe}|${target}")
  message(STATUS "lastrank Python module: ${exe} -> python/lastrank/_lastrank${_suffix}")
endforeach()
