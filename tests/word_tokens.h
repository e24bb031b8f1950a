// The rule of the word-level fake tokenizers that model-free tests use (src/api tests, the fake
// server engine, fuzz_api_request): each whitespace-separated word is one token, and every token
// ends a piece. Include as "word_tokens.h" (tests/ is on the test targets' include path) or
// "../word_tokens.h" (fuzz targets).
#pragma once
#include <cctype>
#include <string_view>
#include <vector>

#include "tokenizer/tokenizer.h"

namespace lastrank {

// The ends of the first max_tokens words of text.
inline std::vector<TokenEnd> whitespace_token_ends(std::string_view text, size_t max_tokens) {
  auto space = [&](size_t i) { return std::isspace(static_cast<unsigned char>(text[i])) != 0; };
  std::vector<TokenEnd> ends;
  for (size_t i = 0; i < text.size() && ends.size() < max_tokens;) {
    while (i < text.size() && space(i)) ++i;
    if (i == text.size()) break;
    while (i < text.size() && !space(i)) ++i;
    ends.push_back({i, true});
  }
  return ends;
}

}  // namespace lastrank
