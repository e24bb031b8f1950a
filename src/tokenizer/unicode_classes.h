// Code point classes used by the Qwen2 pre-tokenizer regex: \p{L}, \p{N}, \s (split into CR/LF
// and the rest). Tables are generated from Unicode 16.0 (Python unicodedata) by
// tools/make_tokenizer_corpus.py and checked against HF's regex engine for every code point.
#pragma once
#include <cstddef>
#include <cstdint>

namespace lastrank::tok {

enum CharClass : uint8_t {
  kOther = 0,   // none of the below: [^\s\p{L}\p{N}]
  kLetter = 1,  // \p{L}
  kNumber = 2,  // \p{N}
  kSpace = 3,   // \s except CR and LF (White_Space)
  kCrLf = 4,    // U+000D, U+000A
};

namespace detail {
extern const uint8_t* const kClassStage1;  // [0x1100] block index per 256 code points
extern const uint8_t* const kClassStage2;  // [blocks][256] class per code point
}  // namespace detail

// Class of a Unicode scalar value (anything >= 0x110000 is kOther).
inline CharClass char_class(char32_t cp) {
  if (cp >= 0x110000) return kOther;
  return static_cast<CharClass>(detail::kClassStage2[(std::size_t{detail::kClassStage1[cp >> 8]} << 8) | (cp & 0xFF)]);
}

}  // namespace lastrank::tok
