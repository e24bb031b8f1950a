// Reading a packed-weight cache file: the prelude and table checks (parse_cache_table) and the
// read-only mapping (CacheFile). Layout: weight_cache_file.h.
#include "io/weight_cache_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include <nlohmann/json.hpp>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "core/error.h"

namespace lastrank {
namespace {

constexpr char kMagic[8] = {'L', 'R', 'W', 'C', 'A', 'C', 'H', 'E'};
constexpr uint32_t kEndianMarker = 0x01020304;
constexpr size_t kMaxEntries = 1 << 20, kMaxArrays = 64, kMaxMeta = 64, kMaxName = 4096;

template <typename T>
T load(const uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

struct Prelude {
  uint64_t file_size = 0, table_size = 0, table_checksum = 0;
};

Prelude parse_prelude(const uint8_t* data, size_t size) {
  if (size < kCachePrelude) fail("weight cache: ", size, " bytes, shorter than its ", kCachePrelude, "-byte prelude");
  if (std::memcmp(data, kMagic, 8) != 0) fail("weight cache: not a lastrank weight cache file (magic)");
  if (load<uint32_t>(data + 12) != kEndianMarker) fail("weight cache: written with the other byte order");
  const uint32_t version = load<uint32_t>(data + 8);
  if (version != kWeightCacheFormat) fail("weight cache: format version ", version, ", expected ", kWeightCacheFormat);
  if (load<uint64_t>(data + 40) != cache_checksum(data, 40)) fail("weight cache: prelude checksum mismatch");
  Prelude p{load<uint64_t>(data + 16), load<uint64_t>(data + 24), load<uint64_t>(data + 32)};
  if (p.file_size != size) fail("weight cache: file has ", size, " bytes, its prelude says ", p.file_size, " (truncated?)");
  if (p.table_size == 0 || p.table_size > kMaxCacheTable || p.table_size > size - kCachePrelude)
    fail("weight cache: bad table size ", p.table_size);
  if (cache_checksum(data + kCachePrelude, p.table_size) != p.table_checksum) fail("weight cache: table checksum mismatch");
  return p;
}

int64_t json_int(const nlohmann::json& j, const char* what) {
  if (!j.is_number_integer()) fail("weight cache: ", what, " is not an integer");
  return j.get<int64_t>();
}

uint64_t json_uint(const nlohmann::json& j, const char* what) {
  if (!j.is_number_unsigned()) fail("weight cache: ", what, " is not a non-negative integer");
  return j.get<uint64_t>();
}

const std::string& json_string(const nlohmann::json& j, const char* what) {
  if (!j.is_string() || j.get_ref<const std::string&>().size() > kMaxName)
    fail("weight cache: ", what, " is not a string of at most ", kMaxName, " bytes");
  return j.get_ref<const std::string&>();
}

CacheArray parse_array(const nlohmann::json& j) {
  if (!j.is_array() || j.size() != 3) fail("weight cache: an array is not [offset, bytes, checksum]");
  return {json_uint(j[0], "array offset"), json_uint(j[1], "array size"), json_uint(j[2], "array checksum")};
}

CacheEntry parse_entry(const nlohmann::json& j) {
  if (!j.is_object() || !j.contains("name") || !j.contains("meta") || !j.contains("arrays"))
    fail("weight cache: an entry lacks name, meta or arrays");
  CacheEntry e;
  e.name = json_string(j["name"], "entry name");
  const nlohmann::json& meta = j["meta"];
  const nlohmann::json& arrays = j["arrays"];
  if (!meta.is_object() || meta.size() > kMaxMeta) fail("weight cache: entry ", e.name, ": bad meta");
  for (auto it = meta.begin(); it != meta.end(); ++it) e.meta[it.key()] = json_int(it.value(), "meta value");
  if (!arrays.is_array() || arrays.empty() || arrays.size() > kMaxArrays) fail("weight cache: entry ", e.name, ": bad arrays");
  for (const nlohmann::json& a : arrays) e.arrays.push_back(parse_array(a));
  return e;
}

// Every array page-aligned, past the table, inside the file, and no two overlapping.
void check_layout(const CacheTable& t, uint64_t payload_start, uint64_t file_size) {
  std::vector<std::pair<uint64_t, uint64_t>> spans;
  for (const CacheEntry& e : t.entries)
    for (const CacheArray& a : e.arrays) {
      if (a.offset % kCacheAlign != 0 || a.offset < payload_start || a.bytes == 0 || a.offset > file_size ||
          a.bytes > file_size - a.offset)
        fail("weight cache: entry ", e.name, ": array [", a.offset, ", +", a.bytes, ") is misplaced in a ", file_size,
             "-byte file");
      spans.emplace_back(a.offset, a.offset + a.bytes);
    }
  std::sort(spans.begin(), spans.end());
  for (size_t i = 1; i < spans.size(); ++i)
    if (spans[i].first < spans[i - 1].second) fail("weight cache: arrays overlap at offset ", spans[i].first);
}

}  // namespace

uint64_t cache_checksum(const void* p, size_t n) { return XXH3_64bits(p, n); }

std::string cache_hash_hex(const void* p, size_t n) {
  const XXH128_hash_t h = XXH3_128bits(p, n);
  char hex[33];
  std::snprintf(hex, sizeof hex, "%016llx%016llx", static_cast<unsigned long long>(h.high64),
                static_cast<unsigned long long>(h.low64));
  return hex;
}

CacheTable parse_cache_table(const uint8_t* data, size_t size) {
  const Prelude p = parse_prelude(data, size);
  const char* text = reinterpret_cast<const char*>(data + kCachePrelude);
  const nlohmann::json j = nlohmann::json::parse(text, text + p.table_size, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.contains("key") || !j.contains("entries")) fail("weight cache: table is not {key, entries}");
  const nlohmann::json& entries = j["entries"];
  if (!j["key"].is_string() || !entries.is_array() || entries.size() > kMaxEntries) fail("weight cache: bad key or entries");
  CacheTable t;
  t.key = j["key"].get<std::string>();
  for (const nlohmann::json& e : entries) t.entries.push_back(parse_entry(e));
  const uint64_t payload_start = (kCachePrelude + p.table_size + kCacheAlign - 1) / kCacheAlign * kCacheAlign;
  check_layout(t, payload_start, size);
  return t;
}

std::shared_ptr<CacheFile> CacheFile::open(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail("weight cache ", path, ": cannot open: ", std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size < off_t(kCachePrelude)) {
    ::close(fd);
    fail("weight cache ", path, ": not a regular file of at least ", kCachePrelude, " bytes");
  }
  const size_t size = size_t(st.st_size);
  // MAP_POPULATE: the pages come in one pass (the checksums read them all anyway), not one fault each.
  void* p = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
  const int err = errno;
  ::close(fd);
  if (p == MAP_FAILED) fail("weight cache ", path, ": cannot map: ", std::strerror(err));
  std::shared_ptr<CacheFile> f(new CacheFile());
  f->base_ = static_cast<const uint8_t*>(p);
  f->size_ = size;
  try {
    f->table_ = parse_cache_table(f->base_, size);
  } catch (const Error& e) {
    fail(path, ": ", e.what());  // "weight cache: ..." follows
  }
  return f;
}

CacheFile::~CacheFile() {
  if (base_) ::munmap(const_cast<uint8_t*>(base_), size_);
}

}  // namespace lastrank
