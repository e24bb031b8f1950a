# Compiler cache (docs/DEVELOPERS.md, "Build times"): where ccache is installed (scripts/setup.sh
# installs it), every compile goes through it, so a rebuild of the same sources in another clone
# (CI's fresh clone, a worktree) or another build folder of the same flags reuses the objects.
# CCACHE_BASEDIR makes the paths under the source tree relative and CCACHE_NOHASHDIR leaves the
# working directory out of the hash, so the clone's location does not matter; anything else that
# differs (flags, defines, headers, the compiler) is a miss, as ccache always does.
option(LASTRANK_CCACHE "Compile through ccache when it is installed" ON)
find_program(LASTRANK_CCACHE_PROGRAM ccache)
if(LASTRANK_CCACHE AND LASTRANK_CCACHE_PROGRAM AND NOT CMAKE_CXX_COMPILER_LAUNCHER)
  set(launcher ${CMAKE_COMMAND} -E env CCACHE_BASEDIR=${CMAKE_SOURCE_DIR} CCACHE_NOHASHDIR=1
      ${LASTRANK_CCACHE_PROGRAM})
  set(CMAKE_C_COMPILER_LAUNCHER ${launcher})
  set(CMAKE_CXX_COMPILER_LAUNCHER ${launcher})
  message(STATUS "lastrank: compiling through ${LASTRANK_CCACHE_PROGRAM}")
endif()
