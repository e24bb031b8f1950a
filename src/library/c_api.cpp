// The C ABI (include/lastrank/lastrank.h) over the C++ API: handles own C++ objects, every
// exception becomes a status code plus a thread-local message.
#include "lastrank/lastrank.h"

#include <new>
#include <string>

#include "lastrank/lastrank.hpp"

struct lastrank_options {
  lastrank::Options options;
};

struct lastrank_reranker {
  lastrank::Reranker reranker;
  lastrank::Info info;
};

struct lastrank_result {
  lastrank::Ranking ranking;
};

namespace {

thread_local std::string t_last_error;
thread_local bool t_last_error_lost = false;  // the message itself could not be stored

lastrank_status failed(lastrank_status status, const char* message) noexcept {
  try {
    t_last_error = message;
    t_last_error_lost = false;
  } catch (...) {
    t_last_error_lost = true;
  }
  return status;
}

lastrank_status status_of(lastrank::Error::Code code) {
  switch (code) {
    case lastrank::Error::Code::invalid_argument: return LASTRANK_INVALID_ARGUMENT;
    case lastrank::Error::Code::model: return LASTRANK_MODEL_ERROR;
    case lastrank::Error::Code::out_of_memory: return LASTRANK_OUT_OF_MEMORY;
    case lastrank::Error::Code::internal: return LASTRANK_INTERNAL_ERROR;
  }
  return LASTRANK_INTERNAL_ERROR;
}

// Runs f; any exception becomes its status and message. Nothing escapes into C.
template <class F>
lastrank_status guarded(F&& f) noexcept {
  try {
    f();
    return LASTRANK_OK;
  } catch (const lastrank::Error& e) {
    return failed(status_of(e.code()), e.what());
  } catch (const std::bad_alloc&) {
    return failed(LASTRANK_OUT_OF_MEMORY, "out of memory");
  } catch (const std::exception& e) {
    return failed(LASTRANK_INTERNAL_ERROR, e.what());
  } catch (...) {
    return failed(LASTRANK_INTERNAL_ERROR, "unknown exception");
  }
}

[[noreturn]] void bad_argument(const std::string& message) {
  throw lastrank::Error(lastrank::Error::Code::invalid_argument, message);
}

void require(const void* p, const char* function, const char* argument) {
  if (!p) bad_argument(std::string(function) + ": " + argument + " is NULL");
}

// Applies set to a copy of the options and keeps it only if lastrank::check_options accepts it.
template <class F>
lastrank_status set_option(lastrank_options* options, const char* function, F&& set) noexcept {
  return guarded([&] {
    require(options, function, "options");
    lastrank::Options changed = options->options;
    set(changed);
    lastrank::check_options(changed);
    options->options = std::move(changed);
  });
}

}  // namespace

extern "C" {

const char* lastrank_status_name(lastrank_status status) {
  switch (status) {
    case LASTRANK_OK: return "LASTRANK_OK";
    case LASTRANK_INVALID_ARGUMENT: return "LASTRANK_INVALID_ARGUMENT";
    case LASTRANK_MODEL_ERROR: return "LASTRANK_MODEL_ERROR";
    case LASTRANK_OUT_OF_MEMORY: return "LASTRANK_OUT_OF_MEMORY";
    case LASTRANK_INTERNAL_ERROR: return "LASTRANK_INTERNAL_ERROR";
  }
  return "LASTRANK_UNKNOWN_STATUS";
}

const char* lastrank_last_error(void) {
  return t_last_error_lost ? "out of memory (while recording an error message)" : t_last_error.c_str();
}

const char* lastrank_version(void) {
  static const std::string v = lastrank::version();
  return v.c_str();
}

lastrank_status lastrank_options_create(lastrank_options** out) {
  return guarded([&] {
    require(out, "lastrank_options_create", "out");
    *out = nullptr;
    *out = new lastrank_options{};
  });
}

void lastrank_options_free(lastrank_options* options) { delete options; }

lastrank_status lastrank_options_set_precision(lastrank_options* options, const char* precision) {
  return set_option(options, "lastrank_options_set_precision", [&](lastrank::Options& o) {
    require(precision, "lastrank_options_set_precision", "precision");
    o.precision = precision;
  });
}

lastrank_status lastrank_options_set_threads(lastrank_options* options, int threads) {
  return set_option(options, "lastrank_options_set_threads", [&](lastrank::Options& o) { o.threads = threads; });
}

lastrank_status lastrank_options_set_max_query_length(lastrank_options* options, size_t tokens) {
  return set_option(options, "lastrank_options_set_max_query_length",
                    [&](lastrank::Options& o) { o.max_query_length = tokens; });
}

lastrank_status lastrank_options_set_max_doc_length(lastrank_options* options, size_t tokens) {
  return set_option(options, "lastrank_options_set_max_doc_length",
                    [&](lastrank::Options& o) { o.max_doc_length = tokens; });
}

lastrank_status lastrank_options_set_scores(lastrank_options* options, const char* scores) {
  return set_option(options, "lastrank_options_set_scores", [&](lastrank::Options& o) {
    require(scores, "lastrank_options_set_scores", "scores");
    o.scores = scores;
  });
}

lastrank_status lastrank_options_set_max_chunks_per_doc(lastrank_options* options, size_t n) {
  return set_option(options, "lastrank_options_set_max_chunks_per_doc",
                    [&](lastrank::Options& o) { o.max_chunks_per_doc = n; });
}

lastrank_status lastrank_options_set_weight_cache_dir(lastrank_options* options, const char* dir) {
  return set_option(options, "lastrank_options_set_weight_cache_dir",
                    [&](lastrank::Options& o) { o.weight_cache_dir = dir ? dir : ""; });
}

lastrank_status lastrank_load(const char* model_dir, const lastrank_options* options, lastrank_reranker** out) {
  return guarded([&] {
    require(out, "lastrank_load", "out");
    *out = nullptr;
    require(model_dir, "lastrank_load", "model_dir");
    lastrank::Reranker r = lastrank::Reranker::load(model_dir, options ? options->options : lastrank::Options{});
    lastrank::Info info = r.info();
    *out = new lastrank_reranker{std::move(r), std::move(info)};
  });
}

void lastrank_free(lastrank_reranker* reranker) { delete reranker; }

const char* lastrank_info_precision(const lastrank_reranker* r) { return r ? r->info.precision.c_str() : nullptr; }
const char* lastrank_info_kernel_set(const lastrank_reranker* r) { return r ? r->info.kernel_set.c_str() : nullptr; }
int lastrank_info_threads(const lastrank_reranker* r) { return r ? r->info.threads : 0; }
const char* lastrank_info_weight_cache(const lastrank_reranker* r) { return r ? r->info.weight_cache.c_str() : nullptr; }
int64_t lastrank_info_hidden_size(const lastrank_reranker* r) { return r ? r->info.hidden_size : 0; }
int64_t lastrank_info_num_layers(const lastrank_reranker* r) { return r ? r->info.num_layers : 0; }
int64_t lastrank_info_embedding_dim(const lastrank_reranker* r) { return r ? r->info.embedding_dim : 0; }
int64_t lastrank_info_vocab_size(const lastrank_reranker* r) { return r ? r->info.vocab_size : 0; }

lastrank_status lastrank_rerank(lastrank_reranker* reranker, const char* query, const char* const* documents,
                                size_t n_documents, size_t top_n, const char* instruction, unsigned flags,
                                lastrank_result** out) {
  return guarded([&] {
    require(out, "lastrank_rerank", "out");
    *out = nullptr;
    require(reranker, "lastrank_rerank", "reranker");
    require(query, "lastrank_rerank", "query");
    if (n_documents > 0) require(documents, "lastrank_rerank", "documents");
    if (flags & ~LASTRANK_RETURN_EMBEDDINGS) bad_argument("lastrank_rerank: unknown flags " + std::to_string(flags));
    std::vector<std::string> docs;
    docs.reserve(n_documents);
    for (size_t i = 0; i < n_documents; ++i) {
      if (!documents[i]) bad_argument("lastrank_rerank: documents[" + std::to_string(i) + "] is NULL");
      docs.emplace_back(documents[i]);
    }
    lastrank::RerankParams params;
    if (top_n > 0) params.top_n = top_n;
    if (instruction) params.instruction = instruction;
    params.return_embeddings = (flags & LASTRANK_RETURN_EMBEDDINGS) != 0;
    *out = new lastrank_result{reranker->reranker.rerank(query, docs, params)};
  });
}

void lastrank_result_free(lastrank_result* result) { delete result; }

size_t lastrank_result_count(const lastrank_result* r) { return r ? r->ranking.scores.size() : 0; }
const float* lastrank_result_scores(const lastrank_result* r) { return r ? r->ranking.scores.data() : nullptr; }
size_t lastrank_result_order_length(const lastrank_result* r) { return r ? r->ranking.order.size() : 0; }
const size_t* lastrank_result_order(const lastrank_result* r) { return r ? r->ranking.order.data() : nullptr; }
const float* lastrank_result_embeddings(const lastrank_result* r) {
  return r && !r->ranking.embeddings.empty() ? r->ranking.embeddings.data() : nullptr;
}
size_t lastrank_result_embedding_dim(const lastrank_result* r) { return r ? r->ranking.embedding_dim : 0; }
int64_t lastrank_result_total_tokens(const lastrank_result* r) { return r ? r->ranking.total_tokens : 0; }

}  // extern "C"
