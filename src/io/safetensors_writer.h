// Writer for safetensors files, byte-compatible with the python `safetensors` 0.8 writer:
// tensors laid out by dtype size (largest first) then name, compact JSON header in that order,
// header padded with spaces to a multiple of 8. Used by tools (fixture checkpoints) and tests.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/dtype.h"

namespace lastrank {

struct TensorData {
  std::string name;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;  // PyTorch order
  std::vector<uint8_t> bytes;  // little-endian, numel * dtype_size(dtype) bytes
};

// The complete file image: [u64 header length][JSON header + space padding][data].
// Throws Error on duplicate names, negative dims, or bytes.size() != numel * dtype size.
std::vector<uint8_t> serialize_safetensors(const std::vector<TensorData>& tensors,
                                           const std::map<std::string, std::string>& metadata = {});

// Writes serialize_safetensors(...) to path (throws Error if the file cannot be written).
void write_safetensors(const std::string& path, const std::vector<TensorData>& tensors,
                       const std::map<std::string, std::string>& metadata = {});

// Convenience: a tensor from float values, converted (round-to-nearest-even) to dtype F32/F16/BF16.
TensorData make_tensor(const std::string& name, DType dtype, std::vector<int64_t> shape,
                       const std::vector<float>& values);

}  // namespace lastrank
