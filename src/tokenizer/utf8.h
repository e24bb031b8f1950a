// UTF-8 decoding and encoding for the tokenizer: one-code-point decoding with U+FFFD for each
// maximal ill-formed subpart (Unicode §3.9 / WHATWG, the same as Python's decode("utf-8",
// "replace") and Rust's String::from_utf8_lossy), validation, and a sanitizing copy.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace lastrank::tok {

inline constexpr char32_t kReplacementChar = 0xFFFD;

// Decodes one code point at p[0..n) (n >= 1). Returns the number of bytes consumed (>= 1); on an
// ill-formed sequence *cp = U+FFFD and the return value is the length of its maximal subpart.
size_t utf8_decode(const unsigned char* p, size_t n, char32_t* cp, bool* valid = nullptr);

// Length of the longest valid UTF-8 prefix of text (== text.size() when all of it is valid).
size_t utf8_valid_prefix(std::string_view text);

// text with every maximal ill-formed subpart replaced by U+FFFD (EF BF BD).
std::string utf8_sanitize(std::string_view text);

// Appends the UTF-8 encoding of cp (a scalar value) to out.
void utf8_append(std::string& out, char32_t cp);

}  // namespace lastrank::tok
