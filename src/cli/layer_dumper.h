// `lastrank rerank --dump-layers DIR`: writes every traced intermediate of the first forward pass
// as raw little-endian f32 files <dir>/<name>.<layer>.f32 plus <dir>/index.json with shapes
// (tools/compare_layers.py reads it).
#pragma once
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

namespace lastrank {

class LayerDumper {
 public:
  explicit LayerDumper(std::string dir) : dir_(std::move(dir)) { std::filesystem::create_directories(dir_); }
  void operator()(const std::string& name, int layer, const float* data, int64_t rows, int64_t cols) {
    if (name == "embed") {  // "embed" opens each forward pass: keep only the first block's
      if (seen_embed_) done_ = true;
      seen_embed_ = true;
    }
    if (done_) return;
    const std::string file = name + "." + (layer < 0 ? std::string("x") : std::to_string(layer)) + ".f32";
    std::ofstream f(dir_ + "/" + file, std::ios::binary);
    f.write(reinterpret_cast<const char*>(data), std::streamsize(rows * cols * 4));
    index_[file] = {{"name", name}, {"layer", layer}, {"shape", {rows, cols}}};
  }
  void finish() {
    done_ = true;
    std::ofstream(dir_ + "/index.json") << index_.dump(1) << "\n";
  }

 private:
  std::string dir_;
  nlohmann::json index_ = nlohmann::json::object();
  bool done_ = false, seen_embed_ = false;
};

}  // namespace lastrank
