// `lastrank` command line: rerank (Jina request JSON in, Jina response JSON out; --jsonl for
// one request per line, cli/rerank_command.h), tokenize (JSON-lines), serve (HTTP server,
// src/server). Errors: one line on stderr, exit code 1 (2 for usage errors).
#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>

#include <nlohmann/json.hpp>

#include "api/scores.h"
#include "cli/rerank_command.h"
#include "backend/backend.h"
#include "backend/precision.h"
#include "core/error.h"
#include "io/hf_cache.h"
#include "io/weight_cache_dir.h"
#include "tokenizer/tokenizer.h"
#ifdef LASTRANK_HAVE_SERVER
#include "server/serve.h"
#endif

namespace lastrank {
namespace {

int cmd_tokenize(const ModelLocation& model) {
  auto tok = Tokenizer::load_file(model.dir + "/tokenizer.json");
  std::string line;
  size_t lineno = 0;
  while (std::getline(std::cin, line)) {
    ++lineno;
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_string()) fail("line ", lineno, ": expected a JSON string");
    std::cout << nlohmann::json(tok->encode(j.get<std::string>())).dump() << "\n";
  }
  return 0;
}

}  // namespace
}  // namespace lastrank

int main(int argc, char** argv) {
  using namespace lastrank;
#ifdef LASTRANK_HAVE_SERVER
  if (argc >= 2 && std::string(argv[1]) == "serve") {
    try {
      return server::serve_main(argc - 1, argv + 1);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "lastrank serve: %s\n", e.what());
      return 1;
    }
  }
#endif
  CLI::App app{"lastrank: jina-reranker-v3 inference (rerank, tokenize, serve)"};
  app.require_subcommand(1);
  app.set_version_flag("--version", [] { return cat("lastrank ", LASTRANK_VERSION, "\n", kernel_set_report()); });

  std::string model_dir, revision, precision = "bf16";
  const char* kModelHelp = "Model directory (config.json, model.safetensors, tokenizer.json) or Hugging Face repo id "
                           "(e.g. jinaai/jina-reranker-v3, read offline from the local HF cache)";
  const char* kRevisionHelp = "Revision of a repo id: branch, tag or commit sha (default: main)";
  int threads = 0;
  RerankCommand rc;
  RerankOptions& ro = rc.rerank;
  auto* rerank = app.add_subcommand("rerank", "Rerank a Jina /v1/rerank request JSON (stdin or --input); prints the response JSON");
  rerank->add_option("--model,-m", model_dir, kModelHelp)->required();
  rerank->add_option("--revision", revision, kRevisionHelp);
  rerank->add_option("--input,-i", rc.input, "Request JSON file (default: stdin)");
  rerank->add_option("--output,-o", rc.output, "Response file (default: stdout)");
  rerank->add_flag("--jsonl", rc.jsonl,
                   "One request per input line, one response or {\"error\": {...}} per output line; exit 1 if any failed");
  rerank->add_flag("--verbose,-v", rc.verbose, "JSON event lines on stderr (model_loaded with its load phases; request_done; batch totals)");
  rerank->add_option("--precision", precision,
                     "fp32 (exact) | bf16 (default: bf16 products on AVX512_BF16, fp32 accumulation) | int8 (VNNI); "
                     "docs/perf.md")
      ->check(CLI::IsMember(precision_names()));
  rerank->add_option("--threads,-t", threads, "Compute threads (0 = all cores)")->check(CLI::Range(0, 1024));
  rerank->add_option("--max-query-tokens", ro.max_query_tokens, "Query truncation limit")->check(CLI::Range(1, 1 << 20));
  rerank->add_option("--max-doc-tokens", ro.max_doc_tokens, "Document truncation limit")->check(CLI::Range(1, 1 << 20));
  rerank->add_option("--max-documents", rc.limits.max_documents, "More documents per request are rejected (as serve)")
      ->check(CLI::Range(size_t(1), size_t(1) << 20))
      ->capture_default_str();
  std::string scores = "cosine";
  rerank->add_option("--scores", scores, "Score scale: cosine (the reference's, in [-1, 1]) | unit ((1 + cosine) / 2, in [0, 1])")
      ->check(CLI::IsMember({"cosine", "unit"}))
      ->capture_default_str();
  rerank->add_option("--max-chunks-per-doc", rc.limits.max_chunks_per_doc,
                     "Default max_chunks_per_doc: split longer documents into up to N chunks (1 = truncate; as serve)")
      ->check(CLI::Range(size_t(1), size_t(1) << 20))
      ->capture_default_str();
  rerank->add_option("--dump-layers", rc.dump_dir, "Dump the first forward pass's named intermediates into this directory");
  std::string weight_cache;
  bool no_weight_cache = false;
  rerank->add_option("--weight-cache", weight_cache,
                     "Directory of the packed-weight cache (default: $LASTRANK_WEIGHT_CACHE, else "
                     "$XDG_CACHE_HOME/lastrank or ~/.cache/lastrank; docs/model-files.md)");
  rerank->add_flag("--no-weight-cache", no_weight_cache, "Pack the weights at load; read and write no cache");

  bool jsonl = false;
  auto* tokenize = app.add_subcommand("tokenize", "Tokenize JSON-string lines from stdin; prints one JSON id array per line");
  tokenize->add_option("--model,-m", model_dir, kModelHelp)->required();
  tokenize->add_option("--revision", revision, kRevisionHelp);
  tokenize->add_flag("--jsonl", jsonl, "Input/output as JSON lines (the only format)");

#ifdef LASTRANK_HAVE_SERVER
  app.add_subcommand("serve", "Run the HTTP server (see `lastrank serve --help`)");
#endif
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  } catch (const std::exception& e) {  // --version with a bad LASTRANK_ISA
    std::fprintf(stderr, "lastrank: %s\n", e.what());
    return 1;
  }
  try {
    if (*rerank) {
      rc.model = locate_model(model_dir, revision);
      rc.engine.precision = parse_precision(precision);
      rc.engine.threads = threads;
      rc.engine.weight_cache_dir = resolve_weight_cache_dir(weight_cache, no_weight_cache);
      rc.scores = api::parse_score_scale(scores);
      return run_rerank(rc);
    }
    if (*tokenize) return cmd_tokenize(locate_model(model_dir, revision));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "lastrank: %s\n", e.what());
    return 1;
  }
  return 0;
}
