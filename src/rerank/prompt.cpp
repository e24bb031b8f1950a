// Exact template strings of jina-reranker-v3's format_docs_prompts_func (no_thinking=True).
#include "rerank/prompt.h"

#include "core/error.h"

namespace lastrank {
namespace {

constexpr std::string_view kSystem =
    "You are a search relevance expert who can determine a ranking of the passages based on how relevant they are "
    "to the query. If the query is a question, how relevant a passage is depends on how well it answers the "
    "question. If not, try to analyze the intent of the query and assess how well each passage satisfies the "
    "intent. If an instruction is provided, you should follow the instruction when determining the ranking.";

void replace_all(std::string& s, std::string_view from) {
  std::string out;
  out.reserve(s.size());
  size_t pos = 0;
  for (size_t hit; (hit = s.find(from, pos)) != std::string::npos; pos = hit + from.size()) out.append(s, pos, hit - pos);
  out.append(s, pos, std::string::npos);
  s.swap(out);
}

}  // namespace

std::string sanitize_readout_tokens(std::string_view text) {
  std::string s(text);
  replace_all(s, kRerankToken);
  replace_all(s, kEmbedToken);
  return s;
}

void check_instruction(std::string_view instruction) {
  if (instruction.find(kEmbedToken) != std::string_view::npos || instruction.find(kRerankToken) != std::string_view::npos)
    fail("\"instruction\" must not contain ", kEmbedToken, " or ", kRerankToken);
}

std::string block_prompt_prefix() {
  std::string p = "<|im_start|>system\n";
  p += kSystem;
  p += "<|im_end|>\n<|im_start|>user\nI will provide you with";
  return p;
}

std::string build_block_prompt(std::string_view query, const std::vector<std::string_view>& docs,
                               const std::optional<std::string>& instruction) {
  const std::string q = sanitize_readout_tokens(query);
  std::string p;
  p.reserve(1024 + 2 * q.size() + docs.size() * 64);
  p += block_prompt_prefix();
  p += ' ';
  p += std::to_string(docs.size());
  p += " passages, each indicated by a numerical identifier. Rank the passages based on their relevance to query: ";
  p += q;
  p += "\n";
  if (instruction && !instruction->empty()) {
    p += "<instruct>\n";
    p += *instruction;
    p += "\n</instruct>\n";
  }
  for (size_t i = 0; i < docs.size(); ++i) {
    if (i) p += "\n";
    p += "<passage id=\"" + std::to_string(i) + "\">\n";
    p += sanitize_readout_tokens(docs[i]);
    p += kEmbedToken;
    p += "\n</passage>";
  }
  p += "\n<query>\n";
  p += q;
  p += kRerankToken;
  p += "\n</query>";
  p += "<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n";
  return p;
}

}  // namespace lastrank
