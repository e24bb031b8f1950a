// pack_matrix: validates a checkpoint weight view and hands it to the packer of the precision.
#include <algorithm>

#include "backend/cpu/gemm_internal.h"
#include "core/error.h"

namespace lastrank::cpu {

void weight_row(const TensorView& w, int64_t j, float* out) {
  const int64_t k = w.shape[1];
  switch (w.dtype) {
    case DType::F32: {
      const float* src = w.as<float>() + j * k;
      std::copy(src, src + k, out);
      return;
    }
    case DType::BF16: {
      const uint16_t* src = w.as<uint16_t>() + j * k;
      for (int64_t c = 0; c < k; ++c) out[c] = bf16_to_f32(src[c]);
      return;
    }
    default:
      for (int64_t c = 0; c < k; ++c) out[c] = w.at(j * k + c);
  }
}

const char* precision_name(Precision p) {
  switch (p) {
    case Precision::fp32: return "fp32";
    case Precision::bf16: return "bf16";
    case Precision::bf16_dot: return "fast-bf16";
    case Precision::int8: return "int8";
  }
  return "unknown";
}

Precision parse_precision(const std::string& name) {
  for (Precision p : {Precision::fp32, Precision::bf16, Precision::bf16_dot, Precision::int8})
    if (name == precision_name(p)) return p;
  fail("precision must be fp32, bf16, fast-bf16 or int8, not \"", name, "\"");
}

std::unique_ptr<PackedMatrix> pack_matrix(const TensorView& w, Precision p) {
  if (w.rank != 2 || w.shape[0] <= 0 || w.shape[1] <= 0)
    fail("pack_matrix: weight ", w.name, " must be a non-empty 2-D [n, k] matrix, found shape ", w.shape_str());
  if (w.dtype != DType::F32 && w.dtype != DType::BF16 && w.dtype != DType::F16)
    fail("pack_matrix: weight ", w.name, " must be F32, BF16 or F16, found ", dtype_name(w.dtype));
  if (w.data == nullptr) fail("pack_matrix: weight ", w.name, " has no data");
  switch (p) {
    case Precision::fp32: return pack_f32(w);
    case Precision::bf16: return pack_bf16(w, false);
    case Precision::bf16_dot: return pack_bf16(w, true);
    case Precision::int8: return pack_int8(w);
  }
  fail("pack_matrix: unknown precision");
}

}  // namespace lastrank::cpu
