// load_model_weights / bind_model_weights: the exact tensor set for a config, with errors naming
// the tensor and expected vs found shapes; mixed float dtypes; lm_head ignored; sharded dirs;
// and the generated fixture checkpoints (tools/make_checkpoint) when they exist.
#include "expect_error.h"
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "io/safetensors_writer.h"
#include "model/config.h"
#include "model/weights.h"
#include "test_paths.h"

namespace lastrank {
namespace {

namespace fs = std::filesystem;

// hidden 8, 2 layers, 2 heads / 1 KV head, head_dim 6 (heads*hd = 12 != hidden), inter 12, vocab 20.
ModelConfig tiny_config() {
  return parse_model_config(R"({"model_type":"qwen3","hidden_size":8,"num_hidden_layers":2,"num_attention_heads":2,
    "num_key_value_heads":1,"head_dim":6,"intermediate_size":12,"vocab_size":20})");
}
constexpr int64_t kProjHidden = 5, kProjOut = 3;

TensorData tensor(const std::string& name, std::vector<int64_t> shape, DType dt = DType::BF16) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  std::vector<float> v(static_cast<size_t>(n));
  for (size_t i = 0; i < v.size(); ++i) v[i] = float(i % 7) * 0.25f - float(name.size() % 3);
  return make_tensor(name, dt, std::move(shape), v);
}

std::vector<TensorData> full_set(const ModelConfig& c, const std::string& p = "model.") {
  const int64_t h = c.hidden_size, hd = c.head_dim, q = c.num_attention_heads * hd, kv = c.num_key_value_heads * hd;
  std::vector<TensorData> t;
  t.push_back(tensor(p + "embed_tokens.weight", {c.vocab_size, h}));
  for (int64_t i = 0; i < c.num_hidden_layers; ++i) {
    std::string l = p + "layers." + std::to_string(i) + ".";
    t.push_back(tensor(l + "input_layernorm.weight", {h}, DType::F32));
    t.push_back(tensor(l + "self_attn.q_proj.weight", {q, h}));
    t.push_back(tensor(l + "self_attn.k_proj.weight", {kv, h}, DType::F16));
    t.push_back(tensor(l + "self_attn.v_proj.weight", {kv, h}));
    t.push_back(tensor(l + "self_attn.o_proj.weight", {h, q}));
    t.push_back(tensor(l + "self_attn.q_norm.weight", {hd}));
    t.push_back(tensor(l + "self_attn.k_norm.weight", {hd}, DType::F32));
    t.push_back(tensor(l + "post_attention_layernorm.weight", {h}));
    t.push_back(tensor(l + "mlp.gate_proj.weight", {c.intermediate_size, h}));
    t.push_back(tensor(l + "mlp.up_proj.weight", {c.intermediate_size, h}));
    t.push_back(tensor(l + "mlp.down_proj.weight", {h, c.intermediate_size}));
  }
  t.push_back(tensor(p + "norm.weight", {h}));
  t.push_back(tensor("projector.0.weight", {kProjHidden, h}, DType::F32));
  t.push_back(tensor("projector.2.weight", {kProjOut, kProjHidden}));
  return t;
}

struct TempDir {
  fs::path path;
  TempDir() {
    static int counter = 0;
    path = fs::temp_directory_path() / ("lastrank_w_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
  std::string str() const { return path.string(); }
};

// Writes `ts` as <dir>/model.safetensors and loads it against cfg.
ModelWeights load(const std::vector<TensorData>& ts, const ModelConfig& cfg) {
  TempDir d;
  write_safetensors((d.path / "model.safetensors").string(), ts);
  return load_model_weights(d.str(), cfg);  // the mapping outlives the deleted file (POSIX)
}

std::vector<TensorData> without(std::vector<TensorData> ts, const std::string& name) {
  std::erase_if(ts, [&](const TensorData& t) { return t.name == name; });
  return ts;
}
std::vector<TensorData> replaced(std::vector<TensorData> ts, TensorData r) {
  for (auto& t : ts)
    if (t.name == r.name) t = r;
  return ts;
}

TEST(Weights, BindsEveryTensor) {
  ModelConfig c = tiny_config();
  ModelWeights w = load(full_set(c), c);
  ASSERT_EQ(w.layers.size(), 2u);
  EXPECT_EQ(w.embed_tokens.shape_str(), "[20, 8]");
  EXPECT_EQ(w.layers[1].q_proj.shape_str(), "[12, 8]");
  EXPECT_EQ(w.layers[1].k_proj.shape_str(), "[6, 8]");
  EXPECT_EQ(w.layers[1].k_proj.dtype, DType::F16);
  EXPECT_EQ(w.layers[0].input_layernorm.dtype, DType::F32);
  EXPECT_EQ(w.layers[0].o_proj.shape_str(), "[8, 12]");
  EXPECT_EQ(w.layers[0].down_proj.shape_str(), "[8, 12]");
  EXPECT_EQ(w.layers[0].q_norm.name, "model.layers.0.self_attn.q_norm.weight");
  EXPECT_EQ(w.norm.shape_str(), "[8]");
  EXPECT_EQ(w.projector_hidden(), kProjHidden);
  EXPECT_EQ(w.projector_out(), kProjOut);
  // Values come through: element 9 of projector.0 (F32) = (9 % 7) * 0.25 - (18 % 3).
  EXPECT_EQ(w.projector0.at(9), 0.5f);
}

TEST(Weights, LmHeadIgnoredAndBarePrefixAccepted) {
  ModelConfig c = tiny_config();
  auto ts = full_set(c);
  ts.push_back(tensor("lm_head.weight", {20, 8}));
  EXPECT_NO_THROW(load(ts, c));
  ModelWeights w = load(full_set(c, ""), c);  // Qwen3Model-style names (no "model.")
  EXPECT_EQ(w.embed_tokens.name, "embed_tokens.weight");
}

TEST(Weights, MissingTensor) {
  ModelConfig c = tiny_config();
  expect_error([&] { load(without(full_set(c), "model.layers.1.mlp.up_proj.weight"), c); },
               {"missing tensor model.layers.1.mlp.up_proj.weight (expected shape [12, 8])"});
  expect_error([&] { load(without(full_set(c), "projector.2.weight"), c); }, {"missing tensor projector.2.weight"});
  expect_error([&] { load(without(full_set(c), "projector.0.weight"), c); }, {"missing tensor projector.0.weight"});
}

TEST(Weights, UnexpectedTensor) {
  ModelConfig c = tiny_config();
  auto ts = full_set(c);
  ts.push_back(tensor("model.layers.2.input_layernorm.weight", {8}));
  expect_error([&] { load(ts, c); }, {"unexpected tensor model.layers.2.input_layernorm.weight [8]"});
  ts = full_set(c);
  ts.push_back(tensor("model.layers.0.self_attn.q_proj.bias", {12}));
  expect_error([&] { load(ts, c); }, {"unexpected tensor model.layers.0.self_attn.q_proj.bias"});
}

TEST(Weights, WrongShape) {
  ModelConfig c = tiny_config();
  expect_error([&] { load(replaced(full_set(c), tensor("model.layers.1.self_attn.k_proj.weight", {6, 7})), c); },
               {"tensor model.layers.1.self_attn.k_proj.weight: expected shape [6, 8], found [6, 7]"});
  expect_error([&] { load(replaced(full_set(c), tensor("model.embed_tokens.weight", {21, 8})), c); },
               {"tensor model.embed_tokens.weight: expected shape [20, 8], found [21, 8]"});
  expect_error([&] { load(replaced(full_set(c), tensor("model.norm.weight", {8, 1})), c); },
               {"tensor model.norm.weight: expected shape [8], found [8, 1]"});
  expect_error([&] { load(replaced(full_set(c), tensor("model.layers.0.self_attn.q_norm.weight", {8})), c); },
               {"q_norm.weight: expected shape [6], found [8]"});
  // Projector: rows free, columns must chain hidden -> P -> P2.
  expect_error([&] { load(replaced(full_set(c), tensor("projector.0.weight", {5, 9})), c); },
               {"tensor projector.0.weight: expected shape [512, 8], found [5, 9]"});
  expect_error([&] { load(replaced(full_set(c), tensor("projector.2.weight", {3, 4})), c); },
               {"tensor projector.2.weight: expected shape [3, 5], found [3, 4]"});
  ModelWeights w = load(replaced(replaced(full_set(c), tensor("projector.0.weight", {7, 8})), tensor("projector.2.weight", {4, 7})), c);
  EXPECT_EQ(w.projector_hidden(), 7);
  EXPECT_EQ(w.projector_out(), 4);
}

TEST(Weights, NonFloatDtype) {
  ModelConfig c = tiny_config();
  TensorData t{"model.norm.weight", DType::I32, {8}, std::vector<uint8_t>(32)};
  expect_error([&] { load(replaced(full_set(c), t), c); },
               {"tensor model.norm.weight: expected dtype F32, F16 or BF16, found I32"});
}

TEST(Weights, ReportsSeveralProblems) {
  ModelConfig c = tiny_config();
  ModelConfig bigger = c;
  bigger.num_hidden_layers = 3;
  bigger.layer_is_sliding.assign(3, false);
  expect_error([&] { load(full_set(c), bigger); }, {"11 problems", "missing tensor model.layers.2.input_layernorm.weight", "and 5 more"});
}

TEST(Weights, ShardedDirectory) {
  ModelConfig c = tiny_config();
  auto ts = full_set(c);
  TempDir d;
  std::vector<TensorData> a(ts.begin(), ts.begin() + 10), b(ts.begin() + 10, ts.end());
  write_safetensors((d.path / "model-00001-of-00002.safetensors").string(), a);
  write_safetensors((d.path / "model-00002-of-00002.safetensors").string(), b);
  std::string idx = "{\"weight_map\":{";
  for (size_t i = 0; i < ts.size(); ++i)
    idx += (i ? "," : "") + ("\"" + ts[i].name + "\":\"model-0000" + (i < 10 ? "1" : "2") + "-of-00002.safetensors\"");
  std::ofstream(d.path / "model.safetensors.index.json") << idx << "}}";
  ModelWeights w = load_model_weights(d.str(), c);
  EXPECT_EQ(w.layers[1].down_proj.shape_str(), "[8, 12]");
}

// The seeded fixture checkpoints written by tools/make_checkpoint (tests/data/checkpoints.txt).
TEST(Weights, GeneratedFixtureCheckpoints) {
  const fs::path root = LASTRANK_TEST_MODELS;
  int loaded = 0;
  if (fs::is_directory(root))
    for (const auto& e : fs::directory_iterator(root)) {
      if (!fs::exists(e.path() / "config.json")) continue;
      SCOPED_TRACE(e.path().string());
      ModelConfig cfg = load_model_config((e.path() / "config.json").string());
      ModelWeights w = load_model_weights(e.path().string(), cfg);
      EXPECT_EQ(int64_t(w.layers.size()), cfg.num_hidden_layers);
      EXPECT_GT(w.projector_out(), 0);
      if (e.path().filename() == "tiny-swa") {  // --layer-types sliding,sliding,full --sliding-window 8
        EXPECT_EQ(cfg.window_for_layer(0), 8);
        EXPECT_EQ(cfg.window_for_layer(1), 8);
        EXPECT_EQ(cfg.window_for_layer(2), 0);
      }
      ++loaded;
    }
  if (loaded == 0) GTEST_SKIP() << "no generated checkpoints under " << root << " (run the generate_test_models fixture)";
}

}  // namespace
}  // namespace lastrank
