// `lastrank` command line: rerank (Jina request JSON in, Jina response JSON out), tokenize
// (JSON-lines), serve (HTTP server, src/server). Errors: one line on stderr, exit code 1
// (2 for usage errors).
#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

#include <nlohmann/json.hpp>

#include "backend/cpu/kernel_dispatch.h"
#include "core/error.h"
#include "rerank/jina_json.h"
#include "rerank/reranker.h"
#include "tokenizer/tokenizer.h"
#ifdef LASTRANK_HAVE_SERVER
#include "server/serve.h"
#endif

namespace lastrank {
namespace {

std::string read_all(std::istream& in) {
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Writes every traced intermediate of the first forward pass as raw little-endian f32 files
// <dir>/<name>.<layer>.f32 plus <dir>/index.json with shapes (tools/compare_layers.py reads it).
class LayerDumper {
 public:
  explicit LayerDumper(std::string dir) : dir_(std::move(dir)) { std::filesystem::create_directories(dir_); }
  void operator()(const std::string& name, int layer, const float* data, int64_t rows, int64_t cols) {
    if (name == "embed") {  // "embed" opens each forward pass: keep only the first block's
      if (seen_embed_) done_ = true;
      seen_embed_ = true;
    }
    if (done_) return;
    const std::string file = name + "." + (layer < 0 ? std::string("x") : std::to_string(layer)) + ".f32";
    std::ofstream f(dir_ + "/" + file, std::ios::binary);
    f.write(reinterpret_cast<const char*>(data), std::streamsize(rows * cols * 4));
    index_[file] = {{"name", name}, {"layer", layer}, {"shape", {rows, cols}}};
  }
  void finish() {
    done_ = true;
    std::ofstream(dir_ + "/index.json") << index_.dump(1) << "\n";
  }

 private:
  std::string dir_;
  nlohmann::json index_ = nlohmann::json::object();
  bool done_ = false, seen_embed_ = false;
};

int cmd_rerank(const std::string& model_dir, const std::string& input, const EngineOptions& eo, const RerankOptions& ro,
               const std::string& dump_dir) {
  std::string text;
  if (input.empty() || input == "-") {
    text = read_all(std::cin);
  } else {
    std::ifstream f(input, std::ios::binary);
    if (!f) fail("cannot open --input file ", input);
    text = read_all(f);
  }
  auto body = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded()) fail("request is not valid JSON");
  JinaRequest req = parse_jina_request(body);
  auto reranker = Reranker::load(model_dir, eo, ro);
  RerankResponse resp;
  if (!dump_dir.empty()) {
    LayerDumper dumper(dump_dir);
    TraceFn trace = [&](const std::string& n, int l, const float* d, int64_t r, int64_t c) { dumper(n, l, d, r, c); };
    reranker->set_trace(&trace);
    resp = reranker->rerank(req.request);
    reranker->set_trace(nullptr);
    dumper.finish();
  } else {
    resp = reranker->rerank(req.request);
  }
  const std::string name = std::filesystem::path(model_dir).lexically_normal().filename().string();
  std::cout << make_jina_response(req, resp, name.empty() ? "jina-reranker-v3" : name).dump() << "\n";
  return 0;
}

int cmd_tokenize(const std::string& model_dir) {
  auto tok = Tokenizer::load_file(model_dir + "/tokenizer.json");
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
  app.set_version_flag("--version", [] { return cat("lastrank ", LASTRANK_VERSION, "\n", cpu::kernel_set_summary()); });

  std::string model_dir, input, precision = "bf16", dump_dir;
  int threads = 0;
  RerankOptions ro;
  auto* rerank = app.add_subcommand("rerank", "Rerank a Jina /v1/rerank request JSON (stdin or --input); prints the response JSON");
  rerank->add_option("--model,-m", model_dir, "Model directory (config.json, model.safetensors, tokenizer.json)")->required();
  rerank->add_option("--input,-i", input, "Request JSON file (default: stdin)");
  rerank->add_option("--precision", precision,
                     "fp32 (exact) | bf16 (default: bf16 products on AVX512_BF16, fp32 accumulation) | int8 (VNNI); "
                     "docs/perf.md")
      ->check(CLI::IsMember(cpu::user_precision_names()));
  rerank->add_option("--threads,-t", threads, "Compute threads (0 = all cores)")->check(CLI::Range(0, 1024));
  rerank->add_option("--max-query-tokens", ro.max_query_tokens, "Query truncation limit")->check(CLI::Range(1, 1 << 20));
  rerank->add_option("--max-doc-tokens", ro.max_doc_tokens, "Document truncation limit")->check(CLI::Range(1, 1 << 20));
  rerank->add_option("--dump-layers", dump_dir, "Dump the first forward pass's named intermediates into this directory");

  bool jsonl = false;
  auto* tokenize = app.add_subcommand("tokenize", "Tokenize JSON-string lines from stdin; prints one JSON id array per line");
  tokenize->add_option("--model,-m", model_dir, "Model directory (tokenizer.json)")->required();
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
      EngineOptions eo;
      eo.precision = cpu::parse_precision(precision);
      eo.threads = threads;
      return cmd_rerank(model_dir, input, eo, ro, dump_dir);
    }
    if (*tokenize) return cmd_tokenize(model_dir);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "lastrank: %s\n", e.what());
    return 1;
  }
  return 0;
}
