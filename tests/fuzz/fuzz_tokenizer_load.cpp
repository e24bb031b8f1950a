// libFuzzer target: tokenizer.json loading from arbitrary bytes (untrusted file). Loading either
// succeeds or throws lastrank::Error; a loaded tokenizer must then encode/decode without crashing.
// Seeds (tests/fuzz/seeds/fuzz_tokenizer_load/) are small valid tokenizer JSONs.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/error.h"
#include "tokenizer/tokenizer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  std::unique_ptr<lastrank::Tokenizer> tok;
  try {
    tok = lastrank::Tokenizer::load_json(text);
  } catch (const lastrank::Error&) {
    return 0;
  }
  for (std::string_view s : {"hello world", "<|x|> aaab \xC3\xA9\xCC\x81 12", "\xFF\xE4\xB8", "'s 'LL\r\n\t x"}) {
    const auto ids = tok->encode(s);
    (void)tok->decode(ids);
    (void)tok->encode_truncated(s, 2);
  }
  (void)tok->decode({-1, 0, 1, 255, 256, tok->vocab_size(), tok->vocab_size() - 1});
  (void)tok->id_to_token(tok->vocab_size() - 1);
  return 0;
}
