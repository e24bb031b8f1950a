// PackedStore<T>: the memory behind one array of a packed matrix. Either the matrix's own memory,
// filled by the packer at load (HugeVector: 2 MB pages), or a read-only window of a weight cache
// file's mapping (cpu_weight_cache.h), borrowed with a reference that keeps the mapping alive.
// Readers see the same const T* either way; only an owned store can be written.
#pragma once
#include <cstddef>
#include <memory>

#include "core/huge_alloc.h"

namespace lastrank::cpu {

template <typename T>
class PackedStore {
 public:
  PackedStore() = default;
  PackedStore(const PackedStore&) = delete;
  PackedStore& operator=(const PackedStore&) = delete;

  // n elements of value v, owned (packing writes them through mutable_data()).
  void assign(size_t n, T v) {
    own_.assign(n, v);
    data_ = own_.data();
    size_ = n;
    keep_.reset();
  }
  // n elements at p, read in place; keep holds the memory p points into.
  void borrow(const T* p, size_t n, std::shared_ptr<const void> keep) {
    own_ = HugeVector<T>();
    data_ = p;
    size_ = n;
    keep_ = std::move(keep);
  }

  T* mutable_data() { return own_.data(); }  // nullptr unless owned
  const T* data() const { return data_; }
  size_t size() const { return size_; }
  size_t bytes() const { return size_ * sizeof(T); }
  bool owned() const { return keep_ == nullptr; }
  const T& operator[](size_t i) const { return data_[i]; }

 private:
  HugeVector<T> own_;
  const T* data_ = nullptr;
  size_t size_ = 0;
  std::shared_ptr<const void> keep_;
};

}  // namespace lastrank::cpu
