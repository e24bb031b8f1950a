// lastrank::Reranker (include/lastrank/lastrank.hpp) over the engine's Reranker
// (src/rerank/reranker.h): option checks, the CLI's request rules (library/request_check.h), one mutex
// per model, and the engine's errors as lastrank::Error codes.
#include "library/engine_names.h"  // engine headers before the public one: see engine_names.h
#include "backend/precision.h"
#include "api/scores.h"
#include "api/chunking.h"
#include "api/truncation.h"

#include <algorithm>
#include <filesystem>
#include <memory>
#include <mutex>
#include <new>

#include "lastrank/lastrank.hpp"
#include "library/request_check.h"

namespace lastrank::v0 {
namespace {

constexpr int kMaxThreads = 1024;  // the CLI's --threads range

// Runs f, turning the engine's errors (lastrank::Error of src/core) into Error(engine_code).
template <class F>
auto translated(Error::Code engine_code, F&& f) {
  try {
    return f();
  } catch (const Error& e) {
    throw Error(e.code(), e.what());  // also slices library::RequestError to the public class
  } catch (const library::EngineError& e) {
    throw Error(engine_code, e.what());
  } catch (const std::bad_alloc&) {
    throw Error(Error::Code::out_of_memory, "out of memory");
  } catch (const std::exception& e) {
    throw Error(Error::Code::internal, e.what());
  }
}

void check_length(size_t tokens, const char* name) {
  if (tokens == 0) throw Error(Error::Code::invalid_argument, cat(name, " must be at least 1"));
}

EngineOptions engine_options(const Options& o) {
  check_options(o);
  EngineOptions eo;
  eo.precision = parse_precision(o.precision);
  eo.threads = o.threads;
  eo.weight_cache_dir = o.weight_cache_dir;
  return eo;
}

Ranking to_ranking(const RerankResponse& resp, size_t n_documents, std::optional<size_t> top_n, bool embeddings,
                   size_t dim, api::ScoreScale scale) {
  Ranking r;
  r.scores.resize(n_documents);
  r.order.reserve(n_documents);
  r.embedding_dim = dim;
  if (embeddings) r.embeddings.resize(n_documents * dim);
  for (const RerankItem& it : resp.results) {  // sorted by score, ties in input order
    r.scores[it.index] = api::scaled_score(it.relevance_score, scale);
    r.order.push_back(it.index);
    if (embeddings) std::copy(it.embedding.begin(), it.embedding.end(), r.embeddings.begin() + ptrdiff_t(it.index * dim));
  }
  if (top_n && *top_n < r.order.size()) r.order.resize(*top_n);
  r.total_tokens = resp.total_tokens;
  return r;
}

}  // namespace

std::string version() { return LASTRANK_VERSION; }

void check_options(const Options& o) {
  const auto& names = precision_names();
  if (std::find(names.begin(), names.end(), o.precision) == names.end())
    throw Error(Error::Code::invalid_argument, cat("precision must be fp32, bf16 or int8, not \"", o.precision, "\""));
  if (o.threads < 0 || o.threads > kMaxThreads)
    throw Error(Error::Code::invalid_argument, cat("threads must be 0 (all cores) to ", kMaxThreads, ", not ", o.threads));
  check_length(o.max_query_length, "max_query_length");
  check_length(o.max_doc_length, "max_doc_length");
  if (o.scores != "cosine" && o.scores != "unit")
    throw Error(Error::Code::invalid_argument, cat("scores must be \"cosine\" or \"unit\", not \"", o.scores, "\""));
  check_length(o.max_chunks_per_doc, "max_chunks_per_doc");
}

Error::Error(Code code, const std::string& message) : std::runtime_error(message), code_(code) {}

const char* code_name(Error::Code code) {
  switch (code) {
    case Error::Code::invalid_argument: return "invalid_argument";
    case Error::Code::model: return "model";
    case Error::Code::out_of_memory: return "out_of_memory";
    case Error::Code::internal: return "internal";
  }
  return "unknown";
}

struct Reranker::Impl {
  std::unique_ptr<library::Engine> engine;
  RerankOptions options;  // as loaded; rerank() overrides the lengths per call
  api::ScoreScale scores = api::ScoreScale::cosine;
  size_t max_chunks_per_doc = 1;
  Info info;
  std::mutex mutex;       // one rerank at a time per model
};

Reranker::Reranker(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Reranker::Reranker(Reranker&&) noexcept = default;
Reranker& Reranker::operator=(Reranker&&) noexcept = default;
Reranker::~Reranker() = default;

Reranker Reranker::load(const std::string& model_dir, const Options& options) {
  return translated(Error::Code::model, [&] {
    EngineOptions eo = engine_options(options);
    // Info::weight_cache: the packed-weight cache's last word at load ("ignored" is followed by
    // "written"); the prefix K/V file beside it is not reported.
    auto cache_status = std::make_shared<std::string>(options.weight_cache_dir.empty() ? "off" : "");
    eo.weight_cache_log = [cache_status](CacheFileKind kind, const std::string& status, const std::string&) {
      if (kind == CacheFileKind::packed) *cache_status = status;
    };
    RerankOptions ro;
    ro.max_query_tokens = options.max_query_length;
    ro.max_doc_tokens = options.max_doc_length;
    auto impl = std::make_unique<Impl>();
    impl->engine = library::Engine::load(model_dir, eo, ro);
    impl->options = impl->engine->options();
    impl->scores = api::parse_score_scale(options.scores);
    impl->max_chunks_per_doc = options.max_chunks_per_doc;
    Qwen3Model& model = impl->engine->model();
    impl->info = {version(), precision_name(eo.precision), model.kernel_set(), model.threads(),
                  model.config().hidden_size, model.config().num_hidden_layers, model.projector_dim(),
                  model.config().vocab_size, options.max_query_length, options.max_doc_length, *cache_status};
    return Reranker(std::move(impl));
  });
}

Ranking Reranker::rerank(std::string_view query, const std::vector<std::string>& documents,
                         const RerankParams& params) const {
  if (!impl_) throw Error(Error::Code::invalid_argument, "rerank() on a moved-from lastrank::Reranker");
  return translated(Error::Code::invalid_argument, [&] {
    library::CheckedRequest checked = library::check_request(library::request_body(query, documents, params));
    RerankOptions ro = impl_->options;
    if (params.max_query_length) ro.max_query_tokens = *params.max_query_length;
    if (params.max_doc_length) ro.max_doc_tokens = *params.max_doc_length;
    check_length(ro.max_query_tokens, "max_query_length");
    check_length(ro.max_doc_tokens, "max_doc_length");
    RerankRequest req;  // top_n stays unset: Ranking::scores has every document
    req.query = std::move(checked.query);
    req.documents = std::move(checked.documents);
    req.instruction = std::move(checked.instruction);
    req.return_embeddings = checked.return_embeddings;
    const size_t n_documents = req.documents.size();
    // Chunking (api/chunking.h): the chunks are the engine's documents, folded back to documents.
    const size_t max_chunks = checked.max_chunks_per_doc.value_or(impl_->max_chunks_per_doc);
    api::ChunkPlan plan;
    if (max_chunks > 1)
      plan = api::split_documents(req, api::TokenizerTextTokens(impl_->engine->tokenizer()),
                                  {ro.max_doc_tokens, max_chunks, api::RequestLimits{}.max_documents, 0});
    std::lock_guard<std::mutex> lock(impl_->mutex);
    impl_->engine->set_options(ro);
    RerankResponse resp = impl_->engine->rerank(req);
    if (plan.active()) resp = api::fold_chunks(plan, resp).response;
    return to_ranking(resp, n_documents, checked.top_n, req.return_embeddings, size_t(impl_->info.embedding_dim),
                      impl_->scores);
  });
}

Info Reranker::info() const {
  if (!impl_) throw Error(Error::Code::invalid_argument, "info() on a moved-from lastrank::Reranker");
  return impl_->info;
}

}  // namespace lastrank::v0
