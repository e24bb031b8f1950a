// Packed-weight cache directory policy: location, file names, free space, pruning.
#include "io/weight_cache_dir.h"

#include <sys/stat.h>
#include <sys/statvfs.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <vector>

#include "core/error.h"
#include "io/weight_cache_file.h"

namespace lastrank {
namespace {

namespace fs = std::filesystem;

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : std::string();
}

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

// A cache file of the kind whose names start with `start` ("packed-", "prefix-").
bool is_cache_file(const std::string& name, const std::string& start) {
  return name.rfind(start, 0) == 0 && name.size() > start.size() + 5 && ends_with(name, ".lrwc");
}

// A writer's temporary file: ".tmp-" + the cache file's name + ".XXXXXX" (weight_cache_write.cpp).
bool is_temp_file(const std::string& name) {
  for (CacheFileKind kind : kCacheFileKinds)
    if (name.rfind(cat(".tmp-", cache_file_kind_name(kind), "-"), 0) == 0) return true;
  return false;
}

// "packed-", "prefix-" or "tokenizer-": the start of the name of a cache file at `path`.
std::string kind_start(const std::string& path) {
  const std::string name = fs::path(path).filename().string();
  return name.substr(0, name.find('-') + 1);
}

}  // namespace

std::string default_weight_cache_dir() {
  if (const char* v = std::getenv("LASTRANK_WEIGHT_CACHE")) {
    const std::string s(v);
    return s == "off" ? std::string() : s;
  }
  const std::string xdg = env("XDG_CACHE_HOME");
  if (!xdg.empty() && xdg[0] == '/') return xdg + "/lastrank";
  const std::string home = env("HOME");
  return home.empty() ? std::string() : home + "/.cache/lastrank";
}

std::string resolve_weight_cache_dir(const std::string& dir, bool disabled) {
  if (disabled) return "";
  return dir.empty() ? default_weight_cache_dir() : dir;
}

const char* cache_file_kind_name(CacheFileKind kind) {
  switch (kind) {
    case CacheFileKind::packed: return "packed";
    case CacheFileKind::prefix: return "prefix";
    case CacheFileKind::tokenizer: return "tokenizer";
  }
  return "?";
}

std::string weight_cache_path(const std::string& dir, const std::string& key, CacheFileKind kind) {
  return cat(dir, "/", cache_file_kind_name(kind), "-", cache_hash_hex(key.data(), key.size()), ".lrwc");
}

std::string weight_cache_dir_problem(const std::string& dir, uint64_t bytes) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (!fs::is_directory(dir)) return cat("cannot create the directory ", dir, ec ? ": " + ec.message() : "");
  struct statvfs v {};
  if (::statvfs(dir.c_str(), &v) != 0) return cat("cannot stat ", dir, ": ", std::strerror(errno));
  if (v.f_flag & ST_RDONLY) return cat(dir, " is on a read-only file system");
  const uint64_t free_bytes = uint64_t(v.f_bavail) * v.f_frsize;
  if (free_bytes < bytes + kWeightCacheMinFree)
    return cat(dir, " has ", free_bytes >> 20, " MiB free; the cache file needs ", bytes >> 20, " MiB and ",
               kWeightCacheMinFree >> 20, " MiB are kept free");
  return "";
}

void touch_weight_cache(const std::string& path) {
  std::error_code ec;
  fs::last_write_time(path, fs::file_time_type::clock::now(), ec);
}

void prune_weight_cache(const std::string& dir, const std::string& keep) {
  std::error_code ec;
  std::vector<std::pair<fs::file_time_type, fs::path>> files;
  const std::string start = kind_start(keep);
  const auto stale_temp = fs::file_time_type::clock::now() - std::chrono::hours(1);
  for (const fs::directory_entry& e : fs::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    const fs::file_time_type t = e.last_write_time(ec);
    if (ec) continue;
    if (is_temp_file(name) && t < stale_temp) fs::remove(e.path(), ec);
    if (is_cache_file(name, start) && name != fs::path(keep).filename().string()) files.emplace_back(t, e.path());
  }
  std::sort(files.begin(), files.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  for (size_t i = kWeightCacheKeep - 1; i < files.size(); ++i) fs::remove(files[i].second, ec);
}

}  // namespace lastrank
