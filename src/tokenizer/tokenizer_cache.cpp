// The tokenizer cache file: key, write, read (tokenizer_cache.h); and loading tokenizer.json
// through it.
#include "tokenizer/tokenizer_cache.h"

#include <map>
#include <set>

#include "core/error.h"
#include "io/mmap_file.h"
#include "io/weight_cache_dir.h"
#include "io/weight_cache_file.h"
#include "tokenizer/tokenizer_json.h"
#include "tokenizer/utf8.h"

namespace lastrank {
namespace tok {
namespace {

constexpr int64_t kMaxCount = int64_t(1) << 32;  // strings' bytes and merges: uint32 offsets / ranks

enum AddedFlag : uint8_t { kSpecial = 1, kSingleWord = 2, kLstrip = 4, kRstrip = 8, kNormalized = 16 };
constexpr uint8_t kAllAddedFlags = 31;

const char* const kEntryNames[] = {"tokenizer",  "token offsets", "token bytes",   "token present", "added ids",
                                   "added flags", "added offsets", "added bytes", "merges"};

// Strings as offsets [n + 1] into their concatenated bytes.
struct StringTable {
  std::vector<uint32_t> offsets{0};
  std::string bytes;
  void add(const std::string& s) {
    bytes += s;
    if (int64_t(bytes.size()) >= kMaxCount) fail("tokenizer cache: the strings exceed 4 GiB");
    offsets.push_back(uint32_t(bytes.size()));
  }
};

uint8_t added_flags(const AddedToken& t) {
  return uint8_t((t.special ? kSpecial : 0) | (t.single_word ? kSingleWord : 0) | (t.lstrip ? kLstrip : 0) |
                 (t.rstrip ? kRstrip : 0) | (t.normalized ? kNormalized : 0));
}

// The entries of the file, each holding one array of what the spec holds.
struct Written {
  StringTable tokens, added_contents;
  std::vector<uint8_t> present, added_flag;
  std::vector<int32_t> added_ids;
  std::vector<MergeRecord> merges;
  std::vector<CacheEntrySource> entries;

  void entry(const char* name, const void* p, size_t bytes) {
    if (bytes > 0) entries.push_back({name, {}, {{p, bytes}}});
  }
  template <typename T>
  void entry(const char* name, const std::vector<T>& v) {
    entry(name, v.data(), v.size() * sizeof(T));
  }
};

void collect(const TokenizerSpec& spec, Written& w) {
  for (size_t id = 0; id < spec.id_to_token.size(); ++id) {
    w.tokens.add(spec.id_to_token[id]);
    w.present.push_back(spec.has_token[id] ? 1 : 0);
  }
  for (const AddedToken& t : spec.added) {
    w.added_ids.push_back(t.id);
    w.added_flag.push_back(added_flags(t));
    w.added_contents.add(t.content);
  }
  spec.model->merges().for_each([&](int32_t left, int32_t right, MergeMap::Value v) {
    w.merges.push_back({left, right, v.rank, v.id});
  });
}

// The file's entries by name, each read as one array of a known element count.
class Entries {
 public:
  explicit Entries(const CacheFile& file) : file_(file) {
    const std::set<std::string> known(std::begin(kEntryNames), std::end(kEntryNames));
    for (const CacheEntry& e : file.table().entries) {
      if (!known.count(e.name)) fail("unknown entry \"", e.name, "\"");
      if (!by_name_.emplace(e.name, &e).second) fail("entry \"", e.name, "\" appears twice");
    }
  }
  const CacheEntry& header() const {
    auto it = by_name_.find("tokenizer");
    if (it == by_name_.end()) fail("it has no \"tokenizer\" entry");
    return *it->second;
  }
  // The one array of entry `name`, of exactly `count` T (checksum verified); the entry must be
  // absent when count is 0 (nullptr then).
  template <typename T>
  const T* array(const char* name, int64_t count) const {
    auto it = by_name_.find(name);
    if (count == 0) {
      if (it != by_name_.end()) fail("entry \"", name, "\" should be absent (no elements)");
      return nullptr;
    }
    if (it == by_name_.end()) fail("entry \"", name, "\" is missing");
    const CacheEntry& e = *it->second;
    if (e.arrays.size() != 1 || e.arrays[0].bytes != uint64_t(count) * sizeof(T))
      fail("entry \"", name, "\" does not hold ", count, " elements of ", sizeof(T), " bytes");
    if (!file_.verify(e.arrays[0])) fail("entry \"", name, "\": checksum mismatch (corrupt)");
    return reinterpret_cast<const T*>(file_.at(e.arrays[0]));
  }

 private:
  const CacheFile& file_;
  std::map<std::string, const CacheEntry*> by_name_;
};

int64_t meta_value(const CacheEntry& e, const char* field, int64_t lo, int64_t hi) {
  auto it = e.meta.find(field);
  if (it == e.meta.end()) fail("the header has no \"", field, "\"");
  if (it->second < lo || it->second > hi) fail("the header's ", field, " = ", it->second, " is outside [", lo, ", ", hi, "]");
  return it->second;
}

// n strings from offsets [n + 1] into `bytes` bytes at b.
std::vector<std::string> strings(const uint32_t* off, int64_t n, const char* b, int64_t bytes, const char* what) {
  if (off[0] != 0 || int64_t(off[n]) != bytes) fail(what, ": the offsets do not span the ", bytes, " bytes");
  for (int64_t i = 0; i < n; ++i)  // all of them before any string is read: then each lies in [0, bytes]
    if (off[i + 1] < off[i]) fail(what, ": offset ", i + 1, " goes backwards");
  // Each must be valid UTF-8, as the JSON strings they came from: the tokenizer never meets others.
  // So the bytes are, and every string starts on a code point (not on a continuation byte 10xxxxxx).
  if (utf8_valid_prefix({b, size_t(bytes)}) != size_t(bytes)) fail(what, ": the strings are not valid UTF-8");
  std::vector<std::string> out(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    if (off[i] < bytes && (static_cast<unsigned char>(b[off[i]]) & 0xC0) == 0x80)
      fail(what, ": string ", i, " starts inside a UTF-8 sequence");
    out[size_t(i)].assign(b + off[i], off[i + 1] - off[i]);
  }
  return out;
}

// An id that must name an existing token (or be -1 where allow_none).
int32_t token_id(int64_t id, const TokenizerSpec& spec, bool allow_none, const char* what) {
  if (allow_none && id == -1) return -1;
  if (id < 0 || id >= int64_t(spec.has_token.size()) || !spec.has_token[size_t(id)])
    fail(what, ": id ", id, " is not a token");
  return int32_t(id);
}

struct Header {
  int64_t tokens, string_bytes, added, added_bytes, merges, unk_id;
  bool nfc, ignore_merges;
};

Header read_header(const CacheEntry& e) {
  Header h{};
  h.tokens = meta_value(e, "tokens", 0, kMaxTokenId);
  h.string_bytes = meta_value(e, "string_bytes", 0, kMaxCount - 1);
  h.added = meta_value(e, "added", 0, kMaxTokenId);
  h.added_bytes = meta_value(e, "added_bytes", 0, kMaxCount - 1);
  h.merges = meta_value(e, "merges", 0, kMaxCount - 1);
  h.unk_id = meta_value(e, "unk_id", -1, kMaxTokenId);
  h.nfc = meta_value(e, "nfc", 0, 1) != 0;
  h.ignore_merges = meta_value(e, "ignore_merges", 0, 1) != 0;
  if (e.meta.size() != 8) fail("the header has ", e.meta.size(), " fields, expected 8");
  return h;
}

void read_added(const Entries& in, const Header& h, TokenizerSpec& spec) {
  const int32_t* ids = in.array<int32_t>("added ids", h.added);
  const uint8_t* flags = in.array<uint8_t>("added flags", h.added);
  const uint32_t* off = in.array<uint32_t>("added offsets", h.added + 1);
  const char* bytes = in.array<char>("added bytes", h.added_bytes);
  std::vector<std::string> contents = strings(off, h.added, bytes, h.added_bytes, "added tokens");
  for (int64_t i = 0; i < h.added; ++i) {
    if (flags[i] & ~kAllAddedFlags) fail("added token ", i, ": unknown flags ", int(flags[i]));
    AddedToken t;
    t.id = token_id(ids[i], spec, false, "added token");
    t.content = std::move(contents[size_t(i)]);
    t.special = flags[i] & kSpecial;
    t.single_word = flags[i] & kSingleWord;
    t.lstrip = flags[i] & kLstrip;
    t.rstrip = flags[i] & kRstrip;
    t.normalized = flags[i] & kNormalized;
    spec.added.push_back(std::move(t));
  }
}

// The merge map, inserted in the writer's slot order: the same capacity, so mostly ascending slots.
MergeMap read_merges(const Entries& in, const Header& h, const TokenizerSpec& spec) {
  const MergeRecord* m = in.array<MergeRecord>("merges", h.merges);
  MergeMap map;
  map.reserve(size_t(h.merges));
  for (int64_t i = 0; i < h.merges; ++i) {
    if (m[i].rank == MergeMap::kNoRank) fail("merge ", i, ": no rank");
    map.insert(token_id(m[i].left, spec, false, "merge"), token_id(m[i].right, spec, false, "merge"),
               {m[i].rank, token_id(m[i].id, spec, false, "merge")});
  }
  return map;
}

}  // namespace

void write_tokenizer_cache(const std::string& path, const std::string& key, const TokenizerSpec& spec) {
  LR_CHECK(spec.model && spec.has_token.size() == spec.id_to_token.size());
  Written w;
  collect(spec, w);
  const std::vector<int32_t>& byte_ids = spec.model->byte_ids();
  w.entries.push_back({"tokenizer",
                       {{"tokens", int64_t(spec.id_to_token.size())},
                        {"string_bytes", int64_t(w.tokens.bytes.size())},
                        {"added", int64_t(spec.added.size())},
                        {"added_bytes", int64_t(w.added_contents.bytes.size())},
                        {"merges", int64_t(w.merges.size())},
                        {"nfc", spec.nfc ? 1 : 0},
                        {"ignore_merges", spec.ignore_merges ? 1 : 0},
                        {"unk_id", spec.model->unk_id()}},
                       {{byte_ids.data(), byte_ids.size() * sizeof(int32_t)}}});
  w.entry("token offsets", w.tokens.offsets);
  w.entry("token bytes", w.tokens.bytes.data(), w.tokens.bytes.size());
  w.entry("token present", w.present);
  w.entry("added ids", w.added_ids);
  w.entry("added flags", w.added_flag);
  w.entry("added offsets", w.added_contents.offsets);
  w.entry("added bytes", w.added_contents.bytes.data(), w.added_contents.bytes.size());
  w.entry("merges", w.merges);
  write_cache_file(path, key, w.entries);
}

TokenizerSpec read_tokenizer_cache(const CacheFile& file, const std::string& key) {
  if (file.table().key != key) fail("its key differs (another tokenizer.json or lastrank build)");
  const Entries in(file);
  const Header h = read_header(in.header());
  const int32_t* byte_tokens = in.array<int32_t>("tokenizer", 256);
  TokenizerSpec spec;
  spec.nfc = h.nfc;
  spec.ignore_merges = h.ignore_merges;
  const uint32_t* off = in.array<uint32_t>("token offsets", h.tokens + 1);
  spec.id_to_token = strings(off, h.tokens, in.array<char>("token bytes", h.string_bytes), h.string_bytes, "tokens");
  const uint8_t* present = in.array<uint8_t>("token present", h.tokens);
  spec.has_token.assign(present, present + h.tokens);
  for (char& p : spec.has_token) p = p != 0;
  read_added(in, h, spec);
  std::vector<int32_t> byte_ids(256);
  for (int b = 0; b < 256; ++b) byte_ids[size_t(b)] = token_id(byte_tokens[b], spec, true, "byte token");
  const int32_t unk = token_id(h.unk_id, spec, true, "unk_token");
  spec.model = std::make_unique<BpeModel>(std::move(byte_ids), read_merges(in, h, spec), unk);
  return spec;
}

}  // namespace tok

std::string tokenizer_cache_key(std::string_view json_text) {
  const std::string preamble = build_cache_key_preamble("tokenizer", kTokenizerCacheFormat);
  if (preamble.empty()) return "";
  return cat(preamble, "\ntokenizer.json: ", json_text.size(), " bytes, XXH3-128 ",
             cache_hash_hex(json_text.data(), json_text.size()));
}

namespace {

// The parse of the mapped tokenizer.json, through the cache when a place is given.
tok::TokenizerSpec parse_through_cache(std::string_view text, const std::string& dir, const CacheLogFn& log) {
  if (dir.empty()) return tok::parse_tokenizer_json(text);
  const std::string key = tokenizer_cache_key(text);
  if (key.empty()) {
    if (log) log("disabled", kNoBuildIdDetail);
    return tok::parse_tokenizer_json(text);
  }
  const CachePlace place{dir, weight_cache_path(dir, key, CacheFileKind::tokenizer), log};
  tok::TokenizerSpec spec;
  if (read_from_cache(place, [&](const std::shared_ptr<CacheFile>& f) { spec = tok::read_tokenizer_cache(*f, key); }))
    return spec;
  spec = tok::parse_tokenizer_json(text);
  // The arrays hold less than tokenizer.json (4.6 MB for Qwen3's 6 MB), plus a page per entry.
  const uint64_t bytes = text.size() + 16 * kCacheAlign;
  write_to_cache(place, bytes, [&] { tok::write_tokenizer_cache(place.path, key, spec); });
  return spec;
}

}  // namespace

// The file is mapped and parsed in place: reading it through a stringstream copied its ~6 MB
// three times into fresh memory (growth, then str()), ~15 % of the load's CPU time.
std::unique_ptr<Tokenizer> load_tokenizer_file(const std::string& path, const std::string& cache_dir,
                                               const CacheLogFn& log) {
  std::shared_ptr<MappedFile> f;
  try {
    f = MappedFile::open(path);
  } catch (const Error& e) {
    fail("cannot open tokenizer file '", path, "': ", e.what());
  }
  try {
    const std::string_view text(reinterpret_cast<const char*>(f->data()), f->size());
    return std::make_unique<tok::BpeTokenizer>(parse_through_cache(text, cache_dir, log));
  } catch (const Error& e) {
    fail(path, ": ", e.what());
  }
}

std::unique_ptr<Tokenizer> Tokenizer::load_file(const std::string& path) { return load_tokenizer_file(path, "", {}); }

}  // namespace lastrank
