// Byte-level BPE tokenizer compatible with Hugging Face `tokenizers` for Qwen2/Qwen3
// tokenizer.json files (+ jina's added tokens): added tokens matched whole, NFC normalizer,
// Qwen2 Split regex (Isolated) + ByteLevel pre-tokenizer, BPE model, ByteLevel decoder.
// Thread-safe: encode/decode may be called concurrently after loading.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace lastrank {

class Tokenizer {
 public:
  // Loads tokenizer.json (untrusted). Throws lastrank::Error with a clear message.
  static std::unique_ptr<Tokenizer> load_file(const std::string& path);
  static std::unique_ptr<Tokenizer> load_json(std::string_view json_text);
  virtual ~Tokenizer() = default;

  // Ids without any special tokens added (HF add_special_tokens=False). Invalid UTF-8 in the
  // input is replaced by U+FFFD first (as Python's str would have it after decode("replace")).
  virtual std::vector<int32_t> encode(std::string_view text) const = 0;
  // HF decode(ids) with skip_special_tokens=False: byte-level decoding, broken UTF-8 -> U+FFFD.
  virtual std::string decode(const std::vector<int32_t>& ids) const = 0;
  // Id of a vocab or added token given its exact content; nullopt if absent.
  virtual std::optional<int32_t> token_to_id(std::string_view token) const = 0;
  virtual std::optional<std::string> id_to_token(int32_t id) const = 0;
  virtual int32_t vocab_size() const = 0;  // highest id + 1
  // encode(text).size(), without keeping the ids.
  virtual size_t count(std::string_view text) const { return encode(text).size(); }

  // encode(text) truncated to the first max_tokens ids (HF truncation=True, max_length=N;
  // right side). Same as encode() then resize, but may stop early.
  virtual std::vector<int32_t> encode_truncated(std::string_view text, size_t max_tokens) const {
    auto ids = encode(text);
    if (ids.size() > max_tokens) ids.resize(max_tokens);
    return ids;
  }
};

}  // namespace lastrank
