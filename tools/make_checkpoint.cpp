// make_checkpoint: writes a seeded random jina-reranker-v3-layout checkpoint (config.json,
// model.safetensors or shards + index, optional tokenizer files) for tests and benchmarks.
// Values are byte-identical on every machine: a counter-based splitmix64 stream per tensor,
// Irwin-Hall (sum of four 16-bit uniforms) normals from integer math, one IEEE float multiply,
// then round-to-nearest-even into the dtype. No libm call touches a weight value.
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "core/error.h"
#include "core/thread_pool.h"
#include "io/safetensors_writer.h"

namespace fs = std::filesystem;
using namespace lastrank;

namespace {

struct Options {
  std::string out;
  int64_t hidden = 1024, layers = 28, heads = 16, kv_heads = 8, head_dim = 128, inter = 3072;
  int64_t vocab = 151936, proj_hidden = -1, proj_out = 512;
  double rope_theta = 1e6, eps = 1e-6;
  std::string dtype = "bf16";
  uint64_t seed = 0;
  std::vector<std::string> layer_types;  // "full" / "sliding" per layer; empty = all full
  int64_t sliding_window = 0;
  int64_t outlier_channels = 0;
  double outlier_scale = 1.0;
  int shards = 1;
  std::string tokenizer_dir;
};

constexpr double kMatrixStd = 0.02;  // initializer_range of Qwen3
constexpr double kNormStd = 0.1;     // norm weights = 1 + N(0, 0.1): a forgotten norm is visible
// Standard deviation of c = sum_{4} (2u - 65535), u uniform in [0, 65535]: sqrt(4/3 (2^32 - 1)).
constexpr double kIrwinHallStd = 75674.45447441297;

uint64_t splitmix64_mix(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

uint64_t fnv1a64(const std::string& s) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ull;
  return h;
}

// Zero-mean integer with std kIrwinHallStd, |c| <= 262140 (exact in float).
int32_t irwin_hall(uint64_t stream, uint64_t i) {
  uint64_t z = splitmix64_mix(stream + (i + 1) * 0x9E3779B97F4A7C15ull);
  int32_t s = int32_t(z & 0xffff) + int32_t((z >> 16) & 0xffff) + int32_t((z >> 32) & 0xffff) + int32_t(z >> 48);
  return 2 * s - 4 * 65535;
}

void store(DType dt, uint8_t* dst, int64_t i, float v) {
  if (dt == DType::F32) {
    std::memcpy(dst + i * 4, &v, 4);
  } else {
    uint16_t h = dt == DType::BF16 ? f32_to_bf16(v) : f32_to_f16(v);
    std::memcpy(dst + i * 2, &h, 2);
  }
}

// kind: matrix (N(0, 0.02)) or norm (1 + N(0, 0.1), outlier channels multiplied).
TensorData make_random(const Options& o, DType dt, const std::string& name, std::vector<int64_t> shape, bool norm,
                       const std::vector<int64_t>& outliers, ThreadPool& pool) {
  TensorData t{name, dt, shape, {}};
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  t.bytes.resize(size_t(n) * dtype_size(dt));
  const uint64_t stream = splitmix64_mix(o.seed ^ fnv1a64(name));
  const float scale = float((norm ? kNormStd : kMatrixStd) / kIrwinHallStd);
  uint8_t* dst = t.bytes.data();
  pool.parallel_for(n, 1 << 16, [&](int64_t b, int64_t e, int) {
    for (int64_t i = b; i < e; ++i) {
      float v = float(irwin_hall(stream, uint64_t(i))) * scale;
      store(dt, dst, i, norm ? 1.0f + v : v);
    }
  });
  if (norm) {
    for (int64_t c : outliers) {
      float v = (1.0f + float(irwin_hall(stream, uint64_t(c))) * scale) * float(o.outlier_scale);
      store(dt, dst, c, v);
    }
  }
  return t;
}

[[noreturn]] void usage(const std::string& why) {
  std::cerr << "make_checkpoint: " << why << "\n"
            << "usage: make_checkpoint --out DIR [--hidden N --layers N --heads N --kv-heads N --head-dim N\n"
               "  --inter N --vocab N --rope-theta X --eps X --proj-hidden N --proj-out N --dtype bf16|f16|f32\n"
               "  --seed N --layer-types full,sliding,... --sliding-window N --outlier-channels K\n"
               "  --outlier-scale S --shards N --tokenizer-dir DIR]\n";
  std::exit(2);
}

std::vector<std::string> split_commas(const std::string& s) {
  std::vector<std::string> r;
  size_t b = 0;
  while (b <= s.size()) {
    size_t e = s.find(',', b);
    if (e == std::string::npos) e = s.size();
    r.push_back(s.substr(b, e - b));
    b = e + 1;
  }
  return r;
}

Options parse_args(int argc, char** argv) {
  Options o;
  std::map<std::string, std::string> kv;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a.rfind("--", 0) != 0 || i + 1 >= argc) usage("bad argument '" + a + "'");
    kv[a.substr(2)] = argv[++i];
  }
  auto take_int = [&](const char* k, int64_t& v, int64_t lo) {
    auto it = kv.find(k);
    if (it == kv.end()) return;
    try {
      size_t pos = 0;
      v = std::stoll(it->second, &pos);
      if (pos != it->second.size()) throw std::invalid_argument("trailing");
    } catch (const std::exception&) {
      usage(std::string("--") + k + " expects an integer, found '" + it->second + "'");
    }
    if (v < lo) usage(std::string("--") + k + " must be >= " + std::to_string(lo));
    kv.erase(it);
  };
  auto take_double = [&](const char* k, double& v) {
    auto it = kv.find(k);
    if (it == kv.end()) return;
    try {
      v = std::stod(it->second);
    } catch (const std::exception&) {
      usage(std::string("--") + k + " expects a number, found '" + it->second + "'");
    }
    kv.erase(it);
  };
  auto take_str = [&](const char* k, std::string& v) {
    auto it = kv.find(k);
    if (it == kv.end()) return;
    v = it->second;
    kv.erase(it);
  };
  take_str("out", o.out);
  take_int("hidden", o.hidden, 1);
  take_int("layers", o.layers, 1);
  take_int("heads", o.heads, 1);
  take_int("kv-heads", o.kv_heads, 1);
  take_int("head-dim", o.head_dim, 2);
  take_int("inter", o.inter, 1);
  take_int("vocab", o.vocab, 1);
  take_int("proj-hidden", o.proj_hidden, 1);
  take_int("proj-out", o.proj_out, 1);
  take_double("rope-theta", o.rope_theta);
  take_double("eps", o.eps);
  take_str("dtype", o.dtype);
  int64_t seed = 0;
  take_int("seed", seed, 0);
  o.seed = uint64_t(seed);
  std::string lt;
  take_str("layer-types", lt);
  take_int("sliding-window", o.sliding_window, 1);
  take_int("outlier-channels", o.outlier_channels, 0);
  take_double("outlier-scale", o.outlier_scale);
  int64_t shards = 1;
  take_int("shards", shards, 1);
  o.shards = int(shards);
  take_str("tokenizer-dir", o.tokenizer_dir);
  if (!kv.empty()) usage("unknown flag --" + kv.begin()->first);
  if (o.out.empty()) usage("--out is required");
  if (o.heads % o.kv_heads != 0) usage("--kv-heads must divide --heads");
  if (o.head_dim % 2 != 0) usage("--head-dim must be even (rotate-half RoPE)");
  if (o.dtype != "bf16" && o.dtype != "f16" && o.dtype != "f32") usage("--dtype must be bf16, f16 or f32");
  if (o.proj_hidden < 0) o.proj_hidden = o.hidden / 2;
  if (o.outlier_channels > o.hidden) usage("--outlier-channels must be <= --hidden");
  if (!lt.empty()) {
    o.layer_types = split_commas(lt);
    if (int64_t(o.layer_types.size()) != o.layers)
      usage("--layer-types has " + std::to_string(o.layer_types.size()) + " entries, expected --layers = " +
            std::to_string(o.layers));
    bool any_sliding = false;
    for (const auto& t : o.layer_types) {
      if (t != "full" && t != "sliding") usage("--layer-types entries must be full or sliding, found '" + t + "'");
      any_sliding |= t == "sliding";
    }
    if (any_sliding && o.sliding_window <= 0) usage("sliding layers need --sliding-window N");
  }
  if (o.shards > o.layers + 2) usage("--shards must be <= layers + 2");
  return o;
}

nlohmann::ordered_json make_config(const Options& o) {
  const char* torch_dtype = o.dtype == "bf16" ? "bfloat16" : o.dtype == "f16" ? "float16" : "float32";
  bool sliding = false;
  for (const auto& t : o.layer_types) sliding |= t == "sliding";
  nlohmann::ordered_json c;
  c["_name_or_path"] = "lastrank/make_checkpoint";
  c["architectures"] = {"JinaForRanking"};
  c["attention_bias"] = false;
  c["attention_dropout"] = 0.0;
  c["bos_token_id"] = 151643;
  c["eos_token_id"] = 151645;
  c["head_dim"] = o.head_dim;
  c["hidden_act"] = "silu";
  c["hidden_size"] = o.hidden;
  c["initializer_range"] = kMatrixStd;
  c["intermediate_size"] = o.inter;
  if (!o.layer_types.empty()) {
    nlohmann::ordered_json lt = nlohmann::ordered_json::array();
    for (const auto& t : o.layer_types) lt.push_back(t == "sliding" ? "sliding_attention" : "full_attention");
    c["layer_types"] = lt;
  }
  c["max_position_embeddings"] = 131072;
  c["max_window_layers"] = o.layers;
  c["model_type"] = "qwen3";
  c["num_attention_heads"] = o.heads;
  c["num_hidden_layers"] = o.layers;
  c["num_key_value_heads"] = o.kv_heads;
  c["rms_norm_eps"] = o.eps;
  c["rope_scaling"] = nullptr;
  c["rope_theta"] = o.rope_theta;
  if (sliding) {
    c["sliding_window"] = o.sliding_window;
  } else {
    c["sliding_window"] = nullptr;
  }
  c["tie_word_embeddings"] = true;
  c["torch_dtype"] = torch_dtype;
  c["transformers_version"] = "4.55.2";
  c["use_cache"] = false;
  c["use_sliding_window"] = sliding;
  c["vocab_size"] = o.vocab;
  return c;
}

void write_text(const fs::path& p, const std::string& s) {
  std::ofstream f(p, std::ios::binary);
  f << s;
  if (!f) fail("cannot write ", p.string());
}

void run(const Options& o) {
  const DType dt = o.dtype == "bf16" ? DType::BF16 : o.dtype == "f16" ? DType::F16 : DType::F32;
  fs::create_directories(o.out);
  ThreadPool pool(0);

  std::vector<int64_t> outliers;  // evenly spread, offset so channel 0 is not special
  for (int64_t j = 0; j < o.outlier_channels; ++j) outliers.push_back((j * o.hidden / o.outlier_channels + 3) % o.hidden);

  // Tensors in module order; shards cut this list into contiguous groups.
  std::vector<TensorData> ts;
  const int64_t nq = o.heads * o.head_dim, nkv = o.kv_heads * o.head_dim;
  ts.push_back(make_random(o, dt, "model.embed_tokens.weight", {o.vocab, o.hidden}, false, {}, pool));
  for (int64_t l = 0; l < o.layers; ++l) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    ts.push_back(make_random(o, dt, p + "input_layernorm.weight", {o.hidden}, true, outliers, pool));
    ts.push_back(make_random(o, dt, p + "self_attn.q_proj.weight", {nq, o.hidden}, false, {}, pool));
    ts.push_back(make_random(o, dt, p + "self_attn.k_proj.weight", {nkv, o.hidden}, false, {}, pool));
    ts.push_back(make_random(o, dt, p + "self_attn.v_proj.weight", {nkv, o.hidden}, false, {}, pool));
    ts.push_back(make_random(o, dt, p + "self_attn.o_proj.weight", {o.hidden, nq}, false, {}, pool));
    ts.push_back(make_random(o, dt, p + "self_attn.q_norm.weight", {o.head_dim}, true, {}, pool));
    ts.push_back(make_random(o, dt, p + "self_attn.k_norm.weight", {o.head_dim}, true, {}, pool));
    ts.push_back(make_random(o, dt, p + "post_attention_layernorm.weight", {o.hidden}, true, outliers, pool));
    ts.push_back(make_random(o, dt, p + "mlp.gate_proj.weight", {o.inter, o.hidden}, false, {}, pool));
    ts.push_back(make_random(o, dt, p + "mlp.up_proj.weight", {o.inter, o.hidden}, false, {}, pool));
    ts.push_back(make_random(o, dt, p + "mlp.down_proj.weight", {o.hidden, o.inter}, false, {}, pool));
  }
  ts.push_back(make_random(o, dt, "model.norm.weight", {o.hidden}, true, {}, pool));
  ts.push_back(make_random(o, dt, "projector.0.weight", {o.proj_hidden, o.hidden}, false, {}, pool));
  ts.push_back(make_random(o, dt, "projector.2.weight", {o.proj_out, o.proj_hidden}, false, {}, pool));

  const std::map<std::string, std::string> meta = {{"format", "pt"}};
  const fs::path out(o.out);
  // Remove stale weight files of a previous layout (single <-> sharded).
  for (const auto& e : fs::directory_iterator(out)) {
    const std::string n = e.path().filename().string();
    if (n.rfind("model", 0) == 0 && (n.find(".safetensors") != std::string::npos)) fs::remove(e.path());
  }
  if (o.shards == 1) {
    write_safetensors((out / "model.safetensors").string(), ts, meta);
  } else {
    uint64_t total = 0;
    for (const auto& t : ts) total += t.bytes.size();
    nlohmann::ordered_json index;
    index["metadata"]["total_size"] = total;
    nlohmann::ordered_json wm = nlohmann::ordered_json::object();
    size_t next = 0;
    uint64_t done = 0;
    for (int s = 0; s < o.shards; ++s) {
      char fname[64];
      std::snprintf(fname, sizeof fname, "model-%05d-of-%05d.safetensors", s + 1, o.shards);
      // Take tensors until this shard's share of the bytes is reached, leaving >= 1 per later shard.
      const uint64_t target = total * uint64_t(s + 1) / uint64_t(o.shards);
      std::vector<TensorData> group;
      while (next < ts.size() && (group.empty() || done < target) && ts.size() - next > size_t(o.shards - s - 1)) {
        done += ts[next].bytes.size();
        wm[ts[next].name] = fname;
        group.push_back(std::move(ts[next++]));
      }
      if (s == o.shards - 1) {
        while (next < ts.size()) {
          wm[ts[next].name] = fname;
          group.push_back(std::move(ts[next++]));
        }
      }
      write_safetensors((out / fname).string(), group, meta);
    }
    index["weight_map"] = wm;
    write_text(out / "model.safetensors.index.json", index.dump(2) + "\n");
  }
  write_text(out / "config.json", make_config(o).dump(2) + "\n");

  if (!o.tokenizer_dir.empty()) {
    const fs::path td(o.tokenizer_dir);
    if (!fs::exists(td / "tokenizer.json")) fail("--tokenizer-dir ", td.string(), " has no tokenizer.json");
    for (const char* f : {"tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"}) {
      if (fs::exists(td / f)) fs::copy_file(td / f, out / f, fs::copy_options::overwrite_existing);
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  try {
    run(parse_args(argc, argv));
  } catch (const std::exception& e) {
    std::cerr << "make_checkpoint: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
