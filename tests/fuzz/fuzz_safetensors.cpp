// libFuzzer target: parse_safetensors on arbitrary bytes must either return views that lie inside
// the buffer or throw lastrank::Error -- never crash, hang, or read out of bounds.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "core/error.h"
#include "io/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    auto views = lastrank::parse_safetensors(data, size, "fuzz");
    for (const auto& [name, v] : views) {
      const uint8_t* p = static_cast<const uint8_t*>(v.data);
      if (p < data || p + v.nbytes() > data + size) std::abort();
      if (v.nbytes() > 0) {
        volatile uint8_t sink = p[v.nbytes() - 1];  // touch the last byte (ASan checks bounds)
        (void)sink;
      }
    }
  } catch (const lastrank::Error&) {
  }
  return 0;
}
