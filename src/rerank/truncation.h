// The reference's truncation rule (_truncate_texts, docs/DEVELOPERS.md "rerank"), in one place:
// the engine applies it with its own limits, and the request module (src/api/truncation.h)
// with a request's lower limits or from the left (TEI truncation_direction).
#pragma once
#include <cstddef>
#include <string>
#include <string_view>

#include "tokenizer/tokenizer.h"

namespace lastrank {

enum class TruncationSide { right, left };

struct TruncatedText {
  std::string text;   // the text that goes into the prompt
  size_t tokens = 0;  // its token count after truncation (<= max_tokens), as the reference counts it
};

// Tokenizes text keeping at most max_tokens tokens (the first ones, or the last ones for left);
// if that reached max_tokens (>=, so an exactly-max text is also round-tripped), the text is
// replaced by the decoded kept ids, else it is returned unchanged.
TruncatedText truncate_text(const Tokenizer& tok, std::string_view text, size_t max_tokens,
                            TruncationSide side = TruncationSide::right);

}  // namespace lastrank
