// The shared prefix's K/V cache file: key, read, write (prefix_cache.h).
#include "model/prefix_cache.h"

#include <cstdio>

#include "core/error.h"
#include "io/weight_cache_dir.h"
#include "io/weight_cache_file.h"

namespace lastrank {
namespace {

std::map<std::string, int64_t> layer_meta(int64_t rows, int64_t cols) { return {{"rows", rows}, {"cols", cols}}; }

std::string layer_name(int64_t layer) { return cat("layer ", layer); }

std::string exact(double v) {  // every bit of v
  char b[32];
  std::snprintf(b, sizeof b, "%.17g", v);
  return b;
}

// Uploads every layer's K/V from file into prefix; throws lastrank::Error when an entry does not fit.
void adopt_prefix_file(const CacheFile& file, const std::string& key, SharedPrefix& prefix, int64_t cols) {
  const CacheTable& t = file.table();
  if (t.key != key) fail("its key differs (another checkpoint, precision, kernel set, prefix or lastrank build)");
  if (int64_t(t.entries.size()) != prefix.layers())
    fail("it has ", t.entries.size(), " entries, expected ", prefix.layers());
  const uint64_t bytes = uint64_t(prefix.rows() * cols) * sizeof(float);
  for (int64_t l = 0; l < prefix.layers(); ++l) {
    const CacheEntry& e = t.entries[size_t(l)];
    if (e.name != layer_name(l) || e.meta != layer_meta(prefix.rows(), cols) || e.arrays.size() != 2 ||
        e.arrays[0].bytes != bytes || e.arrays[1].bytes != bytes)
      fail("entry ", l, " is not ", layer_name(l), " [", prefix.rows(), ", ", cols, "] K and V");
    for (const CacheArray& a : e.arrays)
      if (!file.verify(a)) fail("entry ", e.name, ": checksum mismatch (corrupt)");
    prefix.upload(l, cols, reinterpret_cast<const float*>(file.at(e.arrays[0])),
                  reinterpret_cast<const float*>(file.at(e.arrays[1])));
  }
}

void write_prefix_file(const std::string& path, const std::string& key, const SharedPrefix& prefix, int64_t cols) {
  const size_t n = size_t(prefix.rows() * cols);
  std::vector<std::vector<float>> host(size_t(prefix.layers()) * 2, std::vector<float>(n));
  std::vector<CacheEntrySource> entries;
  for (int64_t l = 0; l < prefix.layers(); ++l) {
    std::vector<float>& k = host[size_t(2 * l)];
    std::vector<float>& v = host[size_t(2 * l + 1)];
    prefix.download(l, cols, k.data(), v.data());
    entries.push_back({layer_name(l), layer_meta(prefix.rows(), cols), {{k.data(), n * 4}, {v.data(), n * 4}}});
  }
  write_cache_file(path, key, entries);
}

}  // namespace

std::string prefix_cache_key(const ModelConfig& cfg, const EngineOptions& opt, const std::string& kernel_set,
                             const std::string& checkpoint_id, const std::vector<int32_t>& ids) {
  std::string key = build_cache_key_preamble("shared prefix K/V", kPrefixCacheFormat);
  if (key.empty()) return "";
  key += cat("\nbackend: ", opt.backend, "\nkernel set: ", kernel_set, "\nreference kernels: ", int(opt.reference_kernels),
             "\nprecision: ", precision_name(opt.precision), "\nint8 leading layers: ", opt.int8_leading_layers,
             "\nattention row chunk: ", opt.attn_row_chunk);
  key += cat("\nmodel: hidden ", cfg.hidden_size, " layers ", cfg.num_hidden_layers, " heads ", cfg.num_attention_heads,
             " kv heads ", cfg.num_key_value_heads, " head dim ", cfg.head_dim, " intermediate ", cfg.intermediate_size,
             " vocab ", cfg.vocab_size, " rms eps ", exact(cfg.rms_norm_eps), " rope theta ", exact(cfg.rope_theta));
  key += "\nwindows:";
  for (int64_t l = 0; l < cfg.num_hidden_layers; ++l) key += cat(" ", cfg.window_for_layer(l));
  key += cat("\ncheckpoint: ", checkpoint_id, "\nprefix ids:");
  for (int32_t id : ids) key += cat(" ", id);
  return key;
}

void load_prefix_through_cache(SharedPrefix& prefix, int64_t cols, const std::string& dir, const std::string& key,
                               const CacheLogFn& log, const std::function<void()>& compute) {
  const CachePlace place{dir, weight_cache_path(dir, key, CacheFileKind::prefix), log};
  if (read_from_cache(place, [&](const std::shared_ptr<CacheFile>& f) { adopt_prefix_file(*f, key, prefix, cols); })) {
    prefix.mark_ready();
    return;
  }
  compute();
  const uint64_t bytes = uint64_t(prefix.layers()) * 2 * (uint64_t(prefix.rows() * cols) * 4 + kCacheAlign);
  write_to_cache(place, bytes, [&] { write_prefix_file(place.path, key, prefix, cols); });
}

}  // namespace lastrank
