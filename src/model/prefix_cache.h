// The shared prompt prefix's K/V kept across processes (docs/model-files.md, "The shared prefix's
// K/V"): a one-shot CLI call would otherwise compute the 95 prefix tokens (model/shared_prefix.h)
// at every start, about 45 % of a 3-document request. One cache file (io/weight_cache_file.h) per
// key, beside the packed weights, with one entry per layer: "layer <i>", meta rows and cols,
// arrays K then V [rows, cols] fp32 as the prefix pass left them.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "io/cache_through.h"
#include "model/config.h"
#include "model/qwen3.h"
#include "model/shared_prefix.h"

namespace lastrank {

constexpr int kPrefixCacheFormat = 1;  // bump on any change of the entries above or of the key

// Everything the kept K/V depend on: the cache format, lastrank version and build ID
// (core/build_id.h: any code change), byte order, backend and kernel set, the precision options,
// the model's shape and RoPE/norm settings, the checkpoint identity and the prefix ids. "" when
// this build has no build ID (the K/V are then never cached).
std::string prefix_cache_key(const ModelConfig& cfg, const EngineOptions& opt, const std::string& kernel_set,
                             const std::string& checkpoint_id, const std::vector<int32_t>& ids);

// Sets prefix's K/V ([prefix.rows(), cols] per layer) from the file of `key` in dir when it is
// valid (its key, entries and checksums all match), marking them ready; otherwise calls compute
// (the prefix pass, which marks them ready) and writes the file. Each step is logged as
// read_from_cache / write_to_cache do; a cache problem is logged, never thrown.
void load_prefix_through_cache(SharedPrefix& prefix, int64_t cols, const std::string& dir, const std::string& key,
                               const CacheLogFn& log, const std::function<void()>& compute);

}  // namespace lastrank
