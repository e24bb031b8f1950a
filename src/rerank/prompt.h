// The jina-reranker-v3 prompt template (docs/model.md §3, step 3), byte-exact:
// PREFIX + BODY + SUFFIX with the no-thinking suffix; the readout tokens are sanitized out of
// the query and documents (not the instruction).
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace lastrank {

inline constexpr std::string_view kEmbedToken = "<|embed_token|>";    // document readout
inline constexpr std::string_view kRerankToken = "<|rerank_token|>";  // query readout

// Removes every occurrence of <|rerank_token|>, then of <|embed_token|> (plain substring
// replace, as the reference's str.replace calls, in that order).
std::string sanitize_readout_tokens(std::string_view text);

// Throws lastrank::Error if the instruction contains a readout token (it is not sanitized, and a
// readout token in it would add a readout row).
void check_instruction(std::string_view instruction);

// The text every block prompt starts with (system message, the user turn up to the document
// count): its tokens are the model's shared prefix (model/shared_prefix.h).
std::string block_prompt_prefix();

// Builds the full prompt for one block. query and docs are the (truncated) texts; they are
// sanitized here. instruction, if non-empty, is inserted unsanitized.
std::string build_block_prompt(std::string_view query, const std::vector<std::string_view>& docs,
                               const std::optional<std::string>& instruction);

}  // namespace lastrank
