// A small valid tokenizer.json for the tokenizer tests (tokenizer_test.cpp, tokenizer_cache_test.cpp).
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tokenizer/pre_tokenizer.h"

namespace lastrank {

// A small valid tokenizer.json: all 256 byte tokens, a few merges, two added tokens.
inline nlohmann::json tiny_json() {
  nlohmann::json vocab = nlohmann::json::object();
  int n = 0;
  for (int b = 0; b < 256; ++b) {
    const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
    const char32_t cp = printable ? static_cast<char32_t>(b) : static_cast<char32_t>(256 + n++);
    std::string s;
    if (cp < 0x80) {
      s.push_back(static_cast<char>(cp));
    } else {
      s.push_back(static_cast<char>(0xC0 | (cp >> 6)));
      s.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
    vocab[s] = b;
  }
  const char* merges[][2] = {{"a", "a"}, {"aa", "aa"}, {"a", "b"}, {"\xC4\xA0", "ab"}, {"aaaa", "a"}};
  nlohmann::json m = nlohmann::json::array();
  int id = 256;
  for (auto& p : merges) {
    m.push_back(nlohmann::json::array({p[0], p[1]}));
    vocab[std::string(p[0]) + p[1]] = id++;
  }
  nlohmann::json j = {
      {"version", "1.0"},
      {"added_tokens", nlohmann::json::array({
                           {{"id", id}, {"content", "<|x|>"}, {"special", true}, {"normalized", false}},
                           {{"id", id + 1}, {"content", "<|x|>>"}, {"special", false}, {"normalized", false}},
                       })},
      {"normalizer", {{"type", "NFC"}}},
      {"pre_tokenizer",
       {{"type", "Sequence"},
        {"pretokenizers",
         nlohmann::json::array({{{"type", "Split"}, {"pattern", {{"Regex", std::string(tok::kQwen2SplitPattern)}}},
                       {"behavior", "Isolated"}, {"invert", false}},
                      {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", false}, {"use_regex", false}}})}}},
      {"post_processor", nullptr},
      {"decoder", {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", false}, {"use_regex", false}}},
      {"model", {{"type", "BPE"}, {"dropout", nullptr}, {"unk_token", nullptr}, {"vocab", vocab}, {"merges", m}}},
  };
  return j;
}

}  // namespace lastrank
