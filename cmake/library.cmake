# The public library (docs/library.md): the C ABI and C++ API of include/lastrank/ in
# liblastrank.so.<SOVERSION> (src/library over the static engine library), and what `cmake --install`
# puts in place: the library, both headers, lastrank.pc and the CMake package lastrank
# (find_package(lastrank) -> target lastrank::lastrank), plus the CLI.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

# The engine goes into a shared object (and into the Python module).
set_target_properties(lastrank_lib PROPERTIES POSITION_INDEPENDENT_CODE ON)

file(GLOB LASTRANK_FACADE_SRC CONFIGURE_DEPENDS src/library/*.cpp)
add_library(lastrank_facade OBJECT ${LASTRANK_FACADE_SRC})
set_target_properties(lastrank_facade PROPERTIES POSITION_INDEPENDENT_CODE ON
  CXX_VISIBILITY_PRESET hidden VISIBILITY_INLINES_HIDDEN ON)
target_compile_definitions(lastrank_facade PUBLIC LASTRANK_BUILDING_LIBRARY)
target_include_directories(lastrank_facade PUBLIC ${CMAKE_SOURCE_DIR}/include)
target_link_libraries(lastrank_facade PUBLIC lastrank_lib)

# Exports exactly the C functions lastrank_* and the C++ API lastrank::v0::* (cmake/lastrank.map).
add_library(lastrank_shared SHARED $<TARGET_OBJECTS:lastrank_facade>)
target_link_libraries(lastrank_shared PRIVATE lastrank_lib)
target_include_directories(lastrank_shared INTERFACE
  $<BUILD_INTERFACE:${CMAKE_SOURCE_DIR}/include> $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
target_compile_features(lastrank_shared INTERFACE cxx_std_17)
target_link_options(lastrank_shared PRIVATE -Wl,--version-script=${CMAKE_SOURCE_DIR}/cmake/lastrank.map -Wl,--no-undefined)
set_target_properties(lastrank_shared PROPERTIES
  OUTPUT_NAME lastrank EXPORT_NAME lastrank
  VERSION ${PROJECT_VERSION} SOVERSION ${PROJECT_VERSION_MAJOR}
  LINK_DEPENDS ${CMAKE_SOURCE_DIR}/cmake/lastrank.map)
add_library(lastrank::lastrank ALIAS lastrank_shared)

install(TARGETS lastrank_shared EXPORT lastrankTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} NAMELINK_COMPONENT Development)
install(FILES include/lastrank/lastrank.h include/lastrank/lastrank.hpp
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/lastrank)
install(EXPORT lastrankTargets NAMESPACE lastrank:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/lastrank)
configure_package_config_file(cmake/lastrankConfig.cmake.in ${CMAKE_BINARY_DIR}/lastrankConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/lastrank)
write_basic_package_version_file(${CMAKE_BINARY_DIR}/lastrankConfigVersion.cmake COMPATIBILITY SameMajorVersion)
install(FILES ${CMAKE_BINARY_DIR}/lastrankConfig.cmake ${CMAKE_BINARY_DIR}/lastrankConfigVersion.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/lastrank)

# lastrank.pc finds its prefix from its own location, so any --prefix works.
file(RELATIVE_PATH LASTRANK_PC_TO_PREFIX /prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig /prefix)
string(REGEX REPLACE "/$" "" LASTRANK_PC_TO_PREFIX "${LASTRANK_PC_TO_PREFIX}")
configure_file(cmake/lastrank.pc.in ${CMAKE_BINARY_DIR}/lastrank.pc @ONLY)
install(FILES ${CMAKE_BINARY_DIR}/lastrank.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

if(TARGET lastrank)
  install(TARGETS lastrank RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
endif()
