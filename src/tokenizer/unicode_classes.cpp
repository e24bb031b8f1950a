// Two-stage lookup table for char_class(), built once at start-up from the generated ranges in
// unicode_class_table.inc (Unicode 16.0, the version of the Oniguruma tables HF's regex uses).
#include "tokenizer/unicode_classes.h"

#include <array>
#include <cstring>
#include <vector>

namespace lastrank::tok {
namespace {

struct ClassRange {
  char32_t first, last;
  CharClass cls;
};

constexpr ClassRange kRanges[] = {
#include "tokenizer/unicode_class_table.inc"
};

constexpr size_t kBlocks = 0x110000 >> 8;

struct ClassTables {
  std::array<uint8_t, kBlocks> stage1{};
  std::vector<uint8_t> stage2;  // unique 256-entry blocks

  ClassTables() {
    std::vector<uint8_t> flat(0x110000, kOther);
    for (const ClassRange& r : kRanges) {
      for (char32_t cp = r.first; cp <= r.last; ++cp) flat[cp] = r.cls;
    }
    for (size_t b = 0; b < kBlocks; ++b) {
      const uint8_t* block = flat.data() + (b << 8);
      size_t found = stage2.size() / 256;
      for (size_t u = 0; u < stage2.size() / 256; ++u) {
        if (std::memcmp(stage2.data() + (u << 8), block, 256) == 0) {
          found = u;
          break;
        }
      }
      if (found == stage2.size() / 256) stage2.insert(stage2.end(), block, block + 256);
      stage1[b] = static_cast<uint8_t>(found);  // < 256 unique blocks (checked below)
    }
    if (stage2.size() / 256 > 256) __builtin_trap();
  }
};

const ClassTables& tables() {
  static const ClassTables t;
  return t;
}

}  // namespace

namespace detail {
const uint8_t* const kClassStage1 = tables().stage1.data();
const uint8_t* const kClassStage2 = tables().stage2.data();
}  // namespace detail

}  // namespace lastrank::tok
