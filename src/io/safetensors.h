// Reader for (possibly sharded) safetensors checkpoints. Every file is untrusted: the header
// length is capped, the JSON header parsed strictly, dtypes/shapes/offsets validated (inside
// the data section, non-overlapping, covering it exactly). Data stays mmapped.
#pragma once
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace lastrank {

class MappedFile;  // io/mmap_file.h

class SafetensorsArchive {
 public:
  // Opens a model directory: model.safetensors, or model.safetensors.index.json + its shards.
  static SafetensorsArchive open_dir(const std::string& dir);
  // Opens one .safetensors file.
  static SafetensorsArchive open_file(const std::string& path);

  bool has(const std::string& name) const { return tensors_.count(name) != 0; }
  const TensorView& get(const std::string& name) const;  // throws Error if missing
  const std::map<std::string, TensorView>& tensors() const { return tensors_; }
  // The files read, in the order opened (the index's shard order); each starts with its header.
  const std::vector<std::shared_ptr<MappedFile>>& files() const { return files_; }

 private:
  std::vector<std::shared_ptr<MappedFile>> files_;
  std::map<std::string, TensorView> tensors_;
  friend struct SafetensorsAccess;
};

// Parses one safetensors image held in memory (for fuzzing and tests); views point into buf.
std::map<std::string, TensorView> parse_safetensors(const uint8_t* buf, size_t size, const std::string& what);

// Largest accepted JSON header (the real checkpoint's is ~40 KB).
constexpr uint64_t kMaxSafetensorsHeader = 100ull << 20;

}  // namespace lastrank
