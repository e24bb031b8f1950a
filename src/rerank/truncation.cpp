#include "rerank/truncation.h"

#include <vector>

namespace lastrank {

TruncatedText truncate_text(const Tokenizer& tok, std::string_view text, size_t max_tokens, TruncationSide side) {
  std::vector<int32_t> ids;
  if (side == TruncationSide::right) {
    ids = tok.encode_truncated(text, max_tokens);
  } else {
    ids = tok.encode(text);
    if (ids.size() > max_tokens) ids.erase(ids.begin(), ids.end() - std::ptrdiff_t(max_tokens));
  }
  TruncatedText t;
  t.tokens = ids.size();
  t.text = ids.size() >= max_tokens ? tok.decode(ids) : std::string(text);
  return t;
}

}  // namespace lastrank
