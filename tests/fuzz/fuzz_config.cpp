// libFuzzer target: parse_model_config on arbitrary text must either return a config that passes
// its own invariants or throw lastrank::Error.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "core/error.h"
#include "model/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    lastrank::ModelConfig c = lastrank::parse_model_config(std::string(reinterpret_cast<const char*>(data), size));
    bool ok = c.hidden_size > 0 && c.num_hidden_layers > 0 && c.num_key_value_heads > 0 &&
              c.num_attention_heads % c.num_key_value_heads == 0 && c.head_dim > 0 && c.head_dim % 2 == 0 &&
              int64_t(c.layer_is_sliding.size()) == c.num_hidden_layers && c.rms_norm_eps > 0 && c.rope_theta > 0;
    for (int64_t i = 0; i < c.num_hidden_layers; ++i) ok = ok && c.window_for_layer(i) >= 0;
    if (!ok) std::abort();
  } catch (const lastrank::Error&) {
  }
  return 0;
}
