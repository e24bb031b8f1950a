// Safetensors reader (see safetensors.h). Validation follows the safetensors crate: header length
// capped and inside the file, UTF-8 JSON object, known dtypes, non-negative shapes without
// overflow, byte length == numel * dtype size, offsets sorted contiguous from 0 covering the
// data section exactly. Sharded checkpoints: model.safetensors.index.json names plain files in
// the same directory, each tensor lives in exactly the shard the index says.
#include "io/safetensors.h"

#include <sys/stat.h>

#include <algorithm>
#include <cstring>
#include <nlohmann/json.hpp>
#include <set>

#include "core/error.h"
#include "io/mmap_file.h"
#include "io/text_clip.h"

namespace lastrank {

namespace {

using Json = nlohmann::json;

constexpr uint64_t kMaxIndexFile = 64ull << 20;  // index.json of the real model is ~30 KB
constexpr int kMaxRank = 4;                      // TensorView's limit

struct Entry {
  std::string name;
  DType dtype;
  int rank;
  std::array<int64_t, 4> shape;
  uint64_t begin, end;
};

// Safetensors dtype strings we can represent, and the ones we know but cannot.
bool parse_dtype(const std::string& s, DType* out) {
  static const std::pair<const char*, DType> kKnown[] = {
      {"F32", DType::F32}, {"F16", DType::F16}, {"BF16", DType::BF16}, {"I8", DType::I8}, {"I32", DType::I32}};
  for (const auto& [n, t] : kKnown)
    if (s == n) {
      *out = t;
      return true;
    }
  return false;
}

bool is_known_unsupported_dtype(const std::string& s) {
  static const char* kOther[] = {"BOOL", "U8", "I16", "U16", "U32", "I64", "U64", "F64", "F8_E5M2",
                                 "F8_E4M3", "F8_E8M0", "F4", "F6_E2M3", "F6_E3M2", "C64"};
  for (const char* n : kOther)
    if (s == n) return true;
  return false;
}

std::string shape_text(const Json& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += shape[i].is_number_integer() ? std::to_string(shape[i].get<int64_t>()) : std::string("?");
  }
  return s + "]";
}

// Reads a non-negative JSON integer (uint64); false if the value is not one.
bool as_u64(const Json& v, uint64_t* out) {
  if (v.is_number_unsigned()) {
    *out = v.get<uint64_t>();
    return true;
  }
  if (v.is_number_integer() && v.get<int64_t>() >= 0) {
    *out = uint64_t(v.get<int64_t>());
    return true;
  }
  return false;
}

Entry parse_entry(const std::string& name, const Json& info, const std::string& what) {
  auto bad = [&](const auto&... msg) { fail(what, ": tensor ", clip(name), ": ", msg...); };
  if (!info.is_object()) bad("expected a JSON object, found ", info.type_name());
  Entry e{name, DType::F32, 0, {}, 0, 0};

  auto dt = info.find("dtype");
  if (dt == info.end()) bad("missing \"dtype\"");
  if (!dt->is_string()) bad("\"dtype\" must be a string, found ", dt->type_name());
  const std::string dts = dt->get<std::string>();
  if (!parse_dtype(dts, &e.dtype)) {
    if (is_known_unsupported_dtype(dts)) bad("unsupported dtype ", dts, " (supported: F32, F16, BF16, I8, I32)");
    bad("unknown dtype \"", clip(dts, 32), "\"");
  }

  auto sh = info.find("shape");
  if (sh == info.end()) bad("missing \"shape\"");
  if (!sh->is_array()) bad("\"shape\" must be an array, found ", sh->type_name());
  if (sh->size() > size_t(kMaxRank)) bad("rank ", sh->size(), " is more than the supported ", kMaxRank);
  e.rank = int(sh->size());
  uint64_t numel = 1;
  for (int i = 0; i < e.rank; ++i) {
    const Json& d = (*sh)[size_t(i)];
    uint64_t v;
    if (d.is_number_integer() && !d.is_number_unsigned() && d.get<int64_t>() < 0)
      bad("negative dimension ", d.get<int64_t>(), " in shape ", shape_text(*sh));
    if (!as_u64(d, &v)) bad("shape entries must be non-negative integers, found ", d.type_name());
    if (v > uint64_t(INT64_MAX) || (v != 0 && numel > (uint64_t(INT64_MAX) / 8) / v))
      bad("shape ", shape_text(*sh), " overflows");
    numel *= v;
    e.shape[size_t(i)] = int64_t(v);
  }
  // Here numel * dtype_size <= INT64_MAX (the bound above leaves room for 8-byte dtypes).
  uint64_t nbytes = numel * dtype_size(e.dtype);

  auto off = info.find("data_offsets");
  if (off == info.end()) bad("missing \"data_offsets\"");
  if (!off->is_array() || off->size() != 2) bad("\"data_offsets\" must be an array of 2 integers");
  if (!as_u64((*off)[0], &e.begin) || !as_u64((*off)[1], &e.end))
    bad("\"data_offsets\" must be non-negative integers");
  if (e.end < e.begin) bad("data_offsets [", e.begin, ", ", e.end, "] end before begin");
  if (e.end - e.begin != nbytes)
    bad("shape ", shape_text(*sh), " x ", dts, " needs ", nbytes, " bytes, data_offsets [", e.begin, ", ", e.end,
        "] hold ", e.end - e.begin);
  return e;
}

}  // namespace

std::map<std::string, TensorView> parse_safetensors(const uint8_t* buf, size_t size, const std::string& what) {
  if (size < 8) fail(what, ": file is ", size, " bytes, too small for a safetensors header (8-byte length)");
  uint64_t n = 0;
  for (int i = 0; i < 8; ++i) n |= uint64_t(buf[i]) << (8 * i);
  if (n > kMaxSafetensorsHeader)
    fail(what, ": header length ", n, " exceeds the limit of ", kMaxSafetensorsHeader, " bytes");
  if (n > size - 8) fail(what, ": header length ", n, " exceeds the file size (", size, " bytes)");
  if (n < 2 || buf[8] != '{') fail(what, ": header does not start with '{' (not a safetensors file?)");

  Json header;
  try {
    header = Json::parse(buf + 8, buf + 8 + n);
  } catch (const Json::exception& ex) {
    fail(what, ": header is not valid JSON: ", ex.what());
  }
  if (!header.is_object()) fail(what, ": header must be a JSON object, found ", header.type_name());

  const uint8_t* data = buf + 8 + n;
  const uint64_t data_size = size - 8 - n;
  std::vector<Entry> entries;
  entries.reserve(header.size());
  for (const auto& [key, value] : header.items()) {
    if (key == "__metadata__") {
      if (!value.is_object()) fail(what, ": __metadata__ must be an object of strings, found ", value.type_name());
      for (const auto& [mk, mv] : value.items())
        if (!mv.is_string()) fail(what, ": __metadata__ value for \"", clip(mk, 64), "\" must be a string, found ", mv.type_name());
      continue;
    }
    entries.push_back(parse_entry(key, value, what));
  }

  // Offsets: sorted by (begin, end, name) they must tile [0, data_size) exactly.
  std::sort(entries.begin(), entries.end(),
            [](const Entry& a, const Entry& b) {
              if (a.begin != b.begin) return a.begin < b.begin;
              return a.end != b.end ? a.end < b.end : a.name < b.name;
            });
  uint64_t pos = 0;
  const Entry* prev = nullptr;
  for (const Entry& e : entries) {
    if (e.end > data_size)
      fail(what, ": tensor ", clip(e.name), ": data_offsets [", e.begin, ", ", e.end, "] are outside the data section (",
           data_size, " bytes)");
    if (e.begin < pos)
      fail(what, ": tensor ", clip(e.name), ": data_offsets [", e.begin, ", ", e.end, "] overlap tensor ", clip(prev->name),
           " (which ends at ", pos, ")");
    if (e.begin > pos)
      fail(what, ": tensor ", clip(e.name), ": gap of ", e.begin - pos, " unused bytes before its data_offsets [", e.begin,
           ", ", e.end, "]");
    pos = e.end;
    prev = &e;
  }
  if (pos != data_size)
    fail(what, ": tensors cover ", pos, " bytes but the data section has ", data_size, " (", data_size - pos,
         " trailing bytes)");

  std::map<std::string, TensorView> out;
  for (const Entry& e : entries) {
    TensorView v;
    v.dtype = e.dtype;
    v.rank = e.rank;
    v.shape = e.shape;
    v.data = data + e.begin;
    v.name = e.name;
    out.emplace(e.name, std::move(v));
  }
  return out;
}

// Private access to SafetensorsArchive (declared friend in the header).
struct SafetensorsAccess {
  static std::vector<std::shared_ptr<MappedFile>>& files(SafetensorsArchive& a) { return a.files_; }
  static std::map<std::string, TensorView>& tensors(SafetensorsArchive& a) { return a.tensors_; }
};

namespace {

bool file_exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

// Gives every view whose data is not aligned to its element size an aligned copy, so consumers
// may read through typed pointers. Files from the python writer never need this.
void align_views(std::map<std::string, TensorView>& views, std::vector<std::shared_ptr<MappedFile>>& files,
                 const std::string& what) {
  size_t total = 0;
  for (auto& [name, v] : views)
    if (reinterpret_cast<uintptr_t>(v.data) % dtype_size(v.dtype) != 0) total += v.nbytes() + 64;
  if (total == 0) return;
  std::shared_ptr<MappedFile> copy = MappedFile::owned(total, what + " (aligned copies)");
  uint8_t* dst = copy->mutable_data();
  for (auto& [name, v] : views) {
    if (reinterpret_cast<uintptr_t>(v.data) % dtype_size(v.dtype) == 0) continue;
    std::memcpy(dst, v.data, v.nbytes());
    v.data = dst;
    dst += (v.nbytes() + 63) / 64 * 64;
  }
  files.push_back(std::move(copy));
}

bool is_plain_file_name(const std::string& s) {
  if (s.empty() || s == "." || s == ".." || s.size() > 255) return false;
  for (char c : s)
    if (c == '/' || c == '\\' || c == '\0') return false;
  return true;
}

}  // namespace

SafetensorsArchive SafetensorsArchive::open_file(const std::string& path) {
  SafetensorsArchive a;
  std::shared_ptr<MappedFile> f = MappedFile::open(path);
  auto views = parse_safetensors(f->data(), f->size(), path);
  SafetensorsAccess::files(a).push_back(f);
  align_views(views, SafetensorsAccess::files(a), path);
  SafetensorsAccess::tensors(a) = std::move(views);
  return a;
}

SafetensorsArchive SafetensorsArchive::open_dir(const std::string& dir) {
  const std::string single = dir + "/model.safetensors";
  const std::string index_path = dir + "/model.safetensors.index.json";
  if (file_exists(single)) return open_file(single);  // HF prefers the single file too
  if (!file_exists(index_path))
    fail("no model.safetensors or model.safetensors.index.json in ", dir);

  Json index;
  try {
    index = Json::parse(read_text_file(index_path, kMaxIndexFile));
  } catch (const Json::exception& ex) {
    fail(index_path, ": not valid JSON: ", ex.what());
  }
  if (!index.is_object()) fail(index_path, ": expected a JSON object, found ", index.type_name());
  auto wm = index.find("weight_map");
  if (wm == index.end()) fail(index_path, ": missing \"weight_map\"");
  if (!wm->is_object()) fail(index_path, ": \"weight_map\" must be an object, found ", wm->type_name());

  std::map<std::string, std::string> where;  // tensor -> shard file name
  std::set<std::string> shards;
  for (const auto& [tensor, file] : wm->items()) {
    if (!file.is_string())
      fail(index_path, ": weight_map[\"", clip(tensor), "\"] must be a file name string, found ", file.type_name());
    std::string name = file.get<std::string>();
    if (!is_plain_file_name(name))
      fail(index_path, ": weight_map[\"", clip(tensor), "\"] = \"", clip(name, 300),
           "\" is not a plain file name inside the model directory");
    where[tensor] = name;
    shards.insert(name);
  }
  if (shards.empty()) fail(index_path, ": weight_map is empty");

  SafetensorsArchive a;
  std::vector<std::pair<std::string, std::map<std::string, TensorView>>> parsed;  // shard -> views
  for (const std::string& shard : shards) {
    const std::string path = dir + "/" + shard;
    if (!file_exists(path)) fail(index_path, ": shard ", clip(shard), " named in weight_map does not exist in ", dir);
    std::shared_ptr<MappedFile> f = MappedFile::open(path);
    auto views = parse_safetensors(f->data(), f->size(), path);
    SafetensorsAccess::files(a).push_back(f);
    align_views(views, SafetensorsAccess::files(a), path);
    parsed.emplace_back(shard, std::move(views));
  }
  std::map<std::string, std::string> found_in;  // tensor -> shard it was found in
  for (const auto& [shard, views] : parsed)
    for (const auto& [name, v] : views) {
      auto [it, fresh] = found_in.emplace(name, shard);
      if (!fresh) fail("tensor ", clip(name), " appears in two shards: ", clip(it->second), " and ", clip(shard));
    }
  auto& tensors = SafetensorsAccess::tensors(a);
  for (auto& [shard, views] : parsed)
    for (auto& [name, v] : views) {
      auto w = where.find(name);
      if (w == where.end()) fail(dir, "/", clip(shard), ": tensor ", clip(name), " is not listed in ", index_path);
      if (w->second != shard)
        fail(index_path, ": tensor ", clip(name), " is mapped to ", clip(w->second), " but found in ", clip(shard));
      tensors.emplace(name, std::move(v));
    }
  for (const auto& [tensor, shard] : where)
    if (!found_in.count(tensor)) fail(index_path, ": tensor ", clip(tensor), " is mapped to ", clip(shard), " but that shard lacks it");
  return a;
}

const TensorView& SafetensorsArchive::get(const std::string& name) const {
  auto it = tensors_.find(name);
  if (it == tensors_.end()) fail("checkpoint has no tensor ", clip(name));
  return it->second;
}

}  // namespace lastrank
