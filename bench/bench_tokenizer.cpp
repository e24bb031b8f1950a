// Tokenizer benchmark: load time of tokenizer.json and single-thread encode throughput (MB/s)
// over the text written by tools/bench_tokenizer_hf.py (NUL-separated documents), the same
// text HF tokenizers is timed on. Results: bench/results/tokenizer.md.
//   bench_tokenizer [--tokenizer PATH] [--text PATH] [--runs N] [--threads N] [--cache-dir DIR]
// --cache-dir: the loads go through the tokenizer cache in DIR (tokenizer/tokenizer_cache.h); one
// untimed load first writes its file when there is none, so the timed loads are hits.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "core/error.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/tokenizer_cache.h"

using namespace lastrank;
using Clock = std::chrono::steady_clock;

static double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

static double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

int main(int argc, char** argv) {
  std::string tok_path = ".deps/tokenizer/tokenizer.json", text_path = "build/bench_tokenizer.txt", cache_dir;
  int runs = 5, threads = 1;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--tokenizer")) tok_path = argv[i + 1];
    else if (!std::strcmp(argv[i], "--text")) text_path = argv[i + 1];
    else if (!std::strcmp(argv[i], "--runs")) runs = std::max(1, std::atoi(argv[i + 1]));
    else if (!std::strcmp(argv[i], "--threads")) threads = std::max(1, std::atoi(argv[i + 1]));
    else if (!std::strcmp(argv[i], "--cache-dir")) cache_dir = argv[i + 1];
  }
  try {
    std::vector<double> loads;
    std::string statuses;
    auto load = [&] {
      if (cache_dir.empty()) return Tokenizer::load_file(tok_path);
      return load_tokenizer_file(tok_path, cache_dir, [&](const std::string& status, const std::string&) {
        statuses += status + " ";
      });
    };
    std::unique_ptr<Tokenizer> tok;
    if (!cache_dir.empty()) load();
    for (int r = 0; r < 3; ++r) {
      const auto t0 = Clock::now();
      tok = load();
      loads.push_back(seconds_since(t0));
    }
    if (!cache_dir.empty()) std::printf("tokenizer cache: %s\n", statuses.c_str());
    std::ifstream in(text_path, std::ios::binary);
    if (!in) fail("cannot open ", text_path, " (make it: tools/ref_env.sh run python3 tools/bench_tokenizer_hf.py --make-only)");
    std::stringstream ss;
    ss << in.rdbuf();
    const std::string data = ss.str();
    std::vector<std::string_view> docs;
    for (size_t b = 0; b <= data.size();) {
      size_t e = data.find('\0', b);
      if (e == std::string::npos) e = data.size();
      docs.emplace_back(data.data() + b, e - b);
      b = e + 1;
    }
    std::vector<double> times;
    size_t tokens = 0;
    for (int r = 0; r < runs; ++r) {
      std::vector<size_t> counts(static_cast<size_t>(threads), 0);
      const auto t0 = Clock::now();
      std::vector<std::thread> pool;
      for (int t = 0; t < threads; ++t) {
        pool.emplace_back([&, t] {
          for (size_t d = static_cast<size_t>(t); d < docs.size(); d += static_cast<size_t>(threads)) {
            counts[static_cast<size_t>(t)] += tok->encode(docs[d]).size();
          }
        });
      }
      for (auto& th : pool) th.join();
      times.push_back(seconds_since(t0));
      tokens = 0;
      for (size_t c : counts) tokens += c;
    }
    const double med = median(times);
    std::printf("lastrank: %zu docs, %.2f MB, %zu tokens; load %.3f s (median of 3); encode median %.3f s over %d runs "
                "(min %.3f max %.3f) = %.2f MB/s on %d thread(s)\n",
                docs.size(), data.size() / 1e6, tokens, median(loads), med, runs,
                *std::min_element(times.begin(), times.end()), *std::max_element(times.begin(), times.end()),
                data.size() / 1e6 / med, threads);
  } catch (const Error& e) {
    std::fprintf(stderr, "bench_tokenizer: %s\n", e.what());
    return 1;
  }
  return 0;
}
