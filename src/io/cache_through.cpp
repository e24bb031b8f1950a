// The shared load-or-make path of the start-up cache files (cache_through.h).
#include "io/cache_through.h"

#include <sys/stat.h>

#include <bit>

#include "core/build_id.h"
#include "core/error.h"
#include "io/weight_cache_dir.h"
#include "io/weight_cache_file.h"

namespace lastrank {
namespace {

std::string one_line(const std::string& s) {
  std::string o = s;
  for (char& c : o)
    if (c == '\n') c = ' ';
  return o;
}

void report(const CachePlace& place, const std::string& status, const std::string& detail) {
  if (place.log) place.log(status, detail);
}

}  // namespace

std::string cache_key_preamble(const std::string& what, int64_t format) {
  return cat("lastrank ", what, "\ncache format: ", format, "\nlastrank: ", LASTRANK_VERSION,
             "\nbyte order: ", std::endian::native == std::endian::little ? "little" : "big");
}

std::string build_cache_key_preamble(const std::string& what, int64_t format) {
  if (build_id().empty()) return "";
  return cat(cache_key_preamble(what, format), "\nbuild: ", build_id());
}

bool read_from_cache(const CachePlace& place, const std::function<void(const std::shared_ptr<CacheFile>&)>& adopt) {
  struct stat st {};
  if (::stat(place.path.c_str(), &st) != 0) return false;
  try {
    std::shared_ptr<CacheFile> file = CacheFile::open(place.path);  // its errors name the path
    try {
      adopt(file);
    } catch (const Error& e) {
      fail(place.path, ": ", e.what());
    }
  } catch (const Error& e) {
    report(place, "ignored", one_line(e.what()));
    return false;
  }
  touch_weight_cache(place.path);
  report(place, "hit", place.path);
  return true;
}

void write_to_cache(const CachePlace& place, uint64_t bytes, const std::function<void()>& write) {
  const std::string problem = weight_cache_dir_problem(place.dir, bytes);
  if (!problem.empty()) return report(place, "disabled", problem);
  try {
    write();
    prune_weight_cache(place.dir, place.path);
    report(place, "written", cat(place.path, " (", (bytes + (1 << 19)) >> 20, " MiB)"));
  } catch (const Error& e) {
    report(place, "disabled", e.what());
  }
}

}  // namespace lastrank
