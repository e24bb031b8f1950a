// Block splitting of a long document list (docs/model.md §3, step 2): documents keep input order; a
// block closes when it holds block_size documents or when the remaining capacity
// (max_length - 2*query_len - sum of its document lengths) drops to <= max_doc_tokens.
#pragma once
#include <cstddef>
#include <utility>
#include <vector>

namespace lastrank {

// Returns [begin, end) index ranges into the document list.
std::vector<std::pair<size_t, size_t>> plan_blocks(const std::vector<size_t>& doc_token_lengths, size_t query_tokens,
                                                   size_t block_size, size_t max_length, size_t max_doc_tokens);

}  // namespace lastrank
