// Helpers shared by the golden tests: reading tests/data/golden/*.json (written by
// tools/make_golden.py), locating the generated fixture checkpoints, and comparing tensors with
// a max-abs / max-rel report normalized by the tensor's scale.
#pragma once
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>
#include "test_paths.h"

namespace lastrank::golden {

inline std::string read_text(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

inline nlohmann::json read_golden(const std::string& file) {
  const std::string path = std::string(LASTRANK_SOURCE_DIR) + "/tests/data/golden/" + file;
  const std::string text = read_text(path);
  if (text.empty()) return nlohmann::json();
  auto j = nlohmann::json::parse(text);
  return j;
}

// name -> make_checkpoint flags, from tests/data/checkpoints.txt.
inline std::map<std::string, std::string> checkpoint_lines() {
  std::map<std::string, std::string> out;
  std::istringstream in(read_text(std::string(LASTRANK_SOURCE_DIR) + "/tests/data/checkpoints.txt"));
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream ls(line);
    std::string name;
    if (!(ls >> name) || name[0] == '#') continue;
    std::string rest;
    std::getline(ls, rest);
    rest.erase(0, rest.find_first_not_of(" \t"));
    rest.erase(rest.find_last_not_of(" \t\r") + 1);
    out[name] = rest;
  }
  return out;
}

inline std::string model_dir(const std::string& name) { return std::string(LASTRANK_TEST_MODELS) + "/" + name; }

struct Diff {
  double max_abs = 0;  // max |got - want|
  double max_rel = 0;  // max |got - want| / max |want| over the tensor (scale-normalized)
  double scale = 0;    // max |want|
};

inline Diff diff(const float* got, const std::vector<float>& want) {
  Diff d;
  for (float w : want) d.scale = std::max(d.scale, double(std::abs(w)));
  for (size_t i = 0; i < want.size(); ++i) {
    const double e = std::abs(double(got[i]) - double(want[i]));
    if (!(e <= d.max_abs)) d.max_abs = std::isnan(e) ? INFINITY : e;
  }
  d.max_rel = d.max_abs / std::max(d.scale, 1e-30);
  return d;
}

inline std::vector<float> floats(const nlohmann::json& a) { return a.get<std::vector<float>>(); }

}  // namespace lastrank::golden
