// libFuzzer target: tokenizer cache files (tokenizer/tokenizer_cache.h) whose checksums are right
// but whose counts, offsets, strings, ids and flags come from the input. The input first builds a
// consistent file (every referenced id a present token), which read_tokenizer_cache must accept,
// then may damage one field; a damaged file is refused with lastrank::Error or, where the damage
// left it valid, read. Whatever is read must encode and decode text from the input without a
// crash, a hang or an out-of-bounds read.
#include <fuzzer/FuzzedDataProvider.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/error.h"
#include "io/weight_cache_file.h"
#include "tokenizer/tokenizer_cache.h"
#include "tokenizer/utf8.h"

namespace {

using lastrank::CacheEntrySource;
using lastrank::tok::MergeRecord;

// The arrays of one file, as the writer lays them out (tokenizer_cache.h).
struct Image {
  std::map<std::string, int64_t> head;
  std::vector<int32_t> byte_ids = std::vector<int32_t>(256, -1);
  std::vector<uint32_t> offsets{0}, added_offsets{0};
  std::string bytes, added_bytes;
  std::vector<uint8_t> present, added_flags;
  std::vector<int32_t> added_ids;
  std::vector<MergeRecord> merges;
  int32_t unk = -1;
};

// An id of a token that exists (made present).
int32_t some_token(FuzzedDataProvider& in, Image& im) {
  const auto id = in.ConsumeIntegralInRange<int32_t>(0, int32_t(im.present.size()) - 1);
  im.present[size_t(id)] = 1;
  return id;
}

void build(FuzzedDataProvider& in, Image& im) {
  const int tokens = in.ConsumeIntegralInRange(1, 400);
  for (int i = 0; i < tokens; ++i) {
    im.bytes += lastrank::tok::utf8_sanitize(in.ConsumeRandomLengthString(6));
    im.offsets.push_back(uint32_t(im.bytes.size()));
    im.present.push_back(in.ConsumeBool());
  }
  for (int32_t& b : im.byte_ids)
    if (in.ConsumeBool()) b = some_token(in, im);
  const int added = in.ConsumeIntegralInRange(0, 4);
  for (int i = 0; i < added; ++i) {
    im.added_ids.push_back(some_token(in, im));
    im.added_flags.push_back(in.ConsumeIntegralInRange<uint8_t>(0, 31));
    im.added_bytes += lastrank::tok::utf8_sanitize(in.ConsumeRandomLengthString(8));
    im.added_offsets.push_back(uint32_t(im.added_bytes.size()));
  }
  const int merges = in.ConsumeIntegralInRange(0, 64);
  for (int i = 0; i < merges; ++i) {
    const int32_t l = some_token(in, im), r = some_token(in, im);
    im.merges.push_back({l, r, in.ConsumeIntegralInRange<uint32_t>(0, 1000), some_token(in, im)});
  }
  if (in.ConsumeBool()) im.unk = some_token(in, im);
  im.head = {{"tokens", tokens},        {"string_bytes", int64_t(im.bytes.size())},
             {"added", added},          {"added_bytes", int64_t(im.added_bytes.size())},
             {"merges", merges},        {"nfc", in.ConsumeBool()},
             {"ignore_merges", in.ConsumeBool()}, {"unk_id", im.unk}};
}

// Damages one field (or none): returns whether the file may now be invalid.
bool damage(FuzzedDataProvider& in, Image& im) {
  const int32_t v = in.ConsumeIntegral<int32_t>();
  switch (in.ConsumeIntegralInRange(0, 7)) {
    case 0: im.byte_ids[in.ConsumeIntegralInRange(0, 255)] = v; return true;
    case 1: if (!im.merges.empty()) im.merges[0].id = v; return true;
    case 2: if (!im.added_ids.empty()) im.added_ids[0] = v; return true;
    case 3: im.offsets[in.ConsumeIntegralInRange<size_t>(0, im.offsets.size() - 1)] = uint32_t(v); return true;
    case 4: im.head[in.PickValueInArray({"tokens", "string_bytes", "added", "merges", "unk_id", "nfc"})] = v; return true;
    case 5: if (!im.added_flags.empty()) im.added_flags[0] = uint8_t(v); return true;
    case 6: if (!im.bytes.empty()) im.bytes[0] = char(v); return true;
    default: return false;
  }
}

void write(const std::string& path, const Image& im) {
  std::vector<CacheEntrySource> e{{"tokenizer", im.head, {{im.byte_ids.data(), 1024}}}};
  auto put = [&](const char* name, const void* p, size_t n) {
    if (n > 0) e.push_back({name, {}, {{p, n}}});
  };
  put("token offsets", im.offsets.data(), im.offsets.size() * 4);
  put("token bytes", im.bytes.data(), im.bytes.size());
  put("token present", im.present.data(), im.present.size());
  put("added ids", im.added_ids.data(), im.added_ids.size() * 4);
  put("added flags", im.added_flags.data(), im.added_flags.size());
  put("added offsets", im.added_offsets.data(), im.added_offsets.size() * 4);
  put("added bytes", im.added_bytes.data(), im.added_bytes.size());
  put("merges", im.merges.data(), im.merges.size() * sizeof(MergeRecord));
  lastrank::write_cache_file(path, "key", e);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // On tmpfs where there is one: the writer's fsync is then free.
  static const std::string path = std::string(::access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp") +
                                  "/lastrank-fuzz-tokenizer-cache-" + std::to_string(::getpid()) + ".lrwc";
  FuzzedDataProvider in(data, size);
  Image im;
  build(in, im);
  const bool damaged = damage(in, im);
  const std::string text = in.ConsumeRemainingBytesAsString();
  write(path, im);
  std::unique_ptr<lastrank::Tokenizer> tok;
  try {
    tok = std::make_unique<lastrank::tok::BpeTokenizer>(
        lastrank::tok::read_tokenizer_cache(*lastrank::CacheFile::open(path), "key"));
  } catch (const lastrank::Error& e) {
    if (!damaged) {
      std::fprintf(stderr, "a consistent cache file was refused: %s\n", e.what());
      std::abort();
    }
    return 0;
  }
  const std::vector<int32_t> ids = tok->encode(text);
  (void)tok->decode(ids);
  (void)tok->token_ends(text, 16);
  return 0;
}
