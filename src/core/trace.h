// Named intermediates: the forward pass reports each block output through a TraceFn so one
// flag can dump per-layer tensors to diff against the HF reference. Costs one branch when off.
#pragma once
#include <cstdint>
#include <functional>
#include <string>

namespace lastrank {

// name: "embed", "attn_out", "mlp_out", "layer_out", "final_norm", "readout", "proj"; layer -1 for
// tensors outside the layer stack. data is [rows, cols] fp32, row-contiguous.
using TraceFn = std::function<void(const std::string& name, int layer, const float* data, int64_t rows, int64_t cols)>;

}  // namespace lastrank
