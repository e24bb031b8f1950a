// The packed-weight cache file (docs/model-files.md, "Start-up: the packed-weight cache"): named
// entries of byte arrays stored under a key, read back in place through a read-only mapping.
// It knows nothing of what the arrays mean (backend/cpu/cpu_weight_cache.h does). A cache file is
// untrusted input: parse_cache_table checks every field, and each array carries an XXH3-64 checksum
// that the reader verifies before use.
//
// Layout, host byte order (the endian marker rejects a file of the other order):
//   [0, 64)   prelude: "LRWCACHE", u32 format version (kWeightCacheFormat), u32 0x01020304,
//             u64 file size, u64 table size, u64 XXH3-64 of the table, u64 XXH3-64 of bytes
//             [0, 40), 16 zero bytes
//   [64, 64 + table size)   the table, JSON: {"key": "...", "entries": [{"name": "...",
//             "meta": {"field": integer, ...}, "arrays": [[offset, bytes, xxh3-64], ...]}, ...]}
//   payload   every array at a 4096-aligned offset after the table, ascending, non-overlapping,
//             inside the file; the gaps are zero.
#pragma once
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace lastrank {

constexpr uint32_t kWeightCacheFormat = 1;   // bump on any change of the layout above
constexpr uint64_t kCachePrelude = 64;       // bytes
constexpr uint64_t kCacheAlign = 4096;       // payload arrays start on page boundaries
constexpr uint64_t kMaxCacheTable = 16 << 20;  // bytes of table JSON accepted

struct CacheArray {
  uint64_t offset = 0, bytes = 0, checksum = 0;
};
struct CacheEntry {
  std::string name;
  std::map<std::string, int64_t> meta;
  std::vector<CacheArray> arrays;
};
struct CacheTable {
  std::string key;
  std::vector<CacheEntry> entries;
};

// The prelude and table of a cache file image of `size` bytes, all checked (magic, version, byte
// order, sizes, both checksums, JSON types, array bounds and alignment); throws lastrank::Error
// saying what is wrong. Array contents are not read.
CacheTable parse_cache_table(const uint8_t* data, size_t size);

// XXH3-64 of n bytes (the arrays' and the table's checksum).
uint64_t cache_checksum(const void* p, size_t n);
// XXH3-128 of n bytes as 32 lower-case hex digits (cache file names, content hashes in keys).
std::string cache_hash_hex(const void* p, size_t n);

// One cache file, mapped read-only (PROT_READ, MAP_PRIVATE) with its table parsed.
class CacheFile {
 public:
  // Throws lastrank::Error if the file cannot be opened or mapped, or parse_cache_table fails.
  static std::shared_ptr<CacheFile> open(const std::string& path);
  ~CacheFile();
  CacheFile(const CacheFile&) = delete;
  CacheFile& operator=(const CacheFile&) = delete;

  const CacheTable& table() const { return table_; }
  const uint8_t* at(const CacheArray& a) const { return base_ + a.offset; }
  bool verify(const CacheArray& a) const { return cache_checksum(at(a), a.bytes) == a.checksum; }

 private:
  CacheFile() = default;
  const uint8_t* base_ = nullptr;
  size_t size_ = 0;
  CacheTable table_;
};

// What write_cache_file stores for one entry: the arrays are read from memory as they are.
struct CacheEntrySource {
  std::string name;
  std::map<std::string, int64_t> meta;
  std::vector<std::pair<const void*, size_t>> arrays;  // data, bytes (> 0)
};

// Writes the cache file at `path` atomically: a temporary file in the same directory, its space
// reserved first (a full disk fails before any data is written), fsync, then rename over `path`.
// A reader of the old file keeps its mapping; concurrent writers each rename a complete file.
// Throws lastrank::Error (the temporary removed) on any failure.
void write_cache_file(const std::string& path, const std::string& key, const std::vector<CacheEntrySource>& entries);

}  // namespace lastrank
