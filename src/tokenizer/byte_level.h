// GPT-2 byte-level alphabet (HF ByteLevel pre-tokenizer / decoder): each byte 0..255 maps to one
// printable code point; vocab entries are strings over that alphabet.
#pragma once
#include <array>
#include <optional>
#include <string>
#include <string_view>

namespace lastrank::tok {

// Code point that stands for byte b.
char32_t byte_to_char(unsigned char b);
// Byte a code point stands for; nullopt if cp is not in the alphabet.
std::optional<unsigned char> char_to_byte(char32_t cp);

// Raw bytes of a vocab string if every char is in the alphabet (HF ByteLevel decoder), else
// nullopt (the decoder then uses the string's own UTF-8 bytes). token must be valid UTF-8.
std::optional<std::string> byte_level_decode(std::string_view token);
// Same, appended to out; false (out unchanged) if a char is not in the alphabet.
bool byte_level_decode_append(std::string_view token, std::string& out);
// Vocab-string form of raw bytes.
std::string byte_level_encode(std::string_view bytes);

}  // namespace lastrank::tok
