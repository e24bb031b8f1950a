// Block planner; signed arithmetic because the reference's capacity may go negative.
#include "rerank/blocks.h"

#include <cstdint>

namespace lastrank {

std::vector<std::pair<size_t, size_t>> plan_blocks(const std::vector<size_t>& lens, size_t query_tokens,
                                                   size_t block_size, size_t max_length, size_t max_doc_tokens) {
  std::vector<std::pair<size_t, size_t>> blocks;
  const int64_t full = int64_t(max_length) - 2 * int64_t(query_tokens);
  int64_t capacity = full;
  size_t begin = 0;
  for (size_t i = 0; i < lens.size(); ++i) {
    capacity -= int64_t(lens[i]);
    if (i + 1 - begin >= block_size || capacity <= int64_t(max_doc_tokens)) {
      blocks.emplace_back(begin, i + 1);
      begin = i + 1;
      capacity = full;
    }
  }
  if (begin < lens.size()) blocks.emplace_back(begin, lens.size());
  return blocks;
}

}  // namespace lastrank
