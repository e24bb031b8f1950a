// The exact tensor set of a jina-reranker-v3 checkpoint, validated against the config:
// every expected tensor present with the right shape and a float dtype, nothing unexpected
// (lm_head.* is ignored). Views point into the mmapped archive.
#pragma once
#include <string>
#include <vector>

#include "core/tensor.h"
#include "io/safetensors.h"
#include "model/config.h"

namespace lastrank {

struct LayerWeights {
  TensorView input_layernorm;           // [hidden]
  TensorView q_proj, k_proj, v_proj;    // [n_q*hd, hidden], [n_kv*hd, hidden] x2
  TensorView o_proj;                    // [hidden, n_q*hd]
  TensorView q_norm, k_norm;            // [hd]
  TensorView post_attention_layernorm;  // [hidden]
  TensorView gate_proj, up_proj;        // [inter, hidden]
  TensorView down_proj;                 // [hidden, inter]
};

struct ModelWeights {
  SafetensorsArchive archive;  // owns the mappings
  TensorView embed_tokens;     // [vocab, hidden]
  std::vector<LayerWeights> layers;
  TensorView norm;             // [hidden]
  TensorView projector0;       // [proj_hidden, hidden]
  TensorView projector2;       // [proj_out, proj_hidden]
  int64_t projector_hidden() const { return projector0.shape[0]; }
  int64_t projector_out() const { return projector2.shape[0]; }
};

// Throws Error naming the tensor, with expected vs found.
ModelWeights load_model_weights(const std::string& dir, const ModelConfig& cfg);
ModelWeights bind_model_weights(SafetensorsArchive archive, const ModelConfig& cfg);

}  // namespace lastrank
