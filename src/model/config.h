// Qwen3 / jina-reranker-v3(.5) hyper-parameters, read from an untrusted config.json.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace lastrank {

struct ModelConfig {
  std::string model_type;            // must be "qwen3"
  std::vector<std::string> architectures;
  int64_t hidden_size = 0;           // 1024
  int64_t num_hidden_layers = 0;     // 28
  int64_t num_attention_heads = 0;   // 16
  int64_t num_key_value_heads = 0;   // 8 (divides num_attention_heads)
  int64_t head_dim = 0;              // 128 (need not equal hidden/heads)
  int64_t intermediate_size = 0;     // 3072
  double rms_norm_eps = 1e-6;
  double rope_theta = 1e6;
  int64_t vocab_size = 0;            // 151936 embedding rows
  int64_t max_position_embeddings = 0;  // 131072
  bool tie_word_embeddings = true;
  // v3.5: per-layer attention kind. Empty layer_types + use_sliding_window=false => all full.
  bool use_sliding_window = false;
  int64_t sliding_window = 0;        // window size in tokens, 0 = none
  std::vector<bool> layer_is_sliding;  // size num_hidden_layers after parsing
  std::string torch_dtype;           // informational

  int64_t window_for_layer(int64_t layer) const {
    return layer_is_sliding.empty() || !layer_is_sliding[size_t(layer)] ? 0 : sliding_window;
  }
};

// Parses and validates config.json text; throws lastrank::Error naming the bad field.
ModelConfig parse_model_config(const std::string& json_text);
ModelConfig load_model_config(const std::string& path);

}  // namespace lastrank
