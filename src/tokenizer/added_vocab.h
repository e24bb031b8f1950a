// Added tokens (HF AddedVocabulary): every added token, special or not, is matched whole in the
// input and never split further. Matching is leftmost-longest (HF's Aho-Corasick with
// MatchKind::LeftmostLongest), then HF's single_word / lstrip / rstrip rules. Tokens with
// normalized=false are matched in the raw text, normalized=true ones in the NFC text.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace lastrank::tok {

struct AddedToken {
  int32_t id = -1;
  std::string content;
  bool special = false;
  bool single_word = false;
  bool lstrip = false;
  bool rstrip = false;
  bool normalized = false;
};

// One piece of a split: an added token (id >= 0) or text to tokenize (id < 0), [begin, end) bytes.
struct Split {
  size_t begin, end;
  int32_t id;
};

class AddedTokenMatcher {
 public:
  AddedTokenMatcher() = default;
  // patterns: (text to match, token). Empty patterns are ignored.
  explicit AddedTokenMatcher(std::vector<AddedToken> tokens);
  bool empty() const { return tokens_.empty(); }
  // Splits text (valid UTF-8) into added tokens and the text between them (pieces tile text,
  // except whitespace eaten by lstrip/rstrip, which belongs to the token's piece).
  void split(std::string_view text, std::vector<Split>& out) const;

 private:
  std::vector<AddedToken> tokens_;  // sorted by (first byte, length descending)
  uint32_t first_begin_[256] = {};  // index range in tokens_ of patterns starting with byte b
  uint32_t first_end_[256] = {};
};

}  // namespace lastrank::tok
