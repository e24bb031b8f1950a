// pack_matrix: validates a checkpoint weight view and hands it to the packer of the format in the
// kernel set in use (kernel_dispatch.h).
#include <algorithm>
#include <atomic>
#include <cmath>
#include <vector>

#include "backend/cpu/gemm_internal.h"
#include "backend/cpu/kernel_dispatch.h"
#include "core/error.h"

namespace lastrank::cpu {

namespace {
std::atomic<bool> g_reference_packing{false};
}  // namespace

void set_reference_packing(bool on) { g_reference_packing = on; }
bool reference_packing() { return g_reference_packing; }

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

const char* pack_format_name(PackFormat f) {
  switch (f) {
    case PackFormat::fp32: return "fp32";
    case PackFormat::bf16_weights: return "bf16-weights";
    case PackFormat::bf16_dot: return "bf16-dot";
    case PackFormat::int8: return "int8";
  }
  return "unknown";
}

std::vector<int64_t> select_large_channels(const float* x, int64_t m, int64_t k, float ratio, int64_t max_channels,
                                           ThreadPool* pool) {
  if (m <= 0 || k < 16) return {};
  // Column maxima; max is exact and order-free, so the per-worker split cannot change the result.
  std::vector<std::vector<float>> part(size_t(pool ? pool->size() : 1), std::vector<float>(size_t(k), 0.0f));
  auto scan = [&](int64_t b, int64_t e, int worker) {
    float* cm = part[size_t(worker)].data();
    for (int64_t i = b; i < e; ++i)
      for (int64_t c = 0; c < k; ++c) cm[c] = std::max(cm[c], std::fabs(x[i * k + c]));
  };
  if (pool) pool->parallel_for(m, 64, scan);
  else scan(0, m, 0);
  std::vector<float> chmax = part[0];
  for (size_t w = 1; w < part.size(); ++w)
    for (int64_t c = 0; c < k; ++c) chmax[size_t(c)] = std::max(chmax[size_t(c)], part[w][size_t(c)]);
  std::vector<float> sorted = chmax;
  std::nth_element(sorted.begin(), sorted.begin() + k / 2, sorted.end());
  const float threshold = ratio * sorted[size_t(k / 2)];
  std::vector<int64_t> out;
  for (int64_t c = 0; c < k; ++c)
    if (chmax[size_t(c)] > threshold) out.push_back(c);
  if (int64_t(out.size()) > max_channels) {  // keep the largest, ties by index
    std::stable_sort(out.begin(), out.end(), [&](int64_t a, int64_t b) { return chmax[size_t(a)] > chmax[size_t(b)]; });
    out.resize(size_t(max_channels));
    std::sort(out.begin(), out.end());
  }
  return out;
}

std::unique_ptr<PackedMatrix> pack_matrix(const TensorView& w, PackFormat f) {
  if (w.rank != 2 || w.shape[0] <= 0 || w.shape[1] <= 0)
    fail("pack_matrix: weight ", w.name, " must be a non-empty 2-D [n, k] matrix, found shape ", w.shape_str());
  if (w.dtype != DType::F32 && w.dtype != DType::BF16 && w.dtype != DType::F16)
    fail("pack_matrix: weight ", w.name, " must be F32, BF16 or F16, found ", dtype_name(w.dtype));
  if (w.data == nullptr) fail("pack_matrix: weight ", w.name, " has no data");
  const KernelTable& kt = active_kernels();
  switch (f) {
    // fp32 keeps bf16 weights as bf16: widened per block they give the same products at half the memory.
    case PackFormat::fp32: return w.dtype == DType::BF16 ? kt.pack_bf16(w, PackFormat::fp32) : kt.pack_f32(w);
    case PackFormat::bf16_weights: return kt.pack_bf16(w, PackFormat::bf16_weights);
    case PackFormat::bf16_dot: return kt.pack_bf16(w, PackFormat::bf16_dot);
    case PackFormat::int8: return kt.pack_int8(w);
  }
  fail("pack_matrix: unknown format");
}

std::unique_ptr<PackedMatrix> adopt_packed_matrix(const PackedImage& img, std::shared_ptr<const void> keep) {
  if (img.n <= 0 || img.k <= 0 || img.n > (int64_t(1) << 31) || img.k > (int64_t(1) << 31))
    fail("packed matrix: bad shape [", img.n, ", ", img.k, "]");
  for (const PackedImage::Array& a : img.arrays)
    if (reinterpret_cast<uintptr_t>(a.data) % 64 != 0) fail("packed matrix: array not aligned to 64 bytes");
  const KernelTable& kt = active_kernels();
  return img.format == PackFormat::int8 ? kt.adopt_int8(img, std::move(keep)) : kt.adopt_panels(img, std::move(keep));
}

}  // namespace lastrank::cpu
