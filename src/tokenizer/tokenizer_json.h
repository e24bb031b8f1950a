// tokenizer.json (untrusted) to the parts a BpeTokenizer is built from (tokenizer_json.cpp). The
// tokenizer cache (tokenizer/tokenizer_cache.h) keeps this result across processes.
#pragma once
#include <cstdint>
#include <string_view>

#include "tokenizer/bpe_tokenizer.h"

namespace lastrank::tok {

// Token ids index dense tables: ids at or above this are refused (2M > any vocabulary), in
// tokenizer.json and in the tokenizer cache (tokenizer_cache.cpp).
constexpr int64_t kMaxTokenId = int64_t(1) << 21;

// Checks the structure and the pipeline (tokenizer_json.cpp's header says which); throws
// lastrank::Error naming what was expected and what was found.
TokenizerSpec parse_tokenizer_json(std::string_view json_text);

}  // namespace lastrank::tok
