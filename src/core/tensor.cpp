#include "core/tensor.h"

#include "core/error.h"

namespace lastrank {

float TensorView::at(int64_t i) const {
  switch (dtype) {
    case DType::F32: return as<float>()[i];
    case DType::BF16: return bf16_to_f32(as<uint16_t>()[i]);
    case DType::F16: return f16_to_f32(as<uint16_t>()[i]);
    case DType::I8: return float(as<int8_t>()[i]);
    case DType::I32: return float(as<int32_t>()[i]);
  }
  return 0.f;
}

std::string TensorView::shape_str() const {
  std::string s = "[";
  for (int i = 0; i < rank; ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

}  // namespace lastrank
