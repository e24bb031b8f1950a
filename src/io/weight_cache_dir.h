// Where the start-up cache files live (packed weights, and the shared prompt prefix's K/V), what
// they are named, and how many are kept (docs/model-files.md, "Start-up: the packed-weight cache").
#pragma once
#include <cstdint>
#include <string>

namespace lastrank {

// What a cache file holds: packed weights (backend/cpu/cpu_weight_cache.h), the K/V of the shared
// prompt prefix (model/prefix_cache.h) or tokenizer.json's parse (tokenizer/tokenizer_cache.h).
// Each kind is named, kept and pruned on its own.
enum class CacheFileKind { packed, prefix, tokenizer };
constexpr CacheFileKind kCacheFileKinds[] = {CacheFileKind::packed, CacheFileKind::prefix, CacheFileKind::tokenizer};
const char* cache_file_kind_name(CacheFileKind kind);  // "packed", "prefix", "tokenizer": the file name's start

// Cache files kept per directory and kind: the most recently used ones (one per checkpoint x
// precision x kernel set; prefix files also per build; tokenizer files per tokenizer.json and
// build); older ones are deleted after each write.
// Qwen3-0.6B: ~0.9 GB (bf16, fp32 of a bf16 checkpoint), ~0.6 GB (int8) packed; 21 MB prefix; 5 MB tokenizer.
constexpr int kWeightCacheKeep = 4;
// A write is skipped (the cache disabled for that load, with a message) unless the file system
// keeps at least this much free beyond the file.
constexpr uint64_t kWeightCacheMinFree = uint64_t(1) << 30;

// The front ends' default directory: $LASTRANK_WEIGHT_CACHE if set ("" or "off": no cache), else
// $XDG_CACHE_HOME/lastrank, else $HOME/.cache/lastrank, else "" (no cache).
std::string default_weight_cache_dir();
// A front end's choice: "" when disabled (--no-weight-cache), else `dir` (--weight-cache) if
// given, else default_weight_cache_dir().
std::string resolve_weight_cache_dir(const std::string& dir, bool disabled);

// dir/<kind>-<XXH3-128 of key, hex>.lrwc: one file per key.
std::string weight_cache_path(const std::string& dir, const std::string& key,
                              CacheFileKind kind = CacheFileKind::packed);

// Creates dir (and its parents) if needed. "" when a file of `bytes` may be written there, else
// why not (not a directory, cannot create, too little free space).
std::string weight_cache_dir_problem(const std::string& dir, uint64_t bytes);

// Marks `path` as just used (its modification time), so pruning keeps it.
void touch_weight_cache(const std::string& path);

// Deletes all but the kWeightCacheKeep most recently used cache files of `keep`'s kind in dir (never
// `keep`), and temporary files of writers that died more than an hour ago. Errors are ignored.
void prune_weight_cache(const std::string& dir, const std::string& keep);

}  // namespace lastrank
