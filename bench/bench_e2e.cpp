// End-to-end timing of the engine, in the spirit of llama-bench: the backbone forward over N seeded
// random token ids with the readout (+ projector) at the last position, or a full rerank of a Jina
// request JSON. 1+ warm-up and R timed runs; prints one JSON line per measurement on stdout:
//   {engine, mode, precision, threads, tokens, median_s, tok_per_s, runs[], peak_rss_mb, ...}
// Peak RSS is the process's ru_maxrss, so run one (precision, length) per process for clean numbers.
// --cancel-after S measures cancellation instead (bench/cancel_latency.sh): how long the forward
// takes to stop after its CancelToken is cancelled S seconds in, and how long each layer takes.
#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/request.h"
#include "backend/precision.h"
#include "core/cancel.h"
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
  double cancel_after = 0;  // > 0: measure cancellation (bench_cancel)
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

std::unique_ptr<Qwen3Model> load_model(const Args& a, const EngineOptions& eo) {
  ModelConfig cfg = load_model_config(a.model_dir + "/config.json");
  ModelWeights w = load_model_weights(a.model_dir, cfg);
  return std::make_unique<Qwen3Model>(std::move(cfg), std::move(w), eo);
}

// n seeded random token ids below the jina special tokens.
std::vector<int32_t> random_ids(const Args& a, const Qwen3Model& model, int64_t n) {
  if (n < 1) fail("--tokens must be >= 1, found ", n);
  const int64_t vocab = std::min<int64_t>(model.config().vocab_size, kFirstSpecialId);
  if (vocab < 1) fail("model vocab_size must be >= 1, found ", model.config().vocab_size);
  std::mt19937_64 rng(a.seed ^ uint64_t(n));
  std::uniform_int_distribution<int32_t> dist(0, int32_t(vocab - 1));
  std::vector<int32_t> ids(static_cast<size_t>(n));
  for (auto& id : ids) id = dist(rng);
  return ids;
}

int bench_forward(const Args& a, const EngineOptions& eo) {
  const double t0 = now_s();
  auto model_ptr = load_model(a, eo);
  Qwen3Model& model = *model_ptr;
  const double load_s = now_s() - t0;
  const int64_t hidden = model.config().hidden_size;
  std::vector<float> h(static_cast<size_t>(hidden)), e(static_cast<size_t>(model.projector_dim()));
  for (int64_t n : a.tokens) {
    const std::vector<int32_t> ids = random_ids(a, model, n);
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

// Per layer of one uncancelled forward (warm-up runs first): seconds from the previous layer's end
// to its attention output (K/V + attention + o_proj) and to its end (+ MLP), from trace
// timestamps (the trace downloads each traced tensor: a few ms per layer at 8K).
nlohmann::json layer_times(Qwen3Model& model, const std::vector<int32_t>& ids, float* h) {
  std::vector<double> attn, layer;
  double last = now_s();
  const TraceFn trace = [&](const std::string& name, int li, const float*, int64_t, int64_t) {
    if (li < 0 && name == "embed") last = now_s();
    if (name == "attn_out") attn.push_back(now_s() - last);
    if (name == "layer_out") {
      const double t = now_s();
      layer.push_back(t - last);
      last = t;
    }
  };
  model.forward(ids, {int64_t(ids.size()) - 1}, h, &trace);
  nlohmann::json j;
  j["layer_s"] = layer;
  j["attention_s"] = attn;
  j["layer_max_s"] = *std::max_element(layer.begin(), layer.end());
  j["layer_median_s"] = median(layer);
  return j;
}

// Run i cancels its forward cancel_after + 0.37 i seconds in (so the cancels land at different
// points of a layer) and times cancel() -> forward() throwing Cancelled: how long the compute
// thread stays busy after its request is given up.
int bench_cancel(const Args& a, const EngineOptions& eo) {
  auto model = load_model(a, eo);
  std::vector<float> h(static_cast<size_t>(model->config().hidden_size));
  for (int64_t n : a.tokens) {
    const std::vector<int32_t> ids = random_ids(a, *model, n);
    const std::vector<int64_t> readout{n - 1};
    for (int i = 0; i < a.warmup; ++i) model->forward(ids, readout, h.data());
    std::vector<double> latency, cancelled_at;
    for (int r = 0; r < a.runs; ++r) {
      CancelToken token;
      const double start = now_s(), after = a.cancel_after + 0.37 * r;
      double t_cancel = 0;
      std::thread canceller([&] {
        std::this_thread::sleep_until(std::chrono::steady_clock::now() + std::chrono::duration<double>(after));
        t_cancel = now_s();
        token.cancel(CancelReason::client_gone);
      });
      bool stopped = false;
      try {
        model->forward(ids, readout, h.data(), nullptr, &token);
      } catch (const Cancelled&) {
        stopped = true;
      }
      const double t_free = now_s();
      canceller.join();
      if (!stopped) fail("the forward finished before the cancel ", after, " s in: use a longer --tokens");
      latency.push_back(t_free - t_cancel);
      cancelled_at.push_back(t_cancel - start);
      std::fprintf(stderr, "cancel run %d: cancelled %.3f s in, compute thread free %.3f s later\n", r, t_cancel - start,
                   t_free - t_cancel);
    }
    nlohmann::json j = layer_times(*model, ids, h.data());  // after the cancels: a full forward
    j["engine"] = "lastrank";
    j["mode"] = "cancel";
    j["precision"] = a.precision;
    j["threads"] = model->threads();
    j["kernel_set"] = model->kernel_set();
    j["tokens"] = n;
    j["cancelled_at_s"] = cancelled_at;
    j["cancel_latency_s"] = latency;
    j["cancel_latency_median_s"] = median(latency);
    j["cancel_latency_max_s"] = *std::max_element(latency.begin(), latency.end());
    j["version"] = LASTRANK_VERSION;
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
  app.add_option("--cancel-after", a.cancel_after,
                 "Measure cancellation (forward mode): cancel each run this many seconds in (+0.37 s per run)")
      ->check(CLI::Range(0.0, 3600.0));
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
    if (!a.request_path.empty()) return bench_rerank(a, eo);
    return a.cancel_after > 0 ? bench_cancel(a, eo) : bench_forward(a, eo);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_e2e: %s\n", e.what());
    return 1;
  }
}
