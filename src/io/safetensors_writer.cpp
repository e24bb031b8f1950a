// Safetensors writer (see safetensors_writer.h): layout and header order match the python writer
// so generated fixtures are byte-identical to what `safetensors.torch.save_file` would produce.
#include "io/safetensors_writer.h"

#include <algorithm>
#include <cstring>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <set>

#include "core/error.h"

namespace lastrank {

namespace {

std::string json_string(const std::string& s) { return nlohmann::json(s).dump(); }

uint64_t checked_numel(const TensorData& t) {
  uint64_t n = 1;
  for (int64_t d : t.shape) {
    if (d < 0) fail("write_safetensors: tensor ", t.name, " has negative dimension ", d);
    if (d != 0 && n > (uint64_t(1) << 62) / uint64_t(d)) fail("write_safetensors: tensor ", t.name, " is too large");
    n *= uint64_t(d);
  }
  return n;
}

}  // namespace

std::vector<uint8_t> serialize_safetensors(const std::vector<TensorData>& tensors,
                                           const std::map<std::string, std::string>& metadata) {
  std::set<std::string> names;
  for (const TensorData& t : tensors) {
    if (t.name == "__metadata__") fail("write_safetensors: tensor name __metadata__ is reserved");
    if (!names.insert(t.name).second) fail("write_safetensors: duplicate tensor name ", t.name);
    uint64_t expect = checked_numel(t) * dtype_size(t.dtype);
    if (t.bytes.size() != expect)
      fail("write_safetensors: tensor ", t.name, ": expected ", expect, " bytes, found ", t.bytes.size());
  }
  // Python order: dtype size descending, then name ascending.
  std::vector<const TensorData*> order;
  for (const TensorData& t : tensors) order.push_back(&t);
  std::sort(order.begin(), order.end(), [](const TensorData* a, const TensorData* b) {
    if (dtype_size(a->dtype) != dtype_size(b->dtype)) return dtype_size(a->dtype) > dtype_size(b->dtype);
    return a->name < b->name;
  });

  std::string header = "{";
  bool first = true;
  if (!metadata.empty()) {
    header += "\"__metadata__\":{";
    bool mfirst = true;
    for (const auto& [k, v] : metadata) {
      if (!mfirst) header += ",";
      mfirst = false;
      header += json_string(k) + ":" + json_string(v);
    }
    header += "}";
    first = false;
  }
  uint64_t offset = 0;
  for (const TensorData* t : order) {
    if (!first) header += ",";
    first = false;
    header += json_string(t->name) + ":{\"dtype\":\"" + std::string(dtype_name(t->dtype)) + "\",\"shape\":[";
    for (size_t i = 0; i < t->shape.size(); ++i) {
      if (i) header += ',';
      header += std::to_string(t->shape[i]);
    }
    header += "],\"data_offsets\":[" + std::to_string(offset) + "," + std::to_string(offset + t->bytes.size()) + "]}";
    offset += t->bytes.size();
  }
  header += "}";
  header.append((8 - header.size() % 8) % 8, ' ');

  std::vector<uint8_t> out;
  out.reserve(8 + header.size() + offset);
  uint64_t n = header.size();
  for (int i = 0; i < 8; ++i) out.push_back(uint8_t(n >> (8 * i)));
  out.insert(out.end(), header.begin(), header.end());
  for (const TensorData* t : order) out.insert(out.end(), t->bytes.begin(), t->bytes.end());
  return out;
}

void write_safetensors(const std::string& path, const std::vector<TensorData>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  std::vector<uint8_t> img = serialize_safetensors(tensors, metadata);
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) fail("write_safetensors: cannot open ", path, " for writing");
  size_t w = std::fwrite(img.data(), 1, img.size(), f);
  int rc = std::fclose(f);
  if (w != img.size() || rc != 0) fail("write_safetensors: short write to ", path);
}

TensorData make_tensor(const std::string& name, DType dtype, std::vector<int64_t> shape,
                       const std::vector<float>& values) {
  TensorData t{name, dtype, std::move(shape), {}};
  uint64_t n = checked_numel(t);
  if (n != values.size()) fail("make_tensor: ", name, ": expected ", n, " values, found ", values.size());
  t.bytes.resize(n * dtype_size(dtype));
  for (size_t i = 0; i < values.size(); ++i) {
    switch (dtype) {
      case DType::F32: std::memcpy(&t.bytes[i * 4], &values[i], 4); break;
      case DType::F16: { uint16_t h = f32_to_f16(values[i]); std::memcpy(&t.bytes[i * 2], &h, 2); break; }
      case DType::BF16: { uint16_t h = f32_to_bf16(values[i]); std::memcpy(&t.bytes[i * 2], &h, 2); break; }
      default: fail("make_tensor: ", name, ": dtype ", dtype_name(dtype), " is not a float type");
    }
  }
  return t;
}

}  // namespace lastrank
