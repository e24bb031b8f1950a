// The load path every start-up cache file shares (packed weights, backend/cpu/cpu_weight_cache.h;
// the shared prefix's K/V, model/prefix_cache.h; tokenizer.json's parse,
// tokenizer/tokenizer_cache.h): use the file when it is valid, else make the contents and write
// them there, reporting each step (docs/model-files.md, "Start-up: the packed-weight cache"). A
// cache problem is reported, never thrown.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace lastrank {

class CacheFile;

// status: "hit" (used), "written", "ignored" (a file there was not used; detail says why; the
// contents are made again and the file rewritten) or "disabled" (not written; detail: why).
using CacheLogFn = std::function<void(const std::string& status, const std::string& detail)>;

struct CachePlace {
  std::string dir;   // the cache directory
  std::string path;  // the file in it (io/weight_cache_dir.h: weight_cache_path)
  CacheLogFn log;    // may be empty
};

// The first lines of every cache key: "lastrank <what>", the cache format version, the lastrank
// version and the byte order (then each kind adds what its contents depend on).
std::string cache_key_preamble(const std::string& what, int64_t format);
// cache_key_preamble plus this build's GNU build ID (core/build_id.h), for contents that only the
// code that computed them may read back (the shared prefix's K/V, tokenizer.json's parse). "" when
// the build has none: such contents are then never cached, and the loader logs "disabled" with
// kNoBuildIdDetail.
std::string build_cache_key_preamble(const std::string& what, int64_t format);
inline constexpr const char* kNoBuildIdDetail = "this build has no GNU build ID";

// When place.path exists: opens it and calls adopt, which throws lastrank::Error when the file's
// key or contents do not fit. true (logged "hit", the file touched) when adopt returned; false
// when there is no file, or it could not be opened or adopted (logged "ignored" with the reason).
bool read_from_cache(const CachePlace& place, const std::function<void(const std::shared_ptr<CacheFile>&)>& adopt);

// Calls write (which writes place.path, throwing lastrank::Error on failure) when the directory
// has room for `bytes`, then prunes the older files of its kind. Logged "written", or "disabled"
// with the reason when the directory is unusable or write threw.
void write_to_cache(const CachePlace& place, uint64_t bytes, const std::function<void()>& write);

}  // namespace lastrank
