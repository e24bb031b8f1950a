// TensorView: a thin, non-owning view of a dense row-major tensor (rank <= 4). Shape order is
// PyTorch's: shape[rank-1] is the contiguous (column) axis. Ownership lives elsewhere (mmapped
// checkpoint files, std::vector buffers in the forward's activations).
#pragma once
#include <array>
#include <cstdint>
#include <string>

#include "core/dtype.h"

namespace lastrank {

struct TensorView {
  DType dtype = DType::F32;
  int rank = 0;
  std::array<int64_t, 4> shape{};  // unused trailing entries are 0
  const void* data = nullptr;
  std::string name;  // checkpoint key, for error messages

  int64_t numel() const {
    int64_t n = 1;
    for (int i = 0; i < rank; ++i) n *= shape[i];
    return rank == 0 ? 0 : n;
  }
  size_t nbytes() const { return size_t(numel()) * dtype_size(dtype); }
  int64_t rows() const { return rank == 2 ? shape[0] : (rank == 1 ? 1 : 0); }
  int64_t cols() const { return rank >= 1 ? shape[rank - 1] : 0; }
  template <typename T>
  const T* as() const { return static_cast<const T*>(data); }
  // Element i (flat index) converted to float; slow, for references and tests.
  float at(int64_t i) const;
  std::string shape_str() const;  // "[2048, 1024]"
};

}  // namespace lastrank
