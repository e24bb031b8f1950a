// lastrank C++ API: load a jina-reranker-v3 checkpoint and rerank documents against a query.
// The full contract (thread-safety, errors, ownership, ABI) is docs/library.md.
//
//   lastrank::Options options;
//   options.precision = "bf16";
//   lastrank::Reranker model = lastrank::Reranker::load("jina-reranker-v3", options);
//   lastrank::Ranking r = model.rerank("green tea", {"Green tea has catechins.", "Stocks rose."});
//   // r.scores[i]: score of documents[i]; r.order: document indices, best first
//
// Only this header and lastrank.h are public; the engine's own headers stay private (pimpl).
// Needs C++17. Link with liblastrank.so (pkg-config lastrank, or find_package(lastrank) and
// target lastrank::lastrank). The C++ API shares std::string / std::vector with the library, so
// build against the same C++ standard library ABI; lastrank.h is the ABI-stable interface.
#ifndef LASTRANK_LASTRANK_HPP
#define LASTRANK_LASTRANK_HPP

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#if defined(LASTRANK_BUILDING_LIBRARY)
#define LASTRANK_API __attribute__((visibility("default")))
#else
#define LASTRANK_API
#endif

namespace lastrank {
// The versioned namespace keeps the public names (lastrank::Reranker, lastrank::Error) apart from
// the engine's own classes of the same names inside the library.
inline namespace v0 {

// The library version, "MAJOR.MINOR.PATCH" (the project version; MAJOR is the SOVERSION).
LASTRANK_API std::string version();

// Set once, at load.
struct Options {
  std::string precision = "bf16";  // "fp32" (exact) | "bf16" (default) | "int8"; docs/perf.md
  int threads = 0;                 // compute threads, 0 = all cores; at most 1024
  size_t max_query_length = 512;   // tokens the query is truncated to (reference default), >= 1
  size_t max_doc_length = 2048;    // tokens each document is truncated to (reference default), >= 1
  std::string scores = "cosine";   // "cosine" (reference, in [-1, 1]) | "unit": (1 + cosine) / 2 in [0, 1]
  // A longer document is split into up to this many chunks of max_doc_length tokens and scored by
  // its best chunk (docs/server.md "Chunking"); 1 = truncated (the reference), >= 1.
  size_t max_chunks_per_doc = 1;
  // Directory of the packed-weight cache (docs/model-files.md, "Start-up: the packed-weight
  // cache"): the first load writes the packed weights there, later loads of the same checkpoint,
  // precision and kernel set map them instead of packing again; a stale or corrupt file is
  // detected and rewritten. "" (the default) = no cache, the weights are packed at every load.
  std::string weight_cache_dir;
};

// Per call. The request rules are the CLI's: top_n 0 means all documents; instruction must not
// contain the readout tokens <|embed_token|> / <|rerank_token|>.
struct RerankParams {
  std::optional<size_t> top_n;              // length of Ranking::order; nullopt or 0 = all documents
  std::optional<std::string> instruction;   // optional <instruct> block of the prompt
  bool return_embeddings = false;           // fill Ranking::embeddings
  std::optional<size_t> max_query_length;   // nullopt = Options::max_query_length
  std::optional<size_t> max_doc_length;     // nullopt = Options::max_doc_length
  std::optional<size_t> max_chunks_per_doc; // nullopt = Options::max_chunks_per_doc
};

struct Ranking {
  std::vector<float> scores;      // one per document, in input order (Options::scores scale; a chunked document's best chunk)
  std::vector<size_t> order;      // document indices by descending score (ties: input order); top_n applied
  std::vector<float> embeddings;  // if return_embeddings: [documents x embedding_dim], input order (best chunk's)
  size_t embedding_dim = 0;       // columns of embeddings (the projector width, 512 for v3)
  int64_t total_tokens = 0;       // prompt tokens over all forward passes
};

struct Info {
  std::string version;     // version()
  std::string precision;   // "fp32" | "bf16" | "int8"
  std::string kernel_set;  // the kernel set in use, e.g. "avx512_bf16" (docs/dispatch.md)
  int threads = 0;         // compute threads in use
  int64_t hidden_size = 0, num_layers = 0, embedding_dim = 0, vocab_size = 0;
  size_t max_query_length = 0, max_doc_length = 0;  // Options as loaded
  // What the packed-weight cache did at load: "off" (no weight_cache_dir), "hit" (mapped),
  // "written" (packed, then saved), "disabled" (packed; the file could not be written).
  std::string weight_cache;
};

// Every failure is a lastrank::Error; code() says which kind.
class LASTRANK_API Error : public std::runtime_error {
 public:
  enum class Code {
    invalid_argument,  // bad options or request (the message is the CLI's for the same input)
    model,             // the model directory or one of its files is missing or malformed
    out_of_memory,
    internal,          // a bug: please report the message
  };
  Error(Code code, const std::string& message);
  Code code() const noexcept { return code_; }

 private:
  Code code_;
};
// The name of a code: "invalid_argument", "model", "out_of_memory", "internal".
LASTRANK_API const char* code_name(Error::Code code);

// Throws Error (invalid_argument) naming the first bad field of options; Reranker::load checks too.
LASTRANK_API void check_options(const Options& options);

// One loaded model. Movable, not copyable. Thread-safe: calls on one Reranker from several threads
// are serialized inside by a mutex (the engine already uses Options::threads for one call).
class LASTRANK_API Reranker {
 public:
  // Reads config.json, model.safetensors (or its shards), tokenizer.json and tokenizer_config.json
  // from a Hugging Face jina-reranker-v3 directory. Throws Error (model or invalid_argument).
  static Reranker load(const std::string& model_dir, const Options& options = {});

  Reranker(Reranker&&) noexcept;
  Reranker& operator=(Reranker&&) noexcept;
  ~Reranker();

  // Scores every document against the query (UTF-8). Throws Error (invalid_argument for bad
  // input: empty query, no documents, top_n 0, invalid UTF-8, ...).
  Ranking rerank(std::string_view query, const std::vector<std::string>& documents,
                 const RerankParams& params = {}) const;

  Info info() const;

 private:
  struct Impl;
  explicit Reranker(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace v0
}  // namespace lastrank

#endif  // LASTRANK_LASTRANK_HPP
