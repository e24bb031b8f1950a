// config.json -> ModelConfig with HF transformers 5.12 Qwen3Config semantics: defaults for
// absent optional fields (head_dim 128, num_key_value_heads = heads, rope_theta 10000, ...),
// layer_types derived from use_sliding_window/sliding_window/max_window_layers when absent.
// Every field is type- and range-checked so nothing absurd reaches an allocation.
#include "model/config.h"

#include <cmath>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "io/mmap_file.h"
#include "io/text_clip.h"

namespace lastrank {

namespace {

using Json = nlohmann::json;

constexpr uint64_t kMaxConfigFile = 16ull << 20;  // the real config.json is < 1 KB

// Upper bounds: ~50x the real model's values, far below anything that could exhaust memory.
constexpr int64_t kMaxHidden = 65536;
constexpr int64_t kMaxLayers = 1024;
constexpr int64_t kMaxHeads = 1024;
constexpr int64_t kMaxHeadDim = 1024;
constexpr int64_t kMaxQWidth = 131072;  // num_attention_heads * head_dim
constexpr int64_t kMaxIntermediate = 1 << 20;
constexpr int64_t kMaxVocab = 1 << 23;
constexpr int64_t kMaxPositions = 1 << 24;
constexpr int64_t kMaxWindowLayers = int64_t(1) << 31;

// HF Qwen3Config defaults (configuration_qwen3.py, transformers 5.12).
constexpr int64_t kHfDefaultHeadDim = 128;
constexpr int64_t kHfDefaultMaxPositions = 32768;
constexpr int64_t kHfDefaultSlidingWindow = 4096;
constexpr int64_t kHfDefaultMaxWindowLayers = 28;
constexpr double kHfDefaultRopeTheta = 10000.0;  // RotaryEmbeddingConfigMixin.default_theta
constexpr double kHfDefaultEps = 1e-6;

class Reader {
 public:
  Reader(const Json& j, std::string what) : j_(j), what_(std::move(what)) {}

  [[noreturn]] void bad(const std::string& field, const std::string& msg) const {
    fail(what_, ": field \"", field, "\": ", msg);
  }
  // Absent or JSON null.
  bool absent(const char* f) const {
    auto it = j_.find(f);
    return it == j_.end() || it->is_null();
  }
  const Json& at(const char* f) const { return *j_.find(f); }

  int64_t integer(const char* f, bool required, int64_t def, int64_t lo, int64_t hi) const {
    if (absent(f)) {
      if (required) fail(what_, ": missing required field \"", f, "\"");
      return def;
    }
    const Json& v = at(f);
    if (!v.is_number_integer()) bad(f, cat("expected an integer, found ", describe(v)));
    if (v.is_number_unsigned() && v.get<uint64_t>() > uint64_t(INT64_MAX))
      bad(f, cat(v.get<uint64_t>(), " is out of range [", lo, ", ", hi, "]"));
    int64_t x = v.get<int64_t>();
    if (x < lo || x > hi) bad(f, cat(x, " is out of range [", lo, ", ", hi, "]"));
    return x;
  }
  double number(const char* f, double def, double lo, double hi) const {
    if (absent(f)) return def;
    return number_value(f, at(f), lo, hi);
  }
  double number_value(const std::string& f, const Json& v, double lo, double hi) const {
    if (!v.is_number()) bad(f, cat("expected a number, found ", describe(v)));
    double x = v.get<double>();
    if (!std::isfinite(x) || x <= lo || x > hi) bad(f, cat(x, " is out of range (", lo, ", ", hi, "]"));
    return x;
  }
  bool boolean(const char* f, bool def) const {
    if (absent(f)) return def;
    const Json& v = at(f);
    if (!v.is_boolean()) bad(f, cat("expected true or false, found ", describe(v)));
    return v.get<bool>();
  }
  std::string string(const char* f, const std::string& def) const {
    if (absent(f)) return def;
    const Json& v = at(f);
    if (!v.is_string()) bad(f, cat("expected a string, found ", describe(v)));
    return v.get<std::string>();
  }

  static std::string describe(const Json& v) {
    if (v.is_number_float()) return cat("the non-integer number ", v.get<double>());
    if (v.is_string()) return cat("the string \"", clip(v.get<std::string>(), 40), "\"");
    return std::string(v.type_name());
  }
  const std::string& what() const { return what_; }

 private:
  const Json& j_;
  std::string what_;
};

// rope_scaling / rope_parameters: only the plain ("default") RoPE is supported. Returns the
// rope_theta it carries, or `theta` when it carries none.
double read_rope(const Reader& r, const Json& rope, const std::string& field, double theta) {
  if (!rope.is_object()) r.bad(field, cat("expected an object or null, found ", Reader::describe(rope)));
  if (rope.empty()) return theta;
  // Per-layer-type form: {"full_attention": {...}, "sliding_attention": {...}}.
  bool nested = true;
  for (const auto& [k, v] : rope.items())
    if (!(k == "full_attention" || k == "sliding_attention") || !v.is_object()) nested = false;
  if (nested) {
    double first = 0;
    bool have = false;
    for (const auto& [k, v] : rope.items()) {
      double t = read_rope(r, v, field + "." + k, theta);
      if (have && t != first) r.bad(field, "different rope_theta per layer type is not supported");
      first = t;
      have = true;
    }
    return first;
  }
  for (const char* key : {"rope_type", "type"}) {
    auto it = rope.find(key);
    if (it == rope.end()) continue;
    if (!it->is_string()) r.bad(field + "." + key, cat("expected a string, found ", Reader::describe(*it)));
    if (it->get<std::string>() != "default")
      r.bad(field, cat("RoPE scaling type \"", clip(it->get<std::string>(), 40),
                       "\" is not supported (only plain RoPE, type \"default\")"));
  }
  auto pf = rope.find("partial_rotary_factor");
  if (pf != rope.end() && !(pf->is_number() && pf->get<double>() == 1.0))
    r.bad(field + ".partial_rotary_factor", "partial rotary embeddings are not supported (must be 1.0)");
  auto th = rope.find("rope_theta");
  if (th != rope.end()) theta = r.number_value(field + ".rope_theta", *th, 0.0, 1e12);
  return theta;
}

ModelConfig parse_config(const std::string& text, const std::string& what) {
  Json j;
  try {
    j = Json::parse(text);
  } catch (const Json::exception& ex) {
    fail(what, ": not valid JSON: ", ex.what());
  }
  if (!j.is_object()) fail(what, ": expected a JSON object, found ", j.type_name());
  Reader r(j, what);
  ModelConfig c;

  if (r.absent("model_type")) fail(what, ": missing required field \"model_type\" (expected \"qwen3\")");
  c.model_type = r.string("model_type", "");
  if (c.model_type != "qwen3")
    r.bad("model_type", cat("unsupported model type \"", clip(c.model_type, 60), "\" (expected \"qwen3\")"));
  if (!r.absent("architectures")) {
    const Json& a = r.at("architectures");
    if (!a.is_array()) r.bad("architectures", cat("expected an array of strings, found ", Reader::describe(a)));
    for (const Json& e : a) {
      if (!e.is_string()) r.bad("architectures", cat("expected strings, found ", Reader::describe(e)));
      std::string s = e.get<std::string>();
      if (s != "JinaForRanking" && s != "Qwen3ForCausalLM" && s != "Qwen3Model")
        r.bad("architectures", cat("unsupported architecture \"", clip(s, 60),
                                   "\" (expected JinaForRanking, Qwen3ForCausalLM or Qwen3Model)"));
      c.architectures.push_back(s);
    }
  }

  c.hidden_size = r.integer("hidden_size", true, 0, 1, kMaxHidden);
  c.num_hidden_layers = r.integer("num_hidden_layers", true, 0, 1, kMaxLayers);
  c.num_attention_heads = r.integer("num_attention_heads", true, 0, 1, kMaxHeads);
  c.num_key_value_heads = r.integer("num_key_value_heads", false, c.num_attention_heads, 1, kMaxHeads);
  if (c.num_attention_heads % c.num_key_value_heads != 0)
    r.bad("num_key_value_heads", cat(c.num_key_value_heads, " does not divide num_attention_heads = ",
                                     c.num_attention_heads));
  // HF Qwen3Config: head_dim defaults to 128, independent of hidden_size / num_attention_heads.
  c.head_dim = r.integer("head_dim", false, kHfDefaultHeadDim, 2, kMaxHeadDim);
  if (c.head_dim % 2 != 0) r.bad("head_dim", cat(c.head_dim, " must be even (rotate-half RoPE)"));
  if (c.num_attention_heads * c.head_dim > kMaxQWidth)
    r.bad("head_dim", cat("num_attention_heads * head_dim = ", c.num_attention_heads * c.head_dim,
                          " exceeds ", kMaxQWidth));
  c.intermediate_size = r.integer("intermediate_size", true, 0, 1, kMaxIntermediate);
  c.vocab_size = r.integer("vocab_size", true, 0, 1, kMaxVocab);
  c.max_position_embeddings = r.integer("max_position_embeddings", false, kHfDefaultMaxPositions, 1, kMaxPositions);
  c.rms_norm_eps = r.number("rms_norm_eps", kHfDefaultEps, 0.0, 1.0);
  c.tie_word_embeddings = r.boolean("tie_word_embeddings", false);
  c.torch_dtype = r.string("torch_dtype", r.string("dtype", ""));

  if (r.string("hidden_act", "silu") != "silu")
    r.bad("hidden_act", cat("activation \"", r.string("hidden_act", ""), "\" is not supported (expected \"silu\")"));
  if (r.boolean("attention_bias", false)) r.bad("attention_bias", "attention biases are not supported (Qwen3 has none)");
  if (!r.absent("partial_rotary_factor") && r.number("partial_rotary_factor", 1.0, 0.0, 1.0) != 1.0)
    r.bad("partial_rotary_factor", "partial rotary embeddings are not supported (must be 1.0)");

  // RoPE (HF priority: rope_scaling, else rope_parameters, their rope_theta over the top-level one).
  c.rope_theta = r.number("rope_theta", kHfDefaultRopeTheta, 0.0, 1e12);
  if (!r.absent("rope_scaling") && !(r.at("rope_scaling").is_object() && r.at("rope_scaling").empty()))
    c.rope_theta = read_rope(r, r.at("rope_scaling"), "rope_scaling", c.rope_theta);
  else if (!r.absent("rope_parameters"))
    c.rope_theta = read_rope(r, r.at("rope_parameters"), "rope_parameters", c.rope_theta);

  // Sliding window (HF: sliding_window = sliding_window if use_sliding_window else None).
  c.use_sliding_window = r.boolean("use_sliding_window", false);
  const bool window_given = !r.absent("sliding_window");
  const int64_t window = r.integer("sliding_window", false, kHfDefaultSlidingWindow, 1, kMaxPositions);
  const bool window_effective = c.use_sliding_window && window_given;
  const bool window_default = c.use_sliding_window && !j.contains("sliding_window");  // absent -> HF default 4096
  const int64_t max_window_layers = r.integer("max_window_layers", false, kHfDefaultMaxWindowLayers, 0, kMaxWindowLayers);
  c.layer_is_sliding.assign(size_t(c.num_hidden_layers), false);
  bool any_sliding = false;
  if (r.absent("layer_types")) {
    if (window_effective || window_default)
      for (int64_t i = max_window_layers; i < c.num_hidden_layers; ++i) c.layer_is_sliding[size_t(i)] = any_sliding = true;
  } else {
    const Json& lt = r.at("layer_types");
    if (!lt.is_array()) r.bad("layer_types", cat("expected an array of strings, found ", Reader::describe(lt)));
    if (int64_t(lt.size()) != c.num_hidden_layers)
      r.bad("layer_types", cat("has ", lt.size(), " entries, expected num_hidden_layers = ", c.num_hidden_layers));
    for (size_t i = 0; i < lt.size(); ++i) {
      if (!lt[i].is_string()) r.bad("layer_types", cat("entry ", i, ": expected a string, found ", Reader::describe(lt[i])));
      const std::string s = lt[i].get<std::string>();
      if (s == "sliding_attention")
        c.layer_is_sliding[i] = any_sliding = true;
      else if (s != "full_attention")
        r.bad("layer_types", cat("entry ", i, ": attention type \"", clip(s, 40),
                                 "\" is not supported (expected full_attention or sliding_attention)"));
    }
    // HF would drop the window when use_sliding_window is false and then fail in the forward;
    // we honour an explicit sliding_window in that case (v3.5 configs list their layer types).
    if (any_sliding && !window_given && !window_default)
      r.bad("sliding_window", "layer_types lists sliding_attention layers but sliding_window is null");
  }
  c.sliding_window = any_sliding ? window : 0;
  return c;
}

}  // namespace

ModelConfig parse_model_config(const std::string& json_text) { return parse_config(json_text, "config.json"); }

ModelConfig load_model_config(const std::string& path) {
  return parse_config(read_text_file(path, kMaxConfigFile), path);
}

}  // namespace lastrank
