// End-to-end timing of the engine, in the spirit of llama-bench: the backbone forward over N seeded
// random token ids with the readout (+ projector) at the last position, or a full rerank of a Jina
// request JSON. 1+ warm-up and R timed runs; prints one JSON line per measurement on stdout:
//   {engine, mode, precision, threads, tokens, median_s, tok_per_s, runs[], peak_rss_mb, ...}
// Peak RSS is the process's ru_maxrss, so run one (precision, length) per process for clean numbers.
#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/request.h"
#include "backend/precision.h"
#include "core/error.h"
#include "model/config.h"
#include "model/qwen3.h"
#include "model/weights.h"
#include "rerank/reranker.h"

namespace lastrank {
namespace {

constexpr int32_t kFirstSpecialId = 151669;  // random prompts stay below the jina special tokens

double now_s() {
  using clock = std::chrono::steady_clock;
  return std::chrono::duration<double>(clock::now().time_since_epoch()).count();
}

double peak_rss_mb() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return double(ru.ru_maxrss) / 1024.0;  // ru_maxrss is in KiB on Linux
}

double median(std::vector<double> v) {
  LR_CHECK(!v.empty());
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

struct Args {
  std::string model_dir, request_path, precision = "bf16";
  std::vector<int64_t> tokens{512};
  int threads = 0, runs = 3, warmup = 1;
  uint64_t seed = 1234;
  bool reference = false;
};

// Times `fn` warmup + runs times; returns the timed durations in seconds.
template <typename Fn>
std::vector<double> time_runs(const Args& a, const std::string& what, Fn&& fn) {
  std::vector<double> runs;
  for (int i = 0; i < a.warmup + a.runs; ++i) {
    const double t0 = now_s();
    fn();
    const double dt = now_s() - t0;
    if (i >= a.warmup) runs.push_back(dt);
    std::fprintf(stderr, "%s run %d (%s): %.3f s\n", what.c_str(), i, i < a.warmup ? "warm-up" : "timed", dt);
  }
  return runs;
}

nlohmann::json result_line(const Args& a, const char* mode, int64_t tokens, const std::vector<double>& runs,
                           double load_s) {
  const double med = median(runs);
  nlohmann::json j;
  j["engine"] = "lastrank";
  j["mode"] = mode;
  j["precision"] = a.precision;
  j["threads"] = a.threads;
  j["tokens"] = tokens;
  j["median_s"] = med;
  j["tok_per_s"] = double(tokens) / med;
  j["runs"] = runs;
  j["warmup"] = a.warmup;
  j["load_s"] = load_s;
  j["peak_rss_mb"] = peak_rss_mb();
  j["version"] = LASTRANK_VERSION;
  if (a.reference) j["reference_kernels"] = true;
  return j;
}

int bench_forward(const Args& a, const EngineOptions& eo) {
  const double t0 = now_s();
  ModelConfig cfg = load_model_config(a.model_dir + "/config.json");
  ModelWeights w = load_model_weights(a.model_dir, cfg);
  Qwen3Model model(std::move(cfg), std::move(w), eo);
  const double load_s = now_s() - t0;
  const int64_t hidden = model.config().hidden_size;
  const int64_t vocab = std::min<int64_t>(model.config().vocab_size, kFirstSpecialId);
  if (vocab < 1) fail("model vocab_size must be >= 1, found ", model.config().vocab_size);
  std::vector<float> h(static_cast<size_t>(hidden)), e(static_cast<size_t>(model.projector_dim()));
  for (int64_t n : a.tokens) {
    if (n < 1) fail("--tokens must be >= 1, found ", n);
    std::mt19937_64 rng(a.seed ^ uint64_t(n));
    std::uniform_int_distribution<int32_t> dist(0, int32_t(vocab - 1));
    std::vector<int32_t> ids(static_cast<size_t>(n));
    for (auto& id : ids) id = dist(rng);
    const std::vector<int64_t> readout{n - 1};
    auto runs = time_runs(a, cat("forward ", a.precision, " N=", n), [&] {
      model.forward(ids, readout, h.data());
      model.project(h.data(), 1, e.data());
    });
    auto j = result_line(a, "forward", n, runs, load_s);
    j["threads"] = model.threads();
    j["kernel_set"] = model.kernel_set();
    std::printf("%s\n", j.dump().c_str());
    std::fflush(stdout);
  }
  return 0;
}

int bench_rerank(const Args& a, const EngineOptions& eo) {
  std::ifstream f(a.request_path, std::ios::binary);
  if (!f) fail("cannot open --request file ", a.request_path);
  std::stringstream ss;
  ss << f.rdbuf();
  api::RequestLimits limits;
  limits.max_documents = SIZE_MAX;  // a benchmark may rank more than the server's default allows
  api::ApiRequest req = api::parse_request_text(api::Dialect::jina_v1, ss.str(), limits);
  const double t0 = now_s();
  auto reranker = Reranker::load(a.model_dir, eo);
  const double load_s = now_s() - t0;
  RerankResponse resp;
  auto runs = time_runs(a, cat("rerank ", a.precision), [&] { resp = reranker->rerank(req.request); });
  auto j = result_line(a, "rerank", resp.total_tokens, runs, load_s);
  j["threads"] = reranker->model().threads();
  j["kernel_set"] = reranker->model().kernel_set();
  j["documents"] = req.request.documents.size();
  j["blocks"] = resp.blocks;
  std::printf("%s\n", j.dump().c_str());
  return 0;
}

}  // namespace
}  // namespace lastrank

int main(int argc, char** argv) {
  using namespace lastrank;
  CLI::App app{"bench_e2e: lastrank end-to-end timing (forward over random ids, or a full rerank)"};
  Args a;
  app.add_option("--model,-m", a.model_dir, "Model directory (config.json, model.safetensors[, tokenizer])")->required();
  app.add_option("--precision,-p", a.precision, "fp32 | bf16 | int8")->check(CLI::IsMember(precision_names()));
  app.add_option("--tokens,-n", a.tokens, "Sequence lengths (forward mode); one process per length for clean peak RSS")
      ->check(CLI::Range(int64_t(1), int64_t(1) << 20));
  app.add_option("--threads,-t", a.threads, "Compute threads (0 = all cores)")->check(CLI::Range(0, 1024));
  app.add_option("--runs,-r", a.runs, "Timed runs")->check(CLI::Range(1, 1000));
  app.add_option("--warmup,-w", a.warmup, "Warm-up runs (not timed)")->check(CLI::Range(0, 1000));
  app.add_option("--seed", a.seed, "Seed of the random token ids");
  app.add_option("--request", a.request_path, "Jina request JSON: time a full rerank instead of a bare forward");
  app.add_flag("--reference", a.reference, "Use the scalar reference kernels (slow oracle)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  try {
    EngineOptions eo;
    eo.precision = parse_precision(a.precision);
    eo.threads = a.threads;
    eo.reference_kernels = a.reference;
    return a.request_path.empty() ? bench_forward(a, eo) : bench_rerank(a, eo);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_e2e: %s\n", e.what());
    return 1;
  }
}
