// each_on_pool: fn(i) for every i in [0, n) on the pool's workers, each worker taking the next
// index in order (work items of uneven cost keep every worker busy). Exceptions are carried out of
// the workers and the first by index is rethrown, so what fails does not depend on the thread
// count. The weight loaders use it (cpu_backend.cpp, cpu_weight_cache.cpp).
#pragma once
#include <atomic>
#include <cstddef>
#include <exception>
#include <vector>

#include "core/thread_pool.h"

namespace lastrank::cpu {

template <typename Fn>
void each_on_pool(ThreadPool& pool, size_t n, const Fn& fn) {
  std::vector<std::exception_ptr> errors(n);
  std::atomic<size_t> next{0};
  pool.run_on_all([&](int) {
    for (size_t i = next++; i < n; i = next++) {
      try {
        fn(i);
      } catch (...) {
        errors[i] = std::current_exception();
      }
    }
  });
  for (const std::exception_ptr& e : errors)
    if (e) std::rethrow_exception(e);
}

}  // namespace lastrank::cpu
