// The CPU backend's packed-weight cache (docs/model-files.md, "Start-up: the packed-weight
// cache"): the PackedMatrix images (gemm.h) of a model's linear layers, stored in one cache file
// (io/weight_cache_file.h) under a key that names everything the packed bytes depend on, and read
// back in place: the matrices point into the file's read-only mapping, so a start with a cache
// hit neither zeroes fresh memory nor packs.
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "backend/backend.h"
#include "backend/cpu/gemm.h"
#include "core/thread_pool.h"

namespace lastrank {
class CacheFile;
}

namespace lastrank::cpu {

// One linear layer as the cache stores it.
struct CacheItem {
  std::string name;  // checkpoint tensor name
  PackFormat format = PackFormat::fp32;
  int64_t n = 0, k = 0;
  int64_t element_bytes = 0;  // the panel element pack_matrix makes from this dtype and format
};
CacheItem cache_item(const TensorView& w, PackFormat f);

// Hex XXH3-64 of the packed bytes every format makes, in the kernel set in use, from fixed small
// matrices of every source dtype: a packer whose output changes changes the key, even if nobody
// bumps kWeightCacheFormat.
std::string packer_fingerprint();

// The key text: cache format version, lastrank version, byte order, kernel set in use,
// packer_fingerprint(), the checkpoint identity and every item (name, format, shape, element).
std::string weight_cache_key(const std::string& checkpoint_id, const std::vector<CacheItem>& items);

// The matrices of `items`, reading file's arrays in place. The table must hold exactly this key
// and these items in order; every array's checksum is verified (on the pool) before any matrix is
// made. Throws lastrank::Error saying what does not match.
std::vector<std::unique_ptr<PackedMatrix>> read_weight_cache(const std::shared_ptr<CacheFile>& file,
                                                             const std::string& key,
                                                             const std::vector<CacheItem>& items, ThreadPool& pool);

// Writes matrices (one per item) to `path` (write_cache_file: atomic). Throws lastrank::Error.
void write_weight_cache(const std::string& path, const std::string& key, const std::vector<CacheItem>& items,
                        const std::vector<std::unique_ptr<PackedMatrix>>& matrices);

// The matrices of `items`: from the cache file of cache.dir when it holds a valid one for this
// key, else pack() (the reference path), whose result is then written there. Every cache problem
// (unreadable, stale, corrupt, foreign, truncated, a read-only or full disk) goes to cache.log and
// leaves the result as pack() makes it; only pack() may throw.
std::vector<std::unique_ptr<PackedMatrix>> load_through_cache(
    const std::vector<CacheItem>& items, const WeightCacheSpec& cache, ThreadPool& pool,
    const std::function<std::vector<std::unique_ptr<PackedMatrix>>()>& pack);

}  // namespace lastrank::cpu
