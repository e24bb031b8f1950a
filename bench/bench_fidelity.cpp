// Score fidelity and determinism of the reduced precisions (issue #4 "done when"): reranks N seeded
// multilingual lists with the full pipeline (Reranker) at --precision fp32 and at each other precision,
// and reports per list the Spearman rank correlation and the max |score difference| against fp32;
// optionally checks that scores are bit-identical run to run and across --threads 1 / N.
// Prints one JSON line per (precision, list) and a summary line per precision; exit 1 if a bound fails.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "backend/precision.h"
#include "core/error.h"
#include "rerank/reranker.h"

namespace lastrank {
namespace {

// Acceptance bounds vs our fp32 path. int8: the bounds (Spearman >= 0.99, max diff <= 0.02).
// bf16: the 2e-3 is stated vs HF fp32; our fp32 is the nearer reference, so this bound is
// the same number and is the stricter reading of it.
constexpr double kMinSpearmanInt8 = 0.99;
constexpr double kMaxDiffInt8 = 0.02;
constexpr double kMinSpearmanBf16 = 0.99;
constexpr double kMaxDiffBf16 = 2e-3;
// The issue states bf16's 2e-3 for "the full-size checkpoint" and sets the outlier checkpoint's
// bounds for int8 only. bf16 (bf16 GEMM and attention operands) measures ~1e-3 on the plain
// checkpoint and up to ~8e-3 on the x40-outlier one, which amplifies any per-element rounding ~10x
// (docs/perf.md): fidelity.sh holds it to int8's bounds there (--bf16-outlier-bounds) and the
// report says so. bf16-weights (internal: exact activations) is held to the bf16 bounds.

// Small word pools, one per language/script; documents mix a main language with a few foreign words.
struct Lang {
  const char* code;
  const char* sep;  // "" for scripts written without spaces
  std::vector<const char*> words;
};

const std::vector<Lang>& languages() {
  static const std::vector<Lang> k = {
      {"en", " ", {"green", "tea", "health", "market", "river", "engine", "search", "model", "quickly", "ancient",
                   "city", "energy", "learning", "water", "price", "history", "protein", "network", "storm", "garden"}},
      {"de", " ", {"Gesundheit", "Wasser", "schnell", "Stadt", "Geschichte", "Straße", "Größe", "Bäume", "Energie",
                   "Forschung", "Brücke", "Wetter", "Übersetzung", "Zucker", "Wissenschaft", "Münze"}},
      {"es", " ", {"salud", "té", "verde", "ciudad", "río", "historia", "energía", "búsqueda", "niño", "mañana",
                   "antioxidantes", "corazón", "mercado", "aprendizaje", "canción"}},
      {"fr", " ", {"santé", "thé", "marché", "rivière", "énergie", "château", "forêt", "apprentissage", "été",
                   "garçon", "œuvre", "cœur", "recherche", "réseau"}},
      {"ru", " ", {"здоровье", "чай", "рынок", "река", "энергия", "история", "город", "поиск", "модель", "вода",
                   "сердце", "наука", "быстро"}},
      {"zh", "", {"绿茶", "健康", "市场", "河流", "能源", "历史", "城市", "搜索", "模型", "学习", "心脏", "科学", "价格",
                  "儿茶素", "天气"}},
      {"ja", "", {"緑茶", "健康", "市場", "川", "エネルギー", "歴史", "都市", "検索", "モデル", "学習", "カテキン", "です",
                  "ます", "ために"}},
      {"ar", " ", {"الصحة", "الشاي", "الأخضر", "السوق", "النهر", "الطاقة", "التاريخ", "المدينة", "البحث", "الماء"}},
      {"hi", " ", {"स्वास्थ्य", "चाय", "बाज़ार", "नदी", "ऊर्जा", "इतिहास", "शहर", "खोज", "पानी", "विज्ञान"}},
      {"ko", " ", {"건강", "녹차", "시장", "강", "에너지", "역사", "도시", "검색", "모델", "학습", "과학"}},
      {"code", " ", {"def", "return", "x[i]", "==", "{\"k\":", "1e-6;", "std::vector<int>", "λ", "∑", "😀", "\\n",
                     "<tag>", "#42", "3.14159"}},
  };
  return k;
}

std::string make_text(std::mt19937_64& rng, size_t words) {
  const auto& langs = languages();
  const Lang& main = langs[rng() % langs.size()];
  std::string s;
  for (size_t i = 0; i < words; ++i) {
    const Lang& l = (rng() % 8 == 0) ? langs[rng() % langs.size()] : main;  // some code-switching
    if (i && (l.sep[0] || main.sep[0])) s += " ";
    s += l.words[rng() % l.words.size()];
    if (rng() % 11 == 0) s += (main.sep[0] ? "." : "。");
  }
  return s;
}

struct ListSpec {
  size_t min_docs = 8, max_docs = 24, min_words = 10, max_words = 80;
};

std::vector<RerankRequest> make_lists(size_t n, uint64_t seed, const ListSpec& sp) {
  std::vector<RerankRequest> lists;
  std::mt19937_64 rng(seed);
  for (size_t i = 0; i < n; ++i) {
    RerankRequest r;
    r.query = make_text(rng, 3 + rng() % 10);
    const size_t docs = sp.min_docs + rng() % (sp.max_docs - sp.min_docs + 1);
    for (size_t d = 0; d < docs; ++d) r.documents.push_back(make_text(rng, sp.min_words + rng() % (sp.max_words - sp.min_words + 1)));
    lists.push_back(std::move(r));
  }
  return lists;
}

// Scores in document order (index i = documents[i]).
std::vector<float> scores_by_index(const RerankResponse& resp, size_t docs) {
  std::vector<float> s(docs, NAN);
  for (const auto& it : resp.results) s.at(it.index) = it.relevance_score;
  return s;
}

std::vector<double> average_ranks(const std::vector<float>& v) {
  std::vector<size_t> idx(v.size());
  for (size_t i = 0; i < idx.size(); ++i) idx[i] = i;
  std::sort(idx.begin(), idx.end(), [&](size_t a, size_t b) { return v[a] < v[b]; });
  std::vector<double> r(v.size());
  for (size_t i = 0; i < idx.size();) {
    size_t j = i;
    while (j + 1 < idx.size() && v[idx[j + 1]] == v[idx[i]]) ++j;
    for (size_t k = i; k <= j; ++k) r[idx[k]] = 0.5 * double(i + j) + 1.0;
    i = j + 1;
  }
  return r;
}

// Spearman's rho = Pearson correlation of the average ranks (handles ties).
double spearman(const std::vector<float>& a, const std::vector<float>& b) {
  const auto ra = average_ranks(a), rb = average_ranks(b);
  const double n = double(ra.size());
  double ma = 0, mb = 0;
  for (size_t i = 0; i < ra.size(); ++i) ma += ra[i] / n, mb += rb[i] / n;
  double sab = 0, saa = 0, sbb = 0;
  for (size_t i = 0; i < ra.size(); ++i) {
    sab += (ra[i] - ma) * (rb[i] - mb);
    saa += (ra[i] - ma) * (ra[i] - ma);
    sbb += (rb[i] - mb) * (rb[i] - mb);
  }
  return saa > 0 && sbb > 0 ? sab / std::sqrt(saa * sbb) : (saa == sbb ? 1.0 : 0.0);
}


struct Args {
  std::string model_dir;
  std::vector<std::string> precisions{"bf16", "int8"};
  size_t lists = 10, determinism_lists = 2;
  uint64_t seed = 20251125;
  int threads = 2;
  ListSpec spec;
  std::string ref_cache;  // optional file with the fp32 scores of the same lists (iteration speed-up)
  bool bf16_outlier_bounds = false;  // bf16 held to int8's bounds (the outlier checkpoint)
};

std::vector<std::vector<float>> run_lists(Reranker& rr, const std::vector<RerankRequest>& lists, size_t count,
                                          int64_t* tokens) {
  std::vector<std::vector<float>> out;
  for (size_t i = 0; i < count && i < lists.size(); ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    const auto resp = rr.rerank(lists[i]);
    if (tokens) *tokens += resp.total_tokens;
    std::fprintf(stderr, "  list %zu: %zu docs, %lld tokens, %.2f s\n", i, lists[i].documents.size(),
                 (long long)resp.total_tokens,
                 std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    out.push_back(scores_by_index(resp, lists[i].documents.size()));
  }
  return out;
}

bool bit_equal(const std::vector<std::vector<float>>& a, const std::vector<std::vector<float>>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (a[i].size() != b[i].size() || std::memcmp(a[i].data(), b[i].data(), a[i].size() * sizeof(float)) != 0)
      return false;
  return true;
}

int run(const Args& a) {
  const auto lists = make_lists(a.lists, a.seed, a.spec);
  bool ok = true;
  auto load = [&](const std::string& p, int threads) {
    EngineOptions eo;
    eo.precision = parse_precision(p);
    eo.threads = threads;
    return Reranker::load(a.model_dir, eo);
  };
  // Determinism: a second pass in the same process, and a fresh engine with 1 thread.
  auto determinism = [&](const std::string& p, Reranker& rr, const std::vector<std::vector<float>>& first) {
    if (a.determinism_lists == 0) return;
    const size_t k = std::min(a.determinism_lists, lists.size());
    std::vector<std::vector<float>> head(first.begin(), first.begin() + long(k));
    const bool repeat_ok = bit_equal(head, run_lists(rr, lists, k, nullptr));
    auto rr1 = load(p, 1);
    const bool threads_ok = bit_equal(head, run_lists(*rr1, lists, k, nullptr));
    ok = ok && repeat_ok && threads_ok;
    nlohmann::json j{{"precision", p}, {"determinism_lists", k}, {"run_to_run_identical", repeat_ok},
                     {"threads_1_vs_" + std::to_string(a.threads) + "_identical", threads_ok}};
    std::printf("%s\n", j.dump().c_str());
    std::fflush(stdout);
  };

  int64_t tokens = 0;
  // The fp32 reference depends only on the model and the lists; --ref-cache reuses it across runs
  // (keyed by model dir, seed, list count and list spec; the determinism check needs a fresh run).
  const std::string cache_key = a.model_dir + "|" + std::to_string(a.seed) + "|" + std::to_string(a.lists) + "|" +
                                std::to_string(a.spec.min_docs) + "," + std::to_string(a.spec.max_docs) + "," +
                                std::to_string(a.spec.min_words) + "," + std::to_string(a.spec.max_words);
  std::vector<std::vector<float>> ref;
  if (!a.ref_cache.empty() && a.determinism_lists == 0) {
    std::ifstream in(a.ref_cache);
    if (in) {
      const auto j = nlohmann::json::parse(in, nullptr, false);
      if (!j.is_discarded() && j.value("key", "") == cache_key) {
        ref = j.at("scores").get<std::vector<std::vector<float>>>();
        tokens = j.at("tokens").get<int64_t>();
        std::fprintf(stderr, "fp32 reference read from %s\n", a.ref_cache.c_str());
      }
    }
  }
  if (ref.empty()) {
    auto ref_rr = load("fp32", a.threads);
    ref = run_lists(*ref_rr, lists, lists.size(), &tokens);
    determinism("fp32", *ref_rr, ref);
    if (!a.ref_cache.empty()) std::ofstream(a.ref_cache) << nlohmann::json{{"key", cache_key}, {"tokens", tokens}, {"scores", ref}}.dump() << "\n";
  }
  std::fprintf(stderr, "fp32 reference: %zu lists, %lld tokens\n", lists.size(), (long long)tokens);

  for (const auto& p : a.precisions) {
    if (p == "fp32") continue;
    const bool bf16_bounds = p != "int8" && !(p == "bf16" && a.bf16_outlier_bounds);
    const double min_rho = bf16_bounds ? kMinSpearmanBf16 : kMinSpearmanInt8;
    const double max_diff_bound = bf16_bounds ? kMaxDiffBf16 : kMaxDiffInt8;
    std::fprintf(stderr, "%s:\n", p.c_str());
    auto rr = load(p, a.threads);
    const auto got = run_lists(*rr, lists, lists.size(), nullptr);
    double worst_rho = 1.0, worst_diff = 0.0, min_range = INFINITY;
    for (size_t i = 0; i < lists.size(); ++i) {
      const double rho = spearman(ref[i], got[i]);
      double diff = 0.0;
      for (size_t d = 0; d < ref[i].size(); ++d) diff = std::max(diff, double(std::fabs(ref[i][d] - got[i][d])));
      if (std::isnan(diff) || std::isnan(rho)) diff = INFINITY;
      worst_rho = std::min(worst_rho, rho);
      worst_diff = std::max(worst_diff, diff);
      // Spread of the fp32 scores: rank agreement is only meaningful relative to it.
      const auto [lo, hi] = std::minmax_element(ref[i].begin(), ref[i].end());
      min_range = std::min(min_range, double(*hi - *lo));
      nlohmann::json j{{"precision", p}, {"list", i}, {"documents", ref[i].size()}, {"spearman", rho},
                       {"max_abs_diff", diff}, {"fp32_score_range", *hi - *lo}};
      std::printf("%s\n", j.dump().c_str());
    }
    const bool pass = worst_rho >= min_rho && worst_diff <= max_diff_bound;
    ok = ok && pass;
    nlohmann::json s{{"precision", p},          {"summary", true},       {"lists", lists.size()},
                     {"tokens", tokens},        {"min_spearman", worst_rho}, {"max_abs_diff", worst_diff},
                     {"min_fp32_score_range", min_range},
                     {"bound_spearman", min_rho}, {"bound_max_abs_diff", max_diff_bound}, {"pass", pass}};
    std::printf("%s\n", s.dump().c_str());
    std::fflush(stdout);
    determinism(p, *rr, got);
  }
  return ok ? 0 : 1;
}

}  // namespace
}  // namespace lastrank

int main(int argc, char** argv) {
  using namespace lastrank;
  CLI::App app{"bench_fidelity: reduced-precision scores vs fp32 on seeded multilingual lists, and determinism"};
  Args a;
  app.add_option("--model,-m", a.model_dir, "Model directory")->required();
  app.add_option("--precisions", a.precisions, "Precisions compared with fp32")->delimiter(',');
  app.add_option("--lists", a.lists, "Number of lists")->check(CLI::Range(1, 10000));
  app.add_option("--determinism-lists", a.determinism_lists, "Lists rerun for the determinism checks (0 = skip)");
  app.add_option("--seed", a.seed, "Seed of the generated lists");
  app.add_option("--threads,-t", a.threads, "Compute threads (the determinism check compares with 1)")
      ->check(CLI::Range(1, 1024));
  app.add_flag("--bf16-outlier-bounds", a.bf16_outlier_bounds,
               "Hold bf16 to int8's bounds (0.99 / 0.02) instead of 2e-3: for the outlier checkpoint");
  app.add_option("--ref-cache", a.ref_cache, "File caching the fp32 reference scores (used when --determinism-lists 0)");
  app.add_option("--min-docs", a.spec.min_docs)->check(CLI::Range(2, 10000));
  app.add_option("--max-docs", a.spec.max_docs)->check(CLI::Range(2, 10000));
  app.add_option("--min-words", a.spec.min_words)->check(CLI::Range(1, 100000));
  app.add_option("--max-words", a.spec.max_words)->check(CLI::Range(1, 100000));
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  if (a.spec.max_docs < a.spec.min_docs || a.spec.max_words < a.spec.min_words) {
    std::fprintf(stderr, "bench_fidelity: --max-docs/--max-words must be >= their --min-*\n");
    return 2;
  }
  try {
    return run(a);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_fidelity: %s\n", e.what());
    return 1;
  }
}
