// Long documents are chunked, not lost (docs/server.md "Chunking"): with max_chunks_per_doc N > 1
// a document over the per-document token limit L is split into consecutive chunks of at most L
// tokens that tile its text, cut at token boundaries (the last end of a pre-tokenizer piece whose
// chunk re-tokenizes on its own to exactly its tokens of the document); the N-th chunk is the rest
// of the text and is truncated as any document is. Every chunk is a document of the listwise
// prompt; a document's score is the maximum over its chunks (Cohere's rule), and the result names
// the best chunk by its index and code point span [start, end) in the text that was ranked.
#pragma once
#include <cstddef>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "rerank/reranker.h"

namespace lastrank::api {

class TextTokens;  // api/truncation.h

struct Chunk {
  size_t document = 0;  // index in the request's documents
  size_t index = 0;     // 0-based chunk number within the document
  size_t start = 0;     // [start, end): code points of the document text (Python str indices)
  size_t end = 0;
};

// How a request's documents became the engine's documents; empty when nothing was chunked (the
// engine's documents are then the request's, one to one).
struct ChunkPlan {
  std::vector<Chunk> chunks;          // one per engine document, grouped by document, in order
  std::vector<size_t> chunk_counts;   // per request document
  std::optional<size_t> top_n;        // the request's top_n: applied to documents, not chunks
  bool active() const { return !chunks.empty(); }
};

struct ChunkLimits {
  size_t max_tokens = 0;       // per chunk (the per-document token limit)
  size_t max_chunks = 1;       // per document (max_chunks_per_doc)
  size_t max_total = 0;        // chunks of all documents (RequestLimits::max_documents)
  // Truncation off: a document whose last chunk (the rest) has more tokens than this (the
  // engine's limit) -> input_too_long; 0 = the rest is truncated.
  size_t reject_over_tokens = 0;
};

// Replaces req.documents by the chunks of every document and returns the plan (empty if no
// document was over max_tokens; req is then unchanged). Moves req.top_n into the plan.
// Throws ApiError: too_many_documents past max_total, input_too_long (reject_over_tokens).
ChunkPlan split_documents(RerankRequest& req, const TextTokens& tokens, const ChunkLimits& limits);

// The byte offsets [begin, end) of text's chunks (at most max_chunks; the last one may hold more
// than max_tokens tokens and is then truncated by the caller's rule): the splitting rule alone.
std::vector<std::pair<size_t, size_t>> chunk_bytes(const std::string& text, const TextTokens& tokens,
                                                   size_t max_tokens, size_t max_chunks);

// The engine's response over chunks folded into one result per document: score and embedding of
// the best chunk (the first of equal ones), sorted by score descending (ties in input order),
// the plan's top_n applied. best_chunk[d] is the plan's chunk index of document d's best chunk.
struct FoldedResponse {
  RerankResponse response;
  std::vector<size_t> best_chunk;  // [documents] index into plan.chunks
};
// Throws ApiError(internal) for a chunk index the plan does not have.
FoldedResponse fold_chunks(const ChunkPlan& plan, const RerankResponse& chunk_response);

}  // namespace lastrank::api
