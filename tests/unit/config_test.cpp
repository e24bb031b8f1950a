// config.json parsing: the real jina-reranker-v3 config, HF Qwen3Config (transformers 5.12)
// defaults and layer_types derivation, and clear errors naming the field for wrong types,
// out-of-range values, unknown model types/architectures and unsupported RoPE scaling.
#include "expect_error.h"
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "model/config.h"

namespace lastrank {
namespace {

using Json = nlohmann::json;

// The verbatim config.json of jinaai/jina-reranker-v3 (as published on the Hugging Face hub).
const char* kJinaV3Config = R"({
  "_name_or_path": "jinaai/jina-reranker-v3", "architectures": ["JinaForRanking"],
  "auto_map": {"AutoModel": "modeling.JinaForRanking"}, "attention_bias": false, "attention_dropout": 0.0,
  "bos_token_id": 151643, "eos_token_id": 151645, "head_dim": 128, "hidden_act": "silu", "hidden_size": 1024,
  "initializer_range": 0.02, "intermediate_size": 3072, "max_position_embeddings": 131072,
  "max_window_layers": 28, "model_type": "qwen3", "num_attention_heads": 16, "num_hidden_layers": 28,
  "num_key_value_heads": 8, "rms_norm_eps": 1e-06, "rope_scaling": null, "rope_theta": 1000000,
  "sliding_window": null, "tie_word_embeddings": true, "torch_dtype": "bfloat16",
  "transformers_version": "4.55.2", "use_cache": false, "use_sliding_window": false, "vocab_size": 151936})";

// The minimal required fields plus `extra` (a JSON object merged over them; null values erase).
std::string minimal(const Json& extra = Json::object()) {
  Json j = {{"model_type", "qwen3"}, {"hidden_size", 64}, {"num_hidden_layers", 6}, {"num_attention_heads", 4},
            {"intermediate_size", 96}, {"vocab_size", 100}};
  for (const auto& [k, v] : extra.items()) j[k] = v;
  return j.dump();
}

TEST(Config, JinaV3) {
  ModelConfig c = parse_model_config(kJinaV3Config);
  EXPECT_EQ(c.model_type, "qwen3");
  ASSERT_EQ(c.architectures.size(), 1u);
  EXPECT_EQ(c.architectures[0], "JinaForRanking");
  EXPECT_EQ(c.hidden_size, 1024);
  EXPECT_EQ(c.num_hidden_layers, 28);
  EXPECT_EQ(c.num_attention_heads, 16);
  EXPECT_EQ(c.num_key_value_heads, 8);
  EXPECT_EQ(c.head_dim, 128);
  EXPECT_EQ(c.intermediate_size, 3072);
  EXPECT_EQ(c.rms_norm_eps, 1e-6);
  EXPECT_EQ(c.rope_theta, 1e6);
  EXPECT_EQ(c.vocab_size, 151936);
  EXPECT_EQ(c.max_position_embeddings, 131072);
  EXPECT_TRUE(c.tie_word_embeddings);
  EXPECT_FALSE(c.use_sliding_window);
  EXPECT_EQ(c.sliding_window, 0);
  ASSERT_EQ(c.layer_is_sliding.size(), 28u);
  for (int64_t i = 0; i < 28; ++i) EXPECT_EQ(c.window_for_layer(i), 0);
  EXPECT_EQ(c.torch_dtype, "bfloat16");
}

// Expected values below were printed by transformers 5.12 Qwen3Config.from_dict on the same dicts.
TEST(Config, HfDefaults) {
  ModelConfig c = parse_model_config(minimal());
  EXPECT_EQ(c.head_dim, 128);  // HF default; NOT hidden/heads (= 16 here)
  EXPECT_EQ(c.num_key_value_heads, 4);
  EXPECT_EQ(c.rope_theta, 10000.0);
  EXPECT_EQ(c.rms_norm_eps, 1e-6);
  EXPECT_EQ(c.max_position_embeddings, 32768);
  EXPECT_FALSE(c.tie_word_embeddings);
  EXPECT_TRUE(c.architectures.empty());
  EXPECT_EQ(c.sliding_window, 0);
  // null means "use the default" for the optional fields HF declares Optional.
  c = parse_model_config(minimal({{"num_key_value_heads", nullptr}, {"rope_scaling", nullptr}, {"layer_types", nullptr}}));
  EXPECT_EQ(c.num_key_value_heads, 4);
}

TEST(Config, LayerTypesDerivedLikeHf) {
  // HF: sliding iff use_sliding_window and sliding_window set and i >= max_window_layers.
  ModelConfig c = parse_model_config(minimal({{"use_sliding_window", true}, {"max_window_layers", 2}, {"sliding_window", 16}}));
  std::vector<bool> want = {false, false, true, true, true, true};
  EXPECT_EQ(c.layer_is_sliding, want);
  EXPECT_EQ(c.sliding_window, 16);
  EXPECT_EQ(c.window_for_layer(1), 0);
  EXPECT_EQ(c.window_for_layer(2), 16);
  // use_sliding_window false drops the window: all full.
  c = parse_model_config(minimal({{"use_sliding_window", false}, {"max_window_layers", 2}, {"sliding_window", 16}}));
  EXPECT_EQ(c.layer_is_sliding, std::vector<bool>(6, false));
  EXPECT_EQ(c.sliding_window, 0);
  // Absent sliding_window with use_sliding_window: HF's default 4096; the default max_window_layers 28 >= 6 layers.
  c = parse_model_config(minimal({{"use_sliding_window", true}, {"max_window_layers", 5}}));
  EXPECT_EQ(c.window_for_layer(5), 4096);
  EXPECT_EQ(c.window_for_layer(4), 0);
  c = parse_model_config(minimal({{"use_sliding_window", true}}));
  EXPECT_EQ(c.layer_is_sliding, std::vector<bool>(6, false));
  // Explicit null window: nothing slides.
  c = parse_model_config(minimal({{"use_sliding_window", true}, {"max_window_layers", 0}, {"sliding_window", nullptr}}));
  EXPECT_EQ(c.layer_is_sliding, std::vector<bool>(6, false));
}

TEST(Config, ExplicitLayerTypes) {
  Json lt = {"sliding_attention", "sliding_attention", "full_attention", "sliding_attention", "full_attention", "full_attention"};
  ModelConfig c = parse_model_config(minimal({{"layer_types", lt}, {"sliding_window", 1024}, {"use_sliding_window", true}}));
  std::vector<bool> want = {true, true, false, true, false, false};
  EXPECT_EQ(c.layer_is_sliding, want);
  EXPECT_EQ(c.window_for_layer(0), 1024);
  EXPECT_EQ(c.window_for_layer(5), 0);
  // Listed layer types win over max_window_layers; an explicit window is honoured even when
  // use_sliding_window is false (HF would null the window and fail in its forward).
  c = parse_model_config(minimal({{"layer_types", lt}, {"sliding_window", 8}, {"max_window_layers", 0}}));
  EXPECT_EQ(c.layer_is_sliding, want);
  EXPECT_EQ(c.window_for_layer(3), 8);

  expect_error([&] { parse_model_config(minimal({{"layer_types", lt}})); }, {"sliding_window", "null"});
  expect_error([] { parse_model_config(minimal({{"layer_types", {"full_attention"}}})); },
               {"layer_types", "has 1 entries, expected num_hidden_layers = 6"});
  Json bogus = {"full_attention", "full_attention", "chunked_attention", "full_attention", "full_attention", "full_attention"};
  expect_error([&] { parse_model_config(minimal({{"layer_types", bogus}})); },
               {"layer_types", "entry 2", "chunked_attention", "not supported"});
  expect_error([] { parse_model_config(minimal({{"layer_types", "full_attention"}})); }, {"layer_types", "expected an array"});
}

TEST(Config, ModelTypeAndArchitecture) {
  expect_error([] { parse_model_config(minimal({{"model_type", "llama"}})); }, {"model_type", "unsupported model type \"llama\""});
  expect_error([] { parse_model_config(R"({"hidden_size": 8})"); }, {"missing required field \"model_type\""});
  expect_error([] { parse_model_config(minimal({{"architectures", {"BertModel"}}})); },
               {"architectures", "unsupported architecture \"BertModel\""});
  expect_error([] { parse_model_config(minimal({{"architectures", "JinaForRanking"}})); }, {"architectures", "expected an array"});
  for (const char* a : {"JinaForRanking", "Qwen3ForCausalLM", "Qwen3Model"})
    EXPECT_NO_THROW(parse_model_config(minimal({{"architectures", {a}}}))) << a;
}

TEST(Config, WrongJsonTypesNameTheField) {
  expect_error([] { parse_model_config(minimal({{"hidden_size", "1024"}})); },
               {"field \"hidden_size\"", "expected an integer, found the string \"1024\""});
  expect_error([] { parse_model_config(minimal({{"hidden_size", 64.5}})); }, {"field \"hidden_size\"", "non-integer"});
  expect_error([] { parse_model_config(minimal({{"num_hidden_layers", true}})); }, {"field \"num_hidden_layers\"", "boolean"});
  expect_error([] { parse_model_config(minimal({{"head_dim", Json::array()}})); }, {"field \"head_dim\"", "array"});
  expect_error([] { parse_model_config(minimal({{"rms_norm_eps", "1e-6"}})); }, {"field \"rms_norm_eps\"", "expected a number"});
  expect_error([] { parse_model_config(minimal({{"rope_theta", Json::object()}})); }, {"field \"rope_theta\""});
  expect_error([] { parse_model_config(minimal({{"tie_word_embeddings", 1}})); }, {"field \"tie_word_embeddings\"", "true or false"});
  expect_error([] { parse_model_config(minimal({{"use_sliding_window", "false"}})); }, {"field \"use_sliding_window\""});
  expect_error([] { parse_model_config(minimal({{"sliding_window", 8.5}})); }, {"field \"sliding_window\""});
  expect_error([] { parse_model_config(minimal({{"model_type", 3}})); }, {"field \"model_type\"", "expected a string"});
  expect_error([] { parse_model_config(minimal({{"hidden_size", nullptr}})); }, {"missing required field \"hidden_size\""});
  expect_error([] { parse_model_config(minimal({{"vocab_size", nullptr}})); }, {"missing required field \"vocab_size\""});
}

TEST(Config, Ranges) {
  expect_error([] { parse_model_config(minimal({{"hidden_size", 0}})); }, {"field \"hidden_size\"", "0 is out of range"});
  expect_error([] { parse_model_config(minimal({{"hidden_size", -5}})); }, {"field \"hidden_size\"", "-5 is out of range"});
  expect_error([] { parse_model_config(minimal({{"vocab_size", 1ll << 40}})); }, {"field \"vocab_size\"", "out of range"});
  expect_error([] { parse_model_config(minimal({{"intermediate_size", 18446744073709551615ull}})); },
               {"field \"intermediate_size\"", "out of range"});
  expect_error([] { parse_model_config(minimal({{"num_hidden_layers", 100000}})); }, {"field \"num_hidden_layers\""});
  expect_error([] { parse_model_config(minimal({{"num_key_value_heads", 3}})); },
               {"field \"num_key_value_heads\"", "3 does not divide num_attention_heads = 4"});
  expect_error([] { parse_model_config(minimal({{"num_key_value_heads", 8}})); }, {"field \"num_key_value_heads\""});
  expect_error([] { parse_model_config(minimal({{"head_dim", 7}})); }, {"field \"head_dim\"", "even"});
  expect_error([] { parse_model_config(minimal({{"num_attention_heads", 1024}, {"head_dim", 1024}})); },
               {"field \"head_dim\"", "exceeds"});
  expect_error([] { parse_model_config(minimal({{"rms_norm_eps", 0}})); }, {"field \"rms_norm_eps\"", "out of range"});
  expect_error([] { parse_model_config(minimal({{"rms_norm_eps", -1e-6}})); }, {"field \"rms_norm_eps\""});
  expect_error([] { parse_model_config(minimal({{"rope_theta", 0}})); }, {"field \"rope_theta\""});
  expect_error([] { parse_model_config(minimal({{"rope_theta", 1e300}})); }, {"field \"rope_theta\""});
  expect_error([] { parse_model_config(minimal({{"max_position_embeddings", 0}})); }, {"field \"max_position_embeddings\""});
  expect_error([] { parse_model_config(minimal({{"sliding_window", 0}})); }, {"field \"sliding_window\""});
}

TEST(Config, RopeScaling) {
  ModelConfig c = parse_model_config(minimal({{"rope_scaling", {{"type", "default"}}}, {"rope_theta", 7.0}}));
  EXPECT_EQ(c.rope_theta, 7.0);
  c = parse_model_config(minimal({{"rope_parameters", {{"rope_type", "default"}, {"rope_theta", 5e5}}}}));
  EXPECT_EQ(c.rope_theta, 5e5);
  c = parse_model_config(minimal({{"rope_scaling", Json::object()}, {"rope_theta", 3.0}}));
  EXPECT_EQ(c.rope_theta, 3.0);
  expect_error([] { parse_model_config(minimal({{"rope_scaling", {{"rope_type", "yarn"}, {"factor", 4.0}}}})); },
               {"field \"rope_scaling\"", "\"yarn\" is not supported"});
  expect_error([] { parse_model_config(minimal({{"rope_scaling", {{"type", "linear"}, {"factor", 2.0}}}})); },
               {"\"linear\" is not supported"});
  expect_error([] { parse_model_config(minimal({{"rope_scaling", "yarn"}})); }, {"field \"rope_scaling\"", "expected an object"});
  expect_error([] { parse_model_config(minimal({{"rope_parameters", {{"rope_type", "default"}, {"partial_rotary_factor", 0.5}}}})); },
               {"partial_rotary_factor"});
  expect_error([] { parse_model_config(minimal({{"partial_rotary_factor", 0.5}})); }, {"partial_rotary_factor"});
}

TEST(Config, UnsupportedArchitectureKnobs) {
  expect_error([] { parse_model_config(minimal({{"hidden_act", "gelu"}})); }, {"field \"hidden_act\"", "gelu"});
  expect_error([] { parse_model_config(minimal({{"attention_bias", true}})); }, {"field \"attention_bias\""});
  EXPECT_NO_THROW(parse_model_config(minimal({{"hidden_act", "silu"}, {"attention_bias", false}})));
}

TEST(Config, NotJson) {
  expect_error([] { parse_model_config("{\"model_type\": \"qwen3\""); }, {"config.json", "not valid JSON"});
  expect_error([] { parse_model_config(""); }, {"not valid JSON"});
  expect_error([] { parse_model_config("[1, 2]"); }, {"expected a JSON object, found array"});
  expect_error([] { load_model_config("/nonexistent/config.json"); }, {"cannot open", "/nonexistent/config.json"});
}

}  // namespace
}  // namespace lastrank
