// The Qwen2 pre-tokenizer split: a hand-written scanner equivalent to HF's Split (Isolated) with
//   (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|
//   \s*[\r\n]+|\s+(?!\S)|\s+
// under Oniguruma's leftmost-first alternation with backtracking. Works on valid UTF-8.
#pragma once
#include <cstddef>
#include <string_view>

namespace lastrank::tok {

// The regex pattern this scanner implements (tokenizer.json must carry exactly this one).
inline constexpr std::string_view kQwen2SplitPattern =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|"
    "\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

class Qwen2Splitter {
 public:
  explicit Qwen2Splitter(std::string_view text) : text_(text) {}
  // Next piece [*begin, *end) in bytes; false at the end of the text. Pieces tile the text.
  bool next(size_t* begin, size_t* end);

 private:
  std::string_view text_;
  size_t pos_ = 0;
};

}  // namespace lastrank::tok
