// The identity of a checkpoint as the packed-weight cache keys it (docs/model-files.md,
// "Start-up: the packed-weight cache"): cheap to compute at every start, without reading the
// tensors whole.
#pragma once
#include <string>

#include "io/safetensors.h"

namespace lastrank {

// Hex XXH3-128 over, for each file of the archive, its size and its safetensors header (names,
// dtypes, shapes, offsets, metadata), and for each tensor (by name) its name, dtype, shape and
// kIdentitySamples windows of 64 bytes spread evenly over its data, first and last byte included
// (the whole tensor when it is smaller). A re-trained or fine-tuned checkpoint changes every
// sample; a file path, copy or modification time does not enter it.
std::string checkpoint_identity(const SafetensorsArchive& archive);

constexpr int kIdentitySamples = 8;

}  // namespace lastrank
