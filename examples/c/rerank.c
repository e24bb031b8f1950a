/* Rerank documents with the lastrank C API (include/lastrank/lastrank.h).
 *   cc -std=c99 rerank.c $(pkg-config --cflags --libs lastrank) -o rerank
 *   ./rerank MODEL_DIR QUERY DOCUMENT...
 * Prints one line per document, best first: rank, index, score, text. */
#include <stdio.h>
#include <stdlib.h>

#include <lastrank/lastrank.h>

static int fail(const char* what, lastrank_status status) {
  fprintf(stderr, "%s: %s: %s\n", what, lastrank_status_name(status), lastrank_last_error());
  return 1;
}

int main(int argc, char** argv) {
  lastrank_options* options = NULL;
  lastrank_reranker* model = NULL;
  lastrank_result* result = NULL;
  lastrank_status s;
  const size_t* order;
  const float* scores;
  size_t i;

  if (argc < 4) {
    fprintf(stderr, "usage: %s MODEL_DIR QUERY DOCUMENT...\n", argv[0]);
    return 2;
  }
  if ((s = lastrank_options_create(&options)) != LASTRANK_OK) return fail("options", s);
  if ((s = lastrank_options_set_precision(options, "fp32")) != LASTRANK_OK) return fail("precision", s);
  s = lastrank_load(argv[1], options, &model);
  lastrank_options_free(options); /* lastrank_load copied it */
  if (s != LASTRANK_OK) return fail("load", s);
  printf("lastrank %s, %s kernels, %d threads, embedding dim %lld\n", lastrank_version(),
         lastrank_info_kernel_set(model), lastrank_info_threads(model), (long long)lastrank_info_embedding_dim(model));

  s = lastrank_rerank(model, argv[2], (const char* const*)(argv + 3), (size_t)(argc - 3), 0, NULL, 0, &result);
  if (s != LASTRANK_OK) {
    lastrank_free(model);
    return fail("rerank", s);
  }
  order = lastrank_result_order(result);
  scores = lastrank_result_scores(result);
  for (i = 0; i < lastrank_result_order_length(result); ++i)
    printf("%zu\t%zu\t%.9g\t%s\n", i, order[i], scores[order[i]], argv[3 + order[i]]);
  lastrank_result_free(result);
  lastrank_free(model);
  return 0;
}
