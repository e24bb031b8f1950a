// HugePageAllocator: a std::allocator for large, long-lived numeric buffers (packed weights,
// activations). Blocks of >= 2 MB are 2 MB-aligned and advised MADV_HUGEPAGE, so with the kernel's
// transparent huge pages in "madvise" mode (Debian's default) they are backed by 2 MB pages:
// ~500x fewer first-touch page faults (each one a costly trap in a VM; they dominated model load)
// and fewer TLB misses when a GEMM streams a 1 GB weight set. Smaller blocks use plain operator new.
// Semantics are std::allocator's (value-initialization still zero-fills).
#pragma once
#include <cstddef>
#include <cstdlib>
#include <new>
#include <vector>

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace lastrank {

template <typename T>
struct HugePageAllocator {
  using value_type = T;
  static constexpr size_t kHugePage = size_t(2) << 20;

  HugePageAllocator() = default;
  template <typename U>
  HugePageAllocator(const HugePageAllocator<U>&) {}

  T* allocate(size_t n) {
    if (n > size_t(-1) / sizeof(T)) throw std::bad_array_new_length();
    const size_t bytes = n * sizeof(T);
    if (bytes < kHugePage) return static_cast<T*>(::operator new(bytes, std::align_val_t(64)));
    const size_t rounded = (bytes + kHugePage - 1) / kHugePage * kHugePage;
    void* p = std::aligned_alloc(kHugePage, rounded);
    if (p == nullptr) throw std::bad_alloc();
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    (void)::madvise(p, rounded, MADV_HUGEPAGE);  // a hint: without THP it is plain 4 KB pages
#endif
    return static_cast<T*>(p);
  }
  void deallocate(T* p, size_t n) {
    if (n * sizeof(T) < kHugePage) ::operator delete(p, std::align_val_t(64));
    else std::free(p);
  }
  template <typename U>
  bool operator==(const HugePageAllocator<U>&) const { return true; }
};

template <typename T>
using HugeVector = std::vector<T, HugePageAllocator<T>>;

}  // namespace lastrank
