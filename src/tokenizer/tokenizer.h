// Byte-level BPE tokenizer compatible with Hugging Face `tokenizers` for Qwen2/Qwen3
// tokenizer.json files (+ jina's added tokens): added tokens matched whole, NFC normalizer,
// Qwen2 Split regex (Isolated) + ByteLevel pre-tokenizer, BPE model, ByteLevel decoder.
// Thread-safe: encode/decode may be called concurrently after loading.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace lastrank {

// Where one token of a text ends in that text (Tokenizer::token_ends), for cutting the text at
// token boundaries (src/api/chunking.h).
struct TokenEnd {
  static constexpr size_t kInside = SIZE_MAX;
  // Byte offset in the text just past the token; kInside when the token ends inside a code point
  // (byte-level tokens can split one) or inside a span the NFC normalizer rewrote.
  size_t byte = kInside;
  // The token also ends a pre-tokenizer piece or an added token (and byte is known): the text
  // from byte on tokenizes on its own to exactly the ids after this point (the pre-tokenizer has
  // no look-behind; tests/unit/tokenizer_offsets_test.cpp checks this on awkward texts). The text
  // before byte may end differently on its own (look-ahead: "a  1" is "a", " ", " ", "1", but
  // "a  " alone is "a", "  "), which chunking checks by re-tokenizing (src/api/chunking.cpp).
  bool piece_end = false;
  int32_t id = -1;  // the token
};

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
  // Whether id is an added token marked special in tokenizer.json (HF skip_special_tokens drops these).
  virtual bool is_special(int32_t id) const { (void)id; return false; }
  // The bytes the decoder emits for this one id ("" for an unknown id), before any UTF-8 repair:
  // concatenated over encode(text) they give back the NFC form of text (TEI /tokenize offsets).
  virtual std::string token_bytes(int32_t id) const { return decode({id}); }
  // encode(text).size(), without keeping the ids.
  virtual size_t count(std::string_view text) const { return encode(text).size(); }

  // encode(text) truncated to the first max_tokens ids (HF truncation=True, max_length=N;
  // right side). Same as encode() then resize, but may stop early.
  virtual std::vector<int32_t> encode_truncated(std::string_view text, size_t max_tokens) const {
    auto ids = encode(text);
    if (ids.size() > max_tokens) ids.resize(max_tokens);
    return ids;
  }

  // One TokenEnd per id of encode_truncated(text, max_tokens). Text that is not valid UTF-8 has
  // no known offsets (all kInside). The default knows no offsets but the end of a whole text.
  virtual std::vector<TokenEnd> token_ends(std::string_view text, size_t max_tokens) const {
    const std::vector<int32_t> ids = encode_truncated(text, max_tokens);
    std::vector<TokenEnd> ends(ids.size());
    for (size_t k = 0; k < ids.size(); ++k) ends[k].id = ids[k];
    if (!ends.empty() && ends.size() < max_tokens) ends.back() = {text.size(), true, ids.back()};
    return ends;
  }
};

}  // namespace lastrank
