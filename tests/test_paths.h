// Where the C++ tests find their data and the CLI. The values live in one generated translation
// unit of the build tree (cmake/tests.cmake writes test_paths.cpp), not in -D flags on every test,
// so that a test source compiles to the same object in any clone and build folder and the
// compiler cache reuses it (cmake/ccache.cmake, docs/DEVELOPERS.md "Build times").
#pragma once

namespace lastrank_test_paths {
extern const char* const source_dir;   // the repository root (tests/data lives there)
extern const char* const binary_dir;   // the build folder
extern const char* const deps_dir;     // fetched data: deps_dir/tokenizer/tokenizer.json
extern const char* const test_models;  // generated fixture checkpoints (tests/make_test_models.sh)
extern const char* const cli;          // the `lastrank` binary (or its emulator wrapper); "" if none
}  // namespace lastrank_test_paths

#define LASTRANK_SOURCE_DIR (::lastrank_test_paths::source_dir)
#define LASTRANK_BINARY_DIR (::lastrank_test_paths::binary_dir)
#define LASTRANK_DEPS_DIR (::lastrank_test_paths::deps_dir)
#define LASTRANK_TEST_MODELS (::lastrank_test_paths::test_models)
// Defined only where the build has the CLI (LASTRANK_HAVE_CLI=1 from cmake/tests.cmake).
#if LASTRANK_HAVE_CLI
#define LASTRANK_CLI (::lastrank_test_paths::cli)
#endif
