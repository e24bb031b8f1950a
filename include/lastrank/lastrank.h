/* lastrank C API (C99): load a jina-reranker-v3 checkpoint and rerank documents against a query.
 * The full contract is docs/library.md; in short:
 *
 *   Handles   lastrank_options, lastrank_reranker and lastrank_result are opaque; each is created
 *             by one function and released by its *_free (which accepts NULL).
 *   Strings   UTF-8 in and out; NUL-terminated. Strings a function returns are owned by the library
 *             and stay valid as the function says (static, or until the handle is freed).
 *   Errors    every function that can fail returns a lastrank_status; LASTRANK_OK is 0. The message
 *             of the last failure ON THE CALLING THREAD is lastrank_last_error() (thread-local).
 *   Threads   calls on one lastrank_reranker from several threads are serialized inside by a mutex
 *             (one call at a time per handle; each call uses the handle's compute threads). Options
 *             and result handles are plain data: do not modify or free one while another thread uses
 *             it. lastrank_free must not run concurrently with other calls on the same handle.
 *
 *   lastrank_reranker* r = NULL;
 *   if (lastrank_load("jina-reranker-v3", NULL, &r) != LASTRANK_OK) puts(lastrank_last_error());
 *   const char* docs[] = {"Green tea has catechins.", "Stocks rose."};
 *   lastrank_result* res = NULL;
 *   if (lastrank_rerank(r, "green tea", docs, 2, 0, NULL, 0, &res) == LASTRANK_OK) {
 *     const size_t* order = lastrank_result_order(res);     best document first
 *     const float* scores = lastrank_result_scores(res);    scores[i] belongs to docs[i]
 *   }
 *   lastrank_result_free(res); lastrank_free(r);
 */
#ifndef LASTRANK_LASTRANK_H
#define LASTRANK_LASTRANK_H

#include <stddef.h>
#include <stdint.h>

#if defined(LASTRANK_BUILDING_LIBRARY)
#define LASTRANK_C_API __attribute__((visibility("default")))
#else
#define LASTRANK_C_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

typedef enum lastrank_status {
  LASTRANK_OK = 0,
  LASTRANK_INVALID_ARGUMENT = 1, /* bad options or request; the message is the CLI's for the same input */
  LASTRANK_MODEL_ERROR = 2,      /* model directory or file missing or malformed; the message names the file */
  LASTRANK_OUT_OF_MEMORY = 3,
  LASTRANK_INTERNAL_ERROR = 4    /* a bug: please report the message */
} lastrank_status;

/* The enumerator's own name, e.g. "LASTRANK_MODEL_ERROR"; "LASTRANK_UNKNOWN_STATUS" otherwise. Static. */
LASTRANK_C_API const char* lastrank_status_name(lastrank_status status);

/* The message of the last failed call on this thread ("" if none). Valid until the next failing
 * call on this thread. Successful calls leave it unchanged. */
LASTRANK_C_API const char* lastrank_last_error(void);

/* The library version, "MAJOR.MINOR.PATCH". Static. */
LASTRANK_C_API const char* lastrank_version(void);

/* ---- load options ---------------------------------------------------------------------- */
typedef struct lastrank_options lastrank_options;

/* Defaults: precision "bf16", threads 0 (all cores), max query length 512, max doc length 2048,
 * scores "cosine". */
LASTRANK_C_API lastrank_status lastrank_options_create(lastrank_options** out);
LASTRANK_C_API void lastrank_options_free(lastrank_options* options);
/* "fp32" (exact) | "bf16" | "int8"; anything else: LASTRANK_INVALID_ARGUMENT. */
LASTRANK_C_API lastrank_status lastrank_options_set_precision(lastrank_options* options, const char* precision);
/* Compute threads, 0 = all cores, at most 1024. */
LASTRANK_C_API lastrank_status lastrank_options_set_threads(lastrank_options* options, int threads);
/* Truncation limits in tokens (>= 1), applied to the query and to each document. */
LASTRANK_C_API lastrank_status lastrank_options_set_max_query_length(lastrank_options* options, size_t tokens);
LASTRANK_C_API lastrank_status lastrank_options_set_max_doc_length(lastrank_options* options, size_t tokens);
/* Score scale of results: "cosine" (default; the reference's cosine in [-1, 1]) or "unit"
 * ((1 + cosine) / 2 in [0, 1], the order unchanged); anything else: LASTRANK_INVALID_ARGUMENT. */
LASTRANK_C_API lastrank_status lastrank_options_set_scores(lastrank_options* options, const char* scores);
/* Documents longer than max doc length: split into up to n chunks, scored by the best one
 * (docs/library.md "Chunking"); 1 (the default) = truncated, the reference. n >= 1. */
LASTRANK_C_API lastrank_status lastrank_options_set_max_chunks_per_doc(lastrank_options* options, size_t n);
/* Directory of the packed-weight cache (docs/library.md "Weight cache"): later loads of the same
 * checkpoint map the packed weights instead of packing them. NULL or "" (the default): no cache. */
LASTRANK_C_API lastrank_status lastrank_options_set_weight_cache_dir(lastrank_options* options, const char* dir);

/* ---- model ----------------------------------------------------------------------------- */
typedef struct lastrank_reranker lastrank_reranker;

/* Loads a Hugging Face jina-reranker-v3 directory (config.json, model.safetensors or shards,
 * tokenizer.json, tokenizer_config.json). options may be NULL (defaults); it is copied, so it can
 * be freed right after. On failure *out is NULL. */
LASTRANK_C_API lastrank_status lastrank_load(const char* model_dir, const lastrank_options* options,
                                             lastrank_reranker** out);
LASTRANK_C_API void lastrank_free(lastrank_reranker* reranker);

/* What a loaded model runs with. Strings stay valid until lastrank_free; NULL / 0 for a NULL handle. */
LASTRANK_C_API const char* lastrank_info_precision(const lastrank_reranker* reranker);  /* fp32|bf16|int8 */
LASTRANK_C_API const char* lastrank_info_kernel_set(const lastrank_reranker* reranker); /* e.g. "avx512_bf16" */
LASTRANK_C_API int lastrank_info_threads(const lastrank_reranker* reranker);
/* What the weight cache did at load: "off", "hit", "written" or "disabled" (Info::weight_cache). */
LASTRANK_C_API const char* lastrank_info_weight_cache(const lastrank_reranker* reranker);
LASTRANK_C_API int64_t lastrank_info_hidden_size(const lastrank_reranker* reranker);
LASTRANK_C_API int64_t lastrank_info_num_layers(const lastrank_reranker* reranker);
LASTRANK_C_API int64_t lastrank_info_embedding_dim(const lastrank_reranker* reranker);
LASTRANK_C_API int64_t lastrank_info_vocab_size(const lastrank_reranker* reranker);

/* ---- rerank ---------------------------------------------------------------------------- */
typedef struct lastrank_result lastrank_result;

/* lastrank_rerank flags (bitwise or). */
#define LASTRANK_RETURN_EMBEDDINGS 1u

/* Scores documents[0..n_documents) against query. top_n: length of the sorted order, 0 = all
 * documents (the request rule of every front end). instruction: NULL or an instruction for the prompt. flags: 0 or
 * LASTRANK_RETURN_EMBEDDINGS. The inputs are not kept. On failure *out is NULL. */
LASTRANK_C_API lastrank_status lastrank_rerank(lastrank_reranker* reranker, const char* query,
                                               const char* const* documents, size_t n_documents, size_t top_n,
                                               const char* instruction, unsigned flags, lastrank_result** out);
LASTRANK_C_API void lastrank_result_free(lastrank_result* result);

/* Result accessors; pointers stay valid until lastrank_result_free. NULL / 0 for a NULL handle. */
LASTRANK_C_API size_t lastrank_result_count(const lastrank_result* result);        /* = n_documents */
/* [count], input order; on the options' score scale (cosine unless "unit"). */
LASTRANK_C_API const float* lastrank_result_scores(const lastrank_result* result);
LASTRANK_C_API size_t lastrank_result_order_length(const lastrank_result* result); /* min(top_n, count) */
/* Document indices by descending score (ties keep input order), order_length entries. */
LASTRANK_C_API const size_t* lastrank_result_order(const lastrank_result* result);
/* [count x embedding_dim] row-major, input order; NULL without LASTRANK_RETURN_EMBEDDINGS. */
LASTRANK_C_API const float* lastrank_result_embeddings(const lastrank_result* result);
LASTRANK_C_API size_t lastrank_result_embedding_dim(const lastrank_result* result);
/* Prompt tokens over all forward passes. */
LASTRANK_C_API int64_t lastrank_result_total_tokens(const lastrank_result* result);

#ifdef __cplusplus
}
#endif

#endif /* LASTRANK_LASTRANK_H */
