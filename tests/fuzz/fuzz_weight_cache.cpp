// libFuzzer target: parse_cache_table (io/weight_cache_file.h) on arbitrary bytes must return a
// table whose arrays all lie inside the buffer, or throw lastrank::Error -- never crash, hang or
// read out of bounds. Inputs of 64 bytes or more get their prelude's file size and checksums made
// consistent first (unless reserved byte 63 is odd), so the fuzzer reaches the table checks
// instead of stopping at the checksums.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "core/error.h"
#include "io/weight_cache_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<uint8_t> b(data, data + size);
  if (size >= 64 && (data[63] & 1) == 0) {  // reseal: file size, table checksum, prelude checksum
    uint64_t table = 0;
    std::memcpy(&table, &b[24], 8);
    const uint64_t n = size, sum = table <= size - 64 ? lastrank::cache_checksum(&b[64], table) : 0;
    std::memcpy(&b[16], &n, 8);
    std::memcpy(&b[32], &sum, 8);
    const uint64_t head = lastrank::cache_checksum(b.data(), 40);
    std::memcpy(&b[40], &head, 8);
  }
  try {
    const lastrank::CacheTable t = lastrank::parse_cache_table(b.data(), b.size());
    for (const lastrank::CacheEntry& e : t.entries)
      for (const lastrank::CacheArray& a : e.arrays)
        if (a.offset > b.size() || a.bytes > b.size() - a.offset) std::abort();
  } catch (const lastrank::Error&) {
  }
  return 0;
}
