// tokenizer.json's parse result kept across processes (docs/model-files.md, "Start-up: the
// tokenizer cache"): parsing the 6 MB JSON of Qwen3's tokenizer is ~0.25 s of one core at every
// one-shot start, mostly in the JSON lexer; reading the same vocabulary, added tokens and merges
// back from a cache file takes a few milliseconds. One cache file (io/weight_cache_file.h) per
// key, beside the packed weights, with one entry per array:
//   "tokenizer"      meta tokens, string_bytes, added, added_bytes, merges, nfc, ignore_merges,
//                    unk_id; array: the 256 byte-token ids (int32, -1 for none)
//   "token offsets"  uint32 [tokens + 1] into "token bytes" (id -> vocab string)
//   "token bytes"    the vocab strings, concatenated
//   "token present"  uint8 [tokens]: 1 where the id exists
//   "added ids", "added flags" (uint8: special 1, single_word 2, lstrip 4, rstrip 8, normalized 16),
//   "added offsets" (uint32 [added + 1]), "added bytes": the added tokens, as listed
//   "merges"         MergeRecord [merges]: the merge map's pairs, in no particular order
// An entry whose array would be empty is left out (the cache file format has no empty arrays).
// The file is read as untrusted: every count, offset and id is checked before use.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "io/cache_through.h"
#include "tokenizer/bpe_tokenizer.h"

namespace lastrank {

class CacheFile;

constexpr int kTokenizerCacheFormat = 1;  // bump on any change of the entries above or of the key

// What the cached parse depends on: the cache format, lastrank version, build ID (core/build_id.h:
// any change of the parser) and byte order, and tokenizer.json's size and XXH3-128. "" when this
// build has no build ID (nothing is cached then).
std::string tokenizer_cache_key(std::string_view json_text);

// Loads the tokenizer.json at path (Tokenizer::load_file's errors). With a cache directory, its
// parse comes from the cache file of its key when that is valid, else it is parsed and the file
// written; each step is logged as read_from_cache / write_to_cache do (log may be empty).
std::unique_ptr<Tokenizer> load_tokenizer_file(const std::string& path, const std::string& cache_dir,
                                               const CacheLogFn& log);

namespace tok {

struct MergeRecord {
  int32_t left, right;
  uint32_t rank;
  int32_t id;
};

// The cache file's two halves (exposed for the tests and the fuzz target). write throws
// lastrank::Error on an I/O failure; read throws when the key, an entry or a value does not fit.
void write_tokenizer_cache(const std::string& path, const std::string& key, const TokenizerSpec& spec);
TokenizerSpec read_tokenizer_cache(const CacheFile& file, const std::string& key);

}  // namespace tok
}  // namespace lastrank
