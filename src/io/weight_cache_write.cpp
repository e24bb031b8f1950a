// Writing a packed-weight cache file (layout: weight_cache_file.h): lay the arrays out after the
// table, checksum them, and write a temporary file that is renamed over the target once complete
// and on disk.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "io/weight_cache_file.h"

namespace lastrank {
namespace {

uint64_t align_up(uint64_t v) { return (v + kCacheAlign - 1) / kCacheAlign * kCacheAlign; }

// The table JSON with the arrays placed from payload_start on; *end: the file size.
std::string table_json(const std::string& key, const std::vector<CacheEntrySource>& entries,
                       const std::vector<std::vector<uint64_t>>& sums, uint64_t payload_start, uint64_t* end) {
  nlohmann::json list = nlohmann::json::array();
  uint64_t at = payload_start;
  for (size_t i = 0; i < entries.size(); ++i) {
    nlohmann::json arrays = nlohmann::json::array();
    for (size_t a = 0; a < entries[i].arrays.size(); ++a) {
      const uint64_t bytes = entries[i].arrays[a].second;
      arrays.push_back({at, bytes, sums[i][a]});
      *end = at + bytes;
      at = align_up(at + bytes);
    }
    list.push_back({{"name", entries[i].name}, {"meta", entries[i].meta}, {"arrays", arrays}});
  }
  if (entries.empty()) *end = payload_start;
  return nlohmann::json({{"key", key}, {"entries", list}}).dump();
}

std::string prelude(uint64_t file_size, const std::string& table) {
  std::string p(kCachePrelude, '\0');
  auto put = [&](size_t at, auto v) { std::memcpy(&p[at], &v, sizeof(v)); };
  std::memcpy(&p[0], "LRWCACHE", 8);
  put(8, kWeightCacheFormat);
  put(12, uint32_t(0x01020304));
  put(16, file_size);
  put(24, uint64_t(table.size()));
  put(32, cache_checksum(table.data(), table.size()));
  put(40, cache_checksum(p.data(), 40));
  return p;
}

void write_all(int fd, const void* p, size_t n, uint64_t offset, const std::string& path) {
  const char* c = static_cast<const char*>(p);
  while (n > 0) {
    const ssize_t w = ::pwrite(fd, c, std::min<size_t>(n, size_t(1) << 30), off_t(offset));
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) fail("cannot write ", path, ": ", std::strerror(w < 0 ? errno : EIO));
    c += w;
    n -= size_t(w);
    offset += uint64_t(w);
  }
}

// Reserves the whole file first, so a full disk fails here rather than half-way (file systems
// without fallocate go on and fail at the write instead).
void reserve(int fd, uint64_t size, const std::string& path) {
  const int r = ::posix_fallocate(fd, 0, off_t(size));
  if (r != 0 && r != EOPNOTSUPP && r != EINVAL) fail("cannot reserve ", size, " bytes for ", path, ": ", std::strerror(r));
}

void write_temp(int fd, const std::string& tmp, const std::string& head, const std::vector<CacheEntrySource>& entries,
                const nlohmann::json& placed, uint64_t file_size) {
  reserve(fd, file_size, tmp);
  write_all(fd, head.data(), head.size(), 0, tmp);
  for (size_t i = 0; i < entries.size(); ++i)
    for (size_t a = 0; a < entries[i].arrays.size(); ++a)
      write_all(fd, entries[i].arrays[a].first, entries[i].arrays[a].second, placed[i]["arrays"][a][0].get<uint64_t>(), tmp);
  if (::ftruncate(fd, off_t(file_size)) != 0) fail("cannot size ", tmp, ": ", std::strerror(errno));
  if (::fsync(fd) != 0) fail("cannot sync ", tmp, ": ", std::strerror(errno));
}

std::string dir_of(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
}

}  // namespace

void write_cache_file(const std::string& path, const std::string& key, const std::vector<CacheEntrySource>& entries) {
  std::vector<std::vector<uint64_t>> sums(entries.size());
  for (size_t i = 0; i < entries.size(); ++i)
    for (const auto& [data, bytes] : entries[i].arrays) {
      if (bytes == 0) fail("weight cache: entry ", entries[i].name, " has an empty array");
      sums[i].push_back(cache_checksum(data, bytes));
    }
  // The payload starts after the table, whose size depends on the offsets it lists: iterate.
  uint64_t start = align_up(kCachePrelude + 1), end = 0;
  std::string table = table_json(key, entries, sums, start, &end);
  while (align_up(kCachePrelude + table.size()) != start) {
    start = align_up(kCachePrelude + table.size());
    table = table_json(key, entries, sums, start, &end);
  }
  if (table.size() > kMaxCacheTable) fail("weight cache: table of ", table.size(), " bytes is too large");
  const nlohmann::json placed = nlohmann::json::parse(table)["entries"];
  const std::string head = prelude(end, table) + table;

  std::string tmp = dir_of(path) + "/.tmp-" + path.substr(path.rfind('/') + 1) + ".XXXXXX";
  const int fd = ::mkostemp(tmp.data(), O_CLOEXEC);
  if (fd < 0) fail("cannot create a file in ", dir_of(path), ": ", std::strerror(errno));
  try {
    write_temp(fd, tmp, head, entries, placed, end);
    ::fchmod(fd, 0644);
  } catch (...) {
    ::close(fd);
    ::unlink(tmp.c_str());
    throw;
  }
  if (::close(fd) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    fail("cannot close ", tmp, ": ", std::strerror(err));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    fail("cannot rename ", tmp, " to ", path, ": ", std::strerror(err));
  }
  const int dfd = ::open(dir_of(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);  // the rename itself durable
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
}

}  // namespace lastrank
