// The real Qwen3 + jina tokenizer for the fuzz targets that need it, loaded once from
// $LASTRANK_TOKENIZER or $LASTRANK_DEPS_DIR/tokenizer/tokenizer.json (the CMake cache variable,
// <repo>/.deps by default). Aborts with a message if it cannot be loaded.
#pragma once
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "core/error.h"
#include "tokenizer/tokenizer.h"

namespace lastrank::fuzz {

inline const Tokenizer& real_tokenizer(const char* target) {
  static const std::unique_ptr<Tokenizer> tok = [target] {
    const char* env = std::getenv("LASTRANK_TOKENIZER");
    const std::string path = env && *env ? std::string(env) : std::string(LASTRANK_DEPS_DIR "/tokenizer/tokenizer.json");
    try {
      return Tokenizer::load_file(path);
    } catch (const Error& e) {
      std::fprintf(stderr, "%s: %s (set LASTRANK_TOKENIZER)\n", target, e.what());
      std::abort();
    }
  }();
  return *tok;
}

}  // namespace lastrank::fuzz
