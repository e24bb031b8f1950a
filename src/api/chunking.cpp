// The chunking rule and the max-over-chunks fold (see chunking.h, docs/server.md "Chunking").
#include "api/chunking.h"

#include <algorithm>
#include <cstdint>

#include "api/error.h"
#include "api/truncation.h"

namespace lastrank::api {
namespace {

constexpr size_t kInside = TokenEnd::kInside;
constexpr size_t kMaxChecks = 8;  // re-tokenized candidate cuts per chunk

// Whether text[begin, end of token last - 1) tokenizes on its own to exactly the ids of tokens
// [first, last) of the whole text.
bool retokenizes(std::string_view text, const TextTokens& tokens, const std::vector<TokenEnd>& ends, size_t first,
                 size_t last, size_t begin) {
  const std::vector<TokenEnd> own = tokens.token_ends(text.substr(begin, ends[last - 1].byte - begin), last - first + 1);
  if (own.size() != last - first) return false;
  for (size_t k = 0; k < own.size(); ++k)
    if (own[k].id != ends[first + k].id) return false;
  return true;
}

// Token index just past the chunk that starts at token `first` (byte `begin`). Candidates, last
// first: piece ends within max_tokens tokens, then other token ends on a character boundary (a
// piece longer than the chunk, e.g. CJK text without spaces or punctuation). The first candidate
// whose chunk re-tokenizes to exactly its ids wins (up to kMaxChecks tries), else the first
// candidate; without any, the first known end after max_tokens (the chunk is then truncated).
// 0 if no later token end is known.
size_t cut_after(std::string_view text, const TextTokens& tokens, const std::vector<TokenEnd>& ends, size_t first,
                 size_t begin, size_t max_tokens) {
  const size_t last = first + max_tokens;  // ends.size() > last here
  auto usable = [&](size_t k) { return ends[k - 1].byte != kInside && ends[k - 1].byte > begin; };
  std::vector<size_t> candidates;
  for (size_t k = last; k > first; --k)
    if (ends[k - 1].piece_end && usable(k)) candidates.push_back(k);
  for (size_t k = last; k > first; --k)
    if (!ends[k - 1].piece_end && usable(k)) candidates.push_back(k);
  for (size_t i = 0; i < candidates.size() && i < kMaxChecks; ++i)
    if (retokenizes(text, tokens, ends, first, candidates[i], begin)) return candidates[i];
  if (!candidates.empty()) return candidates.front();
  for (size_t k = last + 1; k <= ends.size(); ++k)
    if (usable(k)) return k;
  return 0;
}

// Code points of text before byte offset b, counted on from (from_byte, from_cp).
size_t code_points(const std::string& text, size_t from_byte, size_t from_cp, size_t b) {
  for (size_t i = from_byte; i < b; ++i) from_cp += (static_cast<unsigned char>(text[i]) & 0xC0) != 0x80;
  return from_cp;
}

size_t saturated_product(size_t a, size_t b) { return b != 0 && a > SIZE_MAX / b ? SIZE_MAX : a * b; }

}  // namespace

std::vector<std::pair<size_t, size_t>> chunk_bytes(const std::string& text, const TextTokens& tokens,
                                                   size_t max_tokens, size_t max_chunks) {
  // Enough tokens to place N - 1 cuts and tell whether the rest has more than max_tokens.
  const size_t budget = std::min(saturated_product(max_chunks, max_tokens), SIZE_MAX - 1) + 1;
  const std::vector<TokenEnd> ends = tokens.token_ends(text, budget);
  std::vector<std::pair<size_t, size_t>> out;
  size_t first = 0, begin = 0;
  while (out.size() + 1 < max_chunks && ends.size() - first > max_tokens) {
    const size_t cut = cut_after(text, tokens, ends, first, begin, max_tokens);
    if (cut == 0) break;
    out.emplace_back(begin, ends[cut - 1].byte);
    begin = ends[cut - 1].byte;
    first = cut;
  }
  // The rest: all of it if it fits, else up to its max_tokens-th token (rounded up to a character).
  size_t end = text.size();
  if (ends.size() - first > max_tokens) {
    for (size_t k = first + max_tokens; k <= ends.size(); ++k)
      if (ends[k - 1].byte != kInside) {
        end = ends[k - 1].byte;
        break;
      }
  }
  out.emplace_back(begin, end);
  return out;
}

ChunkPlan split_documents(RerankRequest& req, const TextTokens& tokens, const ChunkLimits& limits) {
  ChunkPlan plan;
  std::vector<std::string> texts;
  bool any = false;
  for (size_t d = 0; d < req.documents.size(); ++d) {
    const std::string& text = req.documents[d];
    const auto cuts = chunk_bytes(text, tokens, limits.max_tokens, limits.max_chunks);
    const bool rest_cut = cuts.back().second < text.size();
    if (rest_cut && limits.reject_over_tokens &&
        tokens.count_tokens(std::string_view(text).substr(cuts.back().first), limits.reject_over_tokens) >
            limits.reject_over_tokens)
      throw ApiError(ErrorKind::input_too_long,
                     cat("documents[", d, "] needs more than ", limits.max_chunks, " chunks of ", limits.max_tokens,
                         " tokens (max_chunks_per_doc; truncation is off)"));
    if (texts.size() + cuts.size() > limits.max_total)
      throw ApiError(ErrorKind::too_many_documents,
                     cat("documents split into more than ", limits.max_total,
                         " chunks in all (--max-documents): send fewer or shorter documents or a lower "
                         "max_chunks_per_doc"));
    any = any || cuts.size() > 1;
    size_t byte = 0, cp = 0;
    for (size_t c = 0; c < cuts.size(); ++c) {
      const auto [b, e] = cuts[c];
      const size_t start = code_points(text, byte, cp, b);
      const size_t end = code_points(text, b, start, e);
      byte = e;
      cp = end;
      plan.chunks.push_back({d, c, start, end});
      // The last chunk is the whole rest: the engine truncates it by the reference rule.
      texts.push_back(c + 1 == cuts.size() ? text.substr(b) : text.substr(b, e - b));
    }
    plan.chunk_counts.push_back(cuts.size());
  }
  if (!any) return {};
  req.documents = std::move(texts);
  plan.top_n = req.top_n;
  req.top_n.reset();
  return plan;
}

FoldedResponse fold_chunks(const ChunkPlan& plan, const RerankResponse& chunk_response) {
  const size_t n = plan.chunk_counts.size();
  std::vector<const RerankItem*> by_chunk(plan.chunks.size(), nullptr);
  for (const RerankItem& it : chunk_response.results) {
    if (it.index >= by_chunk.size())
      throw ApiError(ErrorKind::internal, cat("engine returned chunk index ", it.index, " of ", by_chunk.size()));
    by_chunk[it.index] = &it;
  }
  FoldedResponse out;
  out.best_chunk.assign(n, SIZE_MAX);
  std::vector<RerankItem> items(n);
  for (size_t c = 0; c < plan.chunks.size(); ++c) {
    const size_t d = plan.chunks[c].document;
    if (!by_chunk[c])
      throw ApiError(ErrorKind::internal, cat("engine returned no score for chunk ", c, " of documents[", d, "]"));
    if (out.best_chunk[d] == SIZE_MAX || by_chunk[c]->relevance_score > items[d].relevance_score) {
      items[d] = *by_chunk[c];
      items[d].index = d;
      out.best_chunk[d] = c;
    }
  }
  std::stable_sort(items.begin(), items.end(),
                   [](const RerankItem& a, const RerankItem& b) { return a.relevance_score > b.relevance_score; });
  if (plan.top_n && *plan.top_n < items.size()) items.resize(*plan.top_n);
  out.response.results = std::move(items);
  out.response.total_tokens = chunk_response.total_tokens;
  out.response.blocks = chunk_response.blocks;
  return out;
}

}  // namespace lastrank::api
