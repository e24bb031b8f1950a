// Binds the checkpoint's tensors to ModelWeights: builds the exact expected tensor set from the
// config (docs/model-files.md, "Tensor set"), checks presence, float dtype and shape of each, rejects anything
// unexpected (lm_head.* is ignored), and reads the projector sizes from its tensors.
#include "model/weights.h"

#include <set>
#include <vector>

#include "core/error.h"
#include "io/text_clip.h"

namespace lastrank {

namespace {

constexpr size_t kMaxReportedProblems = 6;

std::string shape_str(const std::vector<int64_t>& s) {
  std::string out = "[";
  for (size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
  return out + "]";
}

bool is_float(DType t) { return t == DType::F32 || t == DType::F16 || t == DType::BF16; }

class Binder {
 public:
  Binder(const SafetensorsArchive& a, std::string prefix) : a_(a), prefix_(std::move(prefix)) {}

  // Binds `name` (prefix applied when `backbone`) expecting `shape`; records a problem if absent or wrong.
  TensorView take(const std::string& name, const std::vector<int64_t>& shape) {
    used_.insert(name);
    if (!a_.has(name)) {
      problem(cat("missing tensor ", name, " (expected shape ", shape_str(shape), ")"));
      return {};
    }
    const TensorView& v = a_.get(name);
    if (!is_float(v.dtype)) {
      problem(cat("tensor ", name, ": expected dtype F32, F16 or BF16, found ", dtype_name(v.dtype)));
      return {};
    }
    bool same = v.rank == int(shape.size());
    for (size_t i = 0; same && i < shape.size(); ++i) same = v.shape[i] == shape[i];
    if (!same) {
      problem(cat("tensor ", name, ": expected shape ", shape_str(shape), ", found ", v.shape_str()));
      return {};
    }
    return v;
  }
  // A rank-2 tensor whose column count must be `cols`; rows are free (> 0). Returns rows or 0.
  int64_t probe_rows(const std::string& name, int64_t cols) {
    if (!a_.has(name)) return 0;
    const TensorView& v = a_.get(name);
    return v.rank == 2 && v.shape[1] == cols && v.shape[0] > 0 ? v.shape[0] : 0;
  }

  void check_unexpected() {
    for (const auto& [name, v] : a_.tensors()) {
      if (used_.count(name) || name.rfind("lm_head.", 0) == 0) continue;
      problem(cat("unexpected tensor ", clip(name), " ", v.shape_str(), " (not part of a jina-reranker-v3 checkpoint)"));
    }
  }
  void throw_if_problems() const {
    if (problems_.empty()) return;
    std::string msg = problems_.size() == 1 ? "checkpoint does not match config.json: "
                                            : cat("checkpoint does not match config.json (", problems_.size(),
                                                  " problems): ");
    for (size_t i = 0; i < problems_.size() && i < kMaxReportedProblems; ++i) msg += (i ? "; " : "") + problems_[i];
    if (problems_.size() > kMaxReportedProblems) msg += cat("; ... and ", problems_.size() - kMaxReportedProblems, " more");
    throw Error(msg);
  }
  void problem(std::string s) { problems_.push_back(std::move(s)); }
  const std::string& prefix() const { return prefix_; }

 private:
  const SafetensorsArchive& a_;
  std::string prefix_;
  std::set<std::string> used_;
  std::vector<std::string> problems_;
};

}  // namespace

ModelWeights bind_model_weights(SafetensorsArchive archive, const ModelConfig& cfg) {
  ModelWeights w;
  w.archive = std::move(archive);
  const SafetensorsArchive& a = w.archive;
  // Qwen3ForCausalLM / JinaForRanking checkpoints prefix the backbone with "model."; a bare
  // Qwen3Model checkpoint does not.
  std::string p = "model.";
  if (!a.has("model.embed_tokens.weight") && a.has("embed_tokens.weight")) p = "";
  Binder b(a, p);

  const int64_t h = cfg.hidden_size, hd = cfg.head_dim, inter = cfg.intermediate_size;
  const int64_t q = cfg.num_attention_heads * hd, kv = cfg.num_key_value_heads * hd;
  w.embed_tokens = b.take(p + "embed_tokens.weight", {cfg.vocab_size, h});
  w.layers.resize(size_t(cfg.num_hidden_layers));
  for (int64_t i = 0; i < cfg.num_hidden_layers; ++i) {
    LayerWeights& L = w.layers[size_t(i)];
    const std::string l = cat(p, "layers.", i, ".");
    L.input_layernorm = b.take(l + "input_layernorm.weight", {h});
    L.q_proj = b.take(l + "self_attn.q_proj.weight", {q, h});
    L.k_proj = b.take(l + "self_attn.k_proj.weight", {kv, h});
    L.v_proj = b.take(l + "self_attn.v_proj.weight", {kv, h});
    L.o_proj = b.take(l + "self_attn.o_proj.weight", {h, q});
    L.q_norm = b.take(l + "self_attn.q_norm.weight", {hd});
    L.k_norm = b.take(l + "self_attn.k_norm.weight", {hd});
    L.post_attention_layernorm = b.take(l + "post_attention_layernorm.weight", {h});
    L.gate_proj = b.take(l + "mlp.gate_proj.weight", {inter, h});
    L.up_proj = b.take(l + "mlp.up_proj.weight", {inter, h});
    L.down_proj = b.take(l + "mlp.down_proj.weight", {h, inter});
  }
  w.norm = b.take(p + "norm.weight", {h});

  // Projector sizes come from its tensors: projector.0.weight [P, hidden], projector.2.weight [P2, P].
  const int64_t proj_hidden = b.probe_rows("projector.0.weight", h);
  if (proj_hidden > 0) {
    w.projector0 = b.take("projector.0.weight", {proj_hidden, h});
    const TensorView* p2 = a.has("projector.2.weight") ? &a.get("projector.2.weight") : nullptr;
    const int64_t proj_out = p2 && p2->rank >= 1 && p2->shape[0] > 0 ? p2->shape[0] : 512;
    w.projector2 = b.take("projector.2.weight", {proj_out, proj_hidden});
  } else {
    b.take("projector.0.weight", {512, h});  // records the problem with the reference's size
    const TensorView* p2 = a.has("projector.2.weight") ? &a.get("projector.2.weight") : nullptr;
    b.take("projector.2.weight", {p2 && p2->rank == 2 ? p2->shape[0] : 512, p2 && p2->rank == 2 ? p2->shape[1] : 512});
  }
  b.check_unexpected();
  b.throw_if_problems();
  return w;
}

ModelWeights load_model_weights(const std::string& dir, const ModelConfig& cfg) {
  return bind_model_weights(SafetensorsArchive::open_dir(dir), cfg);
}

}  // namespace lastrank
