// libFuzzer target: encode/decode arbitrary bytes with the real Qwen3+jina tokenizer
// (real_tokenizer.h: $LASTRANK_TOKENIZER or <LASTRANK_DEPS_DIR>/tokenizer/tokenizer.json).
// Checks: ids in range, decode output is valid UTF-8, truncation is a prefix, count == size, and
// token_ends (chunking) has one end per id, known ends in order within the text, and for valid
// UTF-8 the last end at the text's end; cutting the text at a piece end keeps the ids.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "real_tokenizer.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/utf8.h"

namespace {

const lastrank::Tokenizer& tokenizer() { return lastrank::fuzz::real_tokenizer("fuzz_tokenizer_encode"); }

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "fuzz_tokenizer_encode: %s\n", what);
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const lastrank::Tokenizer& tok = tokenizer();
  if (size > 0 && data[0] == 0xFF) {  // decode arbitrary ids (4 bytes each)
    std::vector<int32_t> ids;
    for (size_t i = 1; i + 4 <= size; i += 4) {
      int32_t v;
      __builtin_memcpy(&v, data + i, 4);
      ids.push_back(v % (tok.vocab_size() + 8));
    }
    const std::string s = tok.decode(ids);
    check(lastrank::tok::utf8_valid_prefix(s) == s.size(), "decode returned invalid UTF-8");
    return 0;
  }
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto ids = tok.encode(text);
  for (int32_t id : ids) check(id >= 0 && id < tok.vocab_size(), "id out of range");
  const std::string back = tok.decode(ids);
  check(lastrank::tok::utf8_valid_prefix(back) == back.size(), "decode returned invalid UTF-8");
  const size_t n = ids.size() / 2;
  const auto cut = tok.encode_truncated(text, n);
  check(cut.size() == n && std::equal(cut.begin(), cut.end(), ids.begin()), "truncation is not a prefix");
  check(tok.count(text) == ids.size(), "count != encode().size()");
  const auto ends = tok.token_ends(text, SIZE_MAX);
  check(ends.size() == ids.size(), "token_ends size != encode().size()");
  size_t prev = 0, piece = 0;
  for (const auto& e : ends) {
    if (e.byte == lastrank::TokenEnd::kInside) continue;
    check(e.byte >= prev && e.byte <= text.size(), "token ends out of order");
    prev = e.byte;
    if (e.piece_end && piece == 0 && e.byte < text.size()) piece = e.byte;
  }
  const bool valid = lastrank::tok::utf8_valid_prefix(text) == text.size();
  check(!valid || ends.empty() || ends.back().byte == text.size(), "last token end is not the text's end");
  if (valid && piece > 0) {  // the first piece end inside the text: both sides keep their ids
    auto joined = tok.encode(text.substr(0, piece));
    const auto rest = tok.encode(text.substr(piece));
    joined.insert(joined.end(), rest.begin(), rest.end());
    check(joined == ids, "cutting at a piece end changed the ids");
  }
  return 0;
}
