// The shared prompt prefix's kept K/V (shared_prefix.h).
#include "model/shared_prefix.h"

#include <algorithm>
#include <numeric>

namespace lastrank {

void SharedPrefix::set(std::vector<int32_t> ids, int64_t layers) {
  ids_ = std::move(ids);
  row_index_.resize(ids_.size());
  std::iota(row_index_.begin(), row_index_.end(), int64_t(0));
  k_.clear();
  v_.clear();
  for (int64_t l = 0; l < (ids_.empty() ? 0 : layers); ++l) {
    k_.push_back(be_.buffer());
    v_.push_back(be_.buffer());
  }
  ready_ = false;
}

int64_t SharedPrefix::rows_for(const std::vector<int32_t>& ids, int64_t first_readout) const {
  const bool covered = !ids_.empty() && ids.size() > ids_.size() && first_readout >= rows() &&
                       std::equal(ids_.begin(), ids_.end(), ids.begin());
  return covered ? rows() : 0;
}

void SharedPrefix::save(int64_t layer, const float* k, const float* v, int64_t cols) {
  be_.gather_rows(k, cols, row_index_.data(), rows(), k_[size_t(layer)]->grow(rows() * cols));
  be_.gather_rows(v, cols, row_index_.data(), rows(), v_[size_t(layer)]->grow(rows() * cols));
}

void SharedPrefix::restore(int64_t layer, float* k, float* v, int64_t cols) const {
  be_.gather_rows(k_[size_t(layer)]->data(), cols, row_index_.data(), rows(), k);
  be_.gather_rows(v_[size_t(layer)]->data(), cols, row_index_.data(), rows(), v);
}

void SharedPrefix::download(int64_t layer, int64_t cols, float* k, float* v) const {
  be_.download(k_[size_t(layer)]->data(), rows() * cols, k);
  be_.download(v_[size_t(layer)]->data(), rows() * cols, v);
}

void SharedPrefix::upload(int64_t layer, int64_t cols, const float* k, const float* v) {
  be_.upload(k, rows() * cols, k_[size_t(layer)]->grow(rows() * cols));
  be_.upload(v, rows() * cols, v_[size_t(layer)]->grow(rows() * cols));
}

}  // namespace lastrank
