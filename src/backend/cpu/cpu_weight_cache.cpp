// The CPU backend's packed-weight cache: key, read, write, and the load path that falls back to
// packing (cpu_weight_cache.h; file format io/weight_cache_file.h; directory policy
// io/weight_cache_dir.h).
#include "backend/cpu/cpu_weight_cache.h"

#include <cstdio>
#include <cstring>
#include <map>

#include "backend/cpu/kernel_dispatch.h"
#include "backend/cpu/pool_each.h"
#include "core/error.h"
#include "io/cache_through.h"
#include "io/weight_cache_dir.h"
#include "io/weight_cache_file.h"

namespace lastrank::cpu {
namespace {

// A fixed [37, 70] matrix (odd panel, k group and quad tails) with two large columns, in dtype t.
std::vector<uint8_t> fingerprint_source(DType t) {
  std::vector<uint8_t> bytes(37 * 70 * dtype_size(t));
  for (size_t i = 0; i < 37 * 70; ++i) {
    float v = float(int((i * 2654435761u) % 2001) - 1000) / 997.0f;
    if (i % 70 == 3 || i % 70 == 41) v *= 60.0f;
    const uint16_t h = t == DType::BF16 ? f32_to_bf16(v) : f32_to_f16(v);
    if (t == DType::F32) std::memcpy(&bytes[i * 4], &v, 4);
    else std::memcpy(&bytes[i * 2], &h, 2);
  }
  return bytes;
}

std::map<std::string, int64_t> item_meta(const CacheItem& it) {
  return {{"format", int64_t(it.format)}, {"n", it.n}, {"k", it.k}, {"element_bytes", it.element_bytes}};
}

void check_entry(const CacheEntry& e, const CacheItem& it, size_t i) {
  if (e.name != it.name || e.meta != item_meta(it))
    fail("entry ", i, " is ", e.name, ", expected ", it.name, " ", pack_format_name(it.format), " [", it.n, ", ", it.k, "]");
}

}  // namespace

CacheItem cache_item(const TensorView& w, PackFormat f) {
  CacheItem it{w.name, f, w.shape[0], w.shape[1], 2};
  if (f == PackFormat::int8) it.element_bytes = 1;
  if (f == PackFormat::fp32 && w.dtype != DType::BF16) it.element_bytes = 4;
  return it;
}

std::string packer_fingerprint() {
  uint64_t h = 0;
  for (DType t : {DType::F32, DType::BF16, DType::F16}) {
    const std::vector<uint8_t> src = fingerprint_source(t);
    TensorView w;
    w.dtype = t;
    w.rank = 2;
    w.shape = {37, 70, 0, 0};
    w.data = src.data();
    w.name = "fingerprint";
    for (PackFormat f : {PackFormat::fp32, PackFormat::bf16_weights, PackFormat::bf16_dot, PackFormat::int8}) {
      const std::unique_ptr<PackedMatrix> m = pack_matrix(w, f);
      const PackedImage img = m->image();  // points into m
      for (const PackedImage::Array& a : img.arrays) h = h * 31 + cache_checksum(a.data, a.bytes);
      h = h * 31 + uint64_t(img.element_bytes) * 2 + uint64_t(img.pairs);
    }
  }
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
  return hex;
}

std::string weight_cache_key(const std::string& checkpoint_id, const std::vector<CacheItem>& items) {
  std::string key = cat(cache_key_preamble("packed weights", kWeightCacheFormat),
                        "\nbackend: cpu\nkernel set: ", kernel_set_name(active_kernel_set()), "\npackers: ",
                        packer_fingerprint(), "\ncheckpoint: ", checkpoint_id, "\nlinears: ", items.size());
  for (const CacheItem& it : items)
    key += cat("\n", it.name, " ", pack_format_name(it.format), " [", it.n, ", ", it.k, "] x", it.element_bytes);
  return key;
}

std::vector<std::unique_ptr<PackedMatrix>> read_weight_cache(const std::shared_ptr<CacheFile>& file,
                                                             const std::string& key,
                                                             const std::vector<CacheItem>& items, ThreadPool& pool) {
  const CacheTable& t = file->table();
  if (t.key != key) fail("its key differs (another checkpoint, precision, kernel set or lastrank version)");
  if (t.entries.size() != items.size()) fail("it has ", t.entries.size(), " entries, expected ", items.size());
  for (size_t i = 0; i < items.size(); ++i) check_entry(t.entries[i], items[i], i);
  std::vector<std::unique_ptr<PackedMatrix>> out(items.size());
  each_on_pool(pool, items.size(), [&](size_t i) {
    const CacheEntry& e = t.entries[i];
    PackedImage img;
    img.format = items[i].format;
    img.n = items[i].n;
    img.k = items[i].k;
    img.element_bytes = items[i].element_bytes;
    img.pairs = img.format == PackFormat::bf16_dot && gemm_bf16_dot_rounds_activations();
    for (const CacheArray& a : e.arrays) {
      if (!file->verify(a)) fail("entry ", e.name, ": checksum mismatch (corrupt)");
      img.arrays.push_back({file->at(a), a.bytes});
    }
    out[i] = adopt_packed_matrix(img, file);
  });
  return out;
}

void write_weight_cache(const std::string& path, const std::string& key, const std::vector<CacheItem>& items,
                        const std::vector<std::unique_ptr<PackedMatrix>>& matrices) {
  LR_CHECK(items.size() == matrices.size(), "write_weight_cache: ", items.size(), " items, ", matrices.size(), " matrices");
  std::vector<CacheEntrySource> entries;
  for (size_t i = 0; i < items.size(); ++i) {
    const PackedImage img = matrices[i]->image();
    CacheEntrySource e{items[i].name, item_meta(items[i]), {}};
    for (const PackedImage::Array& a : img.arrays) e.arrays.emplace_back(a.data, a.bytes);
    entries.push_back(std::move(e));
  }
  write_cache_file(path, key, entries);
}

std::vector<std::unique_ptr<PackedMatrix>> load_through_cache(
    const std::vector<CacheItem>& items, const WeightCacheSpec& cache, ThreadPool& pool,
    const std::function<std::vector<std::unique_ptr<PackedMatrix>>()>& pack) {
  const std::string key = weight_cache_key(cache.checkpoint_id, items);
  const CachePlace place{cache.dir, weight_cache_path(cache.dir, key), cache.log};
  std::vector<std::unique_ptr<PackedMatrix>> m;
  if (read_from_cache(place, [&](const std::shared_ptr<CacheFile>& f) { m = read_weight_cache(f, key, items, pool); }))
    return m;
  m = pack();
  uint64_t bytes = 0;
  for (const auto& p : m) bytes += p->bytes() + 4096 * 3;
  write_to_cache(place, bytes, [&] { write_weight_cache(place.path, key, items, m); });
  return m;
}

}  // namespace lastrank::cpu
