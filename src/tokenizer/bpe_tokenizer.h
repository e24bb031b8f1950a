// The concrete Tokenizer: added-token split -> NFC -> Qwen2 split -> byte-level BPE, and the
// ByteLevel decoder. Built by tokenizer_json.cpp from a validated tokenizer.json.
#pragma once
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "tokenizer/added_vocab.h"
#include "tokenizer/bpe_model.h"
#include "tokenizer/token_index.h"
#include "tokenizer/tokenizer.h"

namespace lastrank::tok {

struct EndTracker;  // token_ends' bookkeeping (bpe_tokenizer.cpp)

struct TokenizerSpec {
  std::vector<std::string> id_to_token;        // [vocab_size] vocab-string form; "" for holes
  std::vector<char> has_token;                 // [vocab_size] 1 where an id exists
  std::vector<AddedToken> added;               // as listed in tokenizer.json
  std::unique_ptr<BpeModel> model;
  bool nfc = false;                            // normalizer NFC (else none)
  bool ignore_merges = false;                  // BPE ignore_merges: whole-word vocab hits first
};

class BpeTokenizer final : public Tokenizer {
 public:
  explicit BpeTokenizer(TokenizerSpec spec);

  std::vector<int32_t> encode(std::string_view text) const override;
  std::vector<int32_t> encode_truncated(std::string_view text, size_t max_tokens) const override;
  size_t count(std::string_view text) const override;
  std::vector<TokenEnd> token_ends(std::string_view text, size_t max_tokens) const override;
  std::string decode(const std::vector<int32_t>& ids) const override;
  std::optional<int32_t> token_to_id(std::string_view token) const override;
  std::optional<std::string> id_to_token(int32_t id) const override;
  int32_t vocab_size() const override { return static_cast<int32_t>(id_to_token_.size()); }
  bool is_special(int32_t id) const override;
  std::string token_bytes(int32_t id) const override;

 private:
  friend struct EndTracker;
  // Appends ids for text until out.size() >= max_tokens (then stops early); ends, if given,
  // receives one TokenEnd per id.
  void encode_into(std::string_view text, size_t max_tokens, std::vector<int32_t>& out,
                   std::vector<TokenEnd>* ends = nullptr) const;
  void encode_plain(std::string_view normalized, size_t max_tokens, std::vector<int32_t>& out,
                    EndTracker* track) const;
  // Bytes the ByteLevel decoder emits for id (0 for unknown ids).
  size_t token_byte_count(int32_t id) const;

  std::vector<std::string> id_to_token_;
  TokenIndex token_ids_;                                // strings of id_to_token_ -> id
  std::vector<char> has_token_;
  std::vector<char> special_;                           // [vocab_size] 1 for special added tokens
  std::vector<uint32_t> decode_offsets_;                // [vocab_size + 1] into decode_bytes_
  std::string decode_bytes_;                            // what the ByteLevel decoder emits per id
  std::unordered_map<std::string, int32_t> raw_vocab_;  // raw bytes -> id (ignore_merges only)
  AddedTokenMatcher raw_matcher_;                       // normalized=false added tokens
  AddedTokenMatcher normalized_matcher_;                // normalized=true ones (NFC content)
  std::unique_ptr<BpeModel> model_;
  bool nfc_;
  bool ignore_merges_;
};

}  // namespace lastrank::tok
