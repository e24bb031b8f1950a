// libFuzzer target: encode/decode arbitrary bytes with the real Qwen3+jina tokenizer, loaded once
// from $LASTRANK_TOKENIZER or <repo>/.deps/tokenizer/tokenizer.json (fuzz targets are built
// without the test compile definitions, so the default is found relative to this file).
// Checks: ids in range, decode output is valid UTF-8, truncation is a prefix, count == size.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "core/error.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/utf8.h"

namespace {

const lastrank::Tokenizer& tokenizer() {
  static const std::unique_ptr<lastrank::Tokenizer> tok = [] {
    const char* env = std::getenv("LASTRANK_TOKENIZER");
    const std::string path = env && *env ? std::string(env)
                                         : (std::filesystem::path(__FILE__).parent_path() / "../../.deps/tokenizer/tokenizer.json").string();
    try {
      return lastrank::Tokenizer::load_file(path);
    } catch (const lastrank::Error& e) {
      std::fprintf(stderr, "fuzz_tokenizer_encode: %s (set LASTRANK_TOKENIZER)\n", e.what());
      std::abort();
    }
  }();
  return *tok;
}

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
  return 0;
}
