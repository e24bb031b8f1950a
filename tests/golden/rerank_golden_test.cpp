// End-to-end rerank vs the Python port of the reference algorithm over the HF fp32 model
// (tests/data/golden/rerank.json from tools/make_golden.py): block split and prompt token
// counts (total_tokens), final scores, sorted order, top_n and returned embeddings, for the
// fast fp32 kernels, the scalar oracle (small cases) and the bf16 kernels (looser), on every
// kernel set this CPU runs; and the `lastrank` binary's response JSON on the same cases.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <tuple>

#include "backend/cpu/cpu_backend.h"
#include "core/error.h"
#include "golden_util.h"
#include "../unit/kernel_set_fixture.h"
#include "model/config.h"
#include "model/weights.h"
#include "rerank/reranker.h"

namespace lastrank {
namespace {

// fp32 paths: forward matches HF to ~1e-6 relative (forward_golden_test); cosines of 16-24-d
// projected vectors then differ by far less than this bound, which the lead set for fp32.
constexpr double kFp32ScoreTol = 1e-4;
// Embeddings: scale-normalized max error of the projected doc vectors (fp32).
constexpr double kFp32EmbedTol = 1e-4;
// bf16-weights rounds the (mostly f32) tiny checkpoints' weights to bf16; bf16 (the default mode)
// rounds the GEMM and attention operands too. Measured worst on these cases (2026-11-26, AVX512_BF16):
// score 4.2e-4 (bf16-weights) and 1.43e-3 (bf16), embedding rel 1.9e-3. The bf16 bound is
// 2e-3 vs HF fp32 on the full-size checkpoint; these leave ~3.5x / ~5x margin over the measured
// worst (they were 3e-2 / 5e-2, loose enough to hide a real regression).
constexpr double kBf16ScoreTol = 5e-3;
constexpr double kBf16EmbedTol = 1e-2;
// int8 with every layer int8 (int8_leading_layers = 0; the fixtures have 2-3 layers, fewer than
// the mode's bf16 lead-in), on every kernel set: the int8 kernels differ per set (6-bit weights
// on avx2, 7-bit with VNNI). Measured worst on these cases (2026-11-30, Zen 5, all six x86 sets):
// score 5.3e-3 (avx2, x86_64, avx512; 5.0e-3 with VNNI), embedding rel 7.0e-3; bounds ~3x that.
constexpr double kInt8ScoreTol = 1.5e-2;
constexpr double kInt8EmbedTol = 2e-2;
// The scalar oracle runs O(L^2) double attention; keep it to the small cases.
constexpr int64_t kOracleMaxTokens = 1200;

const nlohmann::json& golden_doc() {
  static const nlohmann::json g = golden::read_golden("rerank.json");
  return g;
}

std::vector<std::string> case_names() {
  std::vector<std::string> names;
  const auto& g = golden_doc();
  if (g.is_object())
    for (const auto& c : g["cases"]) names.push_back(c["name"]);
  return names;
}

const nlohmann::json& find_case(const std::string& name) {
  for (const auto& c : golden_doc()["cases"])
    if (c["name"] == name) return c;
  throw Error("no golden case " + name);
}

// tokenizer.json parsing dominates a tiny model's load time (and ASan multiplies it): load each
// model's tokenizer once and hand every Reranker a forwarding view of it.
class SharedTokenizer final : public Tokenizer {
 public:
  explicit SharedTokenizer(std::shared_ptr<const Tokenizer> t) : t_(std::move(t)) {}
  std::vector<int32_t> encode(std::string_view text) const override { return t_->encode(text); }
  std::string decode(const std::vector<int32_t>& ids) const override { return t_->decode(ids); }
  std::optional<int32_t> token_to_id(std::string_view token) const override { return t_->token_to_id(token); }
  std::optional<std::string> id_to_token(int32_t id) const override { return t_->id_to_token(id); }
  int32_t vocab_size() const override { return t_->vocab_size(); }
  std::vector<int32_t> encode_truncated(std::string_view text, size_t max_tokens) const override {
    return t_->encode_truncated(text, max_tokens);
  }

 private:
  std::shared_ptr<const Tokenizer> t_;
};

// bf16_weights: the bf16 precision as on a CPU without AVX512_BF16 (cpu_backend.h).
std::unique_ptr<Reranker> make_reranker(const std::string& model, const EngineOptions& opt, const RerankOptions& ro,
                                        bool via_load, bool bf16_weights) {
  const std::string dir = golden::model_dir(model);
  if (via_load) return Reranker::load(dir, opt, ro);
  // Keyed by content: the fixture models all carry copies of the same tokenizer.json.
  static std::map<std::string, std::shared_ptr<const Tokenizer>> cache;
  const std::string text = golden::read_text(dir + "/tokenizer.json");
  auto& tok = cache[text];
  if (!tok) tok = Tokenizer::load_json(text);
  ModelConfig cfg = load_model_config(dir + "/config.json");
  ModelWeights w = load_model_weights(dir, cfg);
  cpu::CpuBackendOptions b;
  b.threads = opt.threads;
  b.reference = opt.reference_kernels;
  b.bf16_dot = !bf16_weights;
  return std::make_unique<Reranker>(
      std::make_unique<SharedTokenizer>(tok),
      std::make_unique<Qwen3Model>(std::move(cfg), std::move(w), opt, cpu::make_cpu_backend(b)), ro);
}

struct Variant {
  const char* name;
  EngineOptions opt;
  double score_tol, embed_tol;
  bool via_load = false;  // exercise Reranker::load (reads the tokenizer again)
  bool bf16_weights = false;
};

RerankOptions options_of(const nlohmann::json& c) {
  const auto& o = c["options"];
  RerankOptions ro;
  ro.max_query_tokens = o["max_query_tokens"];
  ro.max_doc_tokens = o["max_doc_tokens"];
  ro.block_size = o["block_size"];
  ro.max_length = o["max_length"];
  return ro;
}

RerankRequest request_of(const nlohmann::json& c) {
  const auto& r = c["request"];
  RerankRequest req;
  req.query = r["query"];
  req.documents = r["documents"].get<std::vector<std::string>>();
  if (r.contains("top_n")) req.top_n = r["top_n"].get<size_t>();
  if (r.contains("instruction")) req.instruction = r["instruction"].get<std::string>();
  req.return_embeddings = r.value("return_embeddings", false);
  return req;
}

// One ranked result, from the library (RerankItem) or from the CLI's response JSON.
struct Ranked {
  size_t index;
  double score;
  std::vector<float> embedding;
};

// The golden rule for one variant's ranked results: every score within score_tol of the reference,
// the order the reference's (up to ties within the tolerance), top_n, and the embeddings.
// `where`: what computed them, for the report line (the kernel set, or the binary).
void check_ranked(const nlohmann::json& c, const Variant& var, const std::string& where, int64_t total_tokens,
                  const std::vector<Ranked>& got) {
  const RerankRequest req = request_of(c);
  const auto& want = c["expected"];
  const auto scores = golden::floats(want["scores"]);
  const auto order = want["order"].get<std::vector<size_t>>();
  const size_t n = req.documents.size();
  ASSERT_EQ(scores.size(), n);
  EXPECT_EQ(total_tokens, want["total_tokens"].get<int64_t>());
  const size_t expect_n = req.top_n ? std::min(*req.top_n, n) : n;
  ASSERT_EQ(got.size(), expect_n);

  double worst = 0, worst_emb = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    const Ranked& it = got[i];
    ASSERT_LT(it.index, n);
    const double err = std::abs(it.score - scores[it.index]);
    worst = std::max(worst, err);
    EXPECT_LE(err, var.score_tol) << "document " << it.index;
    // Order: position i holds the golden i-th best document, or one whose golden score ties it
    // within the tolerance (ties may legitimately swap).
    EXPECT_LE(std::abs(double(scores[it.index]) - scores[order[i]]), var.score_tol)
        << "rank " << i << ": got document " << it.index << ", golden has " << order[i];
    if (req.return_embeddings) {
      const auto& m = want["embeddings"];
      const int64_t dim = m["shape"][1];
      ASSERT_EQ(int64_t(it.embedding.size()), dim);
      const auto all = golden::floats(m["data"]);
      std::vector<float> row(all.begin() + int64_t(it.index) * dim, all.begin() + int64_t(it.index + 1) * dim);
      const golden::Diff d = golden::diff(it.embedding.data(), row);
      worst_emb = std::max(worst_emb, d.max_rel);
      EXPECT_LE(d.max_rel, var.embed_tol) << "embedding of document " << it.index;
    } else {
      EXPECT_TRUE(it.embedding.empty());
    }
  }
  std::printf("  [%s %s %s] tokens %lld max |score diff| %.3e max embedding rel diff %.3e\n",
              c["name"].get<std::string>().c_str(), var.name, where.c_str(),
              (long long)total_tokens, worst, worst_emb);
}

void run_variant(const nlohmann::json& c, const Variant& var) {
  SCOPED_TRACE(var.name);
  auto rr = make_reranker(c["model"], var.opt, options_of(c), var.via_load, var.bf16_weights);
  const RerankResponse resp = rr->rerank(request_of(c));
  EXPECT_EQ(resp.blocks, c["expected"]["blocks"].size());
  std::vector<Ranked> got;
  for (const RerankItem& it : resp.results) got.push_back({it.index, double(it.relevance_score), it.embedding});
  check_ranked(c, var, cpu::kernel_set_name(cpu::active_kernel_set()), resp.total_tokens, got);
}

// The relevance scores of case c under opt, in result order.
std::vector<float> scores_of(const nlohmann::json& c, const EngineOptions& opt) {
  const RerankResponse resp = make_reranker(c["model"], opt, options_of(c), false, false)->rerank(request_of(c));
  std::vector<float> s;
  for (const RerankItem& it : resp.results) s.push_back(it.relevance_score);
  return s;
}

// The variants run on kernel set `set` (the param's last element): all of them on the set this CPU
// picks by default; the fast fp32, bf16 and int8 paths on every other set (the scalar oracle does
// not depend on the set, bf16-weights is the bf16 path without AVX512_BF16).
class RerankGolden : public cpu::KernelSetTest<std::tuple<std::string, cpu::KernelSet>> {};

TEST_P(RerankGolden, MatchesReference) {
  const auto& g = golden_doc();
  ASSERT_EQ(g["magic"], "lastrank-golden");
  ASSERT_EQ(g["version"], 1);
  const std::string name = std::get<0>(GetParam());
  const auto& c = find_case(name);
  ASSERT_EQ(c["checkpoint"].get<std::string>(), golden::checkpoint_lines().at(c["model"]))
      << "tests/data/checkpoints.txt changed since the goldens were made: rerun tools/make_golden.py";
  const bool default_set = std::get<1>(GetParam()) == cpu::supported_kernel_sets().back();

  EngineOptions fast32;
  fast32.precision = Precision::fp32;
  fast32.threads = 2;
  EngineOptions oracle = fast32;
  oracle.reference_kernels = true;
  EngineOptions fast16 = fast32;
  fast16.precision = Precision::bf16;
  EngineOptions fast16dot = fast32;
  fast16dot.precision = Precision::bf16;

  run_variant(c, {"fp32-fast", fast32, kFp32ScoreTol, kFp32EmbedTol, default_set && name == "single_block"});
  if (default_set && c["expected"]["total_tokens"].get<int64_t>() <= kOracleMaxTokens)
    run_variant(c, {"fp32-reference", oracle, kFp32ScoreTol, kFp32EmbedTol});
  if (default_set) run_variant(c, {"bf16-weights", fast16, kBf16ScoreTol, kBf16EmbedTol, false, true});
  run_variant(c, {"bf16", fast16dot, kBf16ScoreTol, kBf16EmbedTol});
  EngineOptions fast8 = fast32;
  fast8.precision = Precision::int8;
  fast8.int8_leading_layers = 0;
  run_variant(c, {"int8", fast8, kInt8ScoreTol, kInt8EmbedTol});
  EngineOptions one8 = fast8;
  one8.threads = 1;
  EXPECT_EQ(scores_of(c, one8), scores_of(c, fast8)) << "int8 scores differ between 1 and 2 threads";
}

INSTANTIATE_TEST_SUITE_P(Cases, RerankGolden, ::testing::Combine(::testing::ValuesIn(case_names()), cpu::all_kernel_sets()),
                         [](const auto& i) {
                           return std::get<0>(i.param) + "_" + cpu::kernel_set_name(std::get<1>(i.param));
                         });

// The `lastrank` binary (LASTRANK_CLI) on the small cases its flags can express, for fp32 and the default
// bf16: its response JSON must meet the same rule. LASTRANK_GOLDEN_RUNNER, when set, is a command
// prefix it runs under (tests/cli/qemu_golden.sh: "qemu-x86_64-static -cpu Haswell"); the binary
// picks its kernel set itself there (or from LASTRANK_ISA).
class RerankGoldenCli : public ::testing::TestWithParam<std::string> {};

std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (char ch : s) {
    if (ch == '\'') q += "'\\''";
    else q += ch;
  }
  q += '\'';
  return q;
}

TEST_P(RerankGoldenCli, MatchesReference) {
#ifndef LASTRANK_CLI
  GTEST_SKIP() << "no lastrank binary in this build (LASTRANK_CLI undefined)";
#else
  const auto& c = find_case(GetParam());
  const RerankOptions ro = options_of(c), defaults;
  if (ro.block_size != defaults.block_size || ro.max_length != 131072)
    GTEST_SKIP() << "block_size / max_length are not lastrank rerank flags";
  if (c["expected"]["total_tokens"].get<int64_t>() > kOracleMaxTokens) GTEST_SKIP() << "small cases only";
  if (c["request"]["query"].get<std::string>().empty()) GTEST_SKIP() << "a Jina request needs a non-empty query";
  const std::string req_path = std::string(LASTRANK_BINARY_DIR) + "/golden_cli_" + GetParam() + ".json";
  std::ofstream(req_path) << c["request"].dump();
  const char* runner = std::getenv("LASTRANK_GOLDEN_RUNNER");
  for (const char* precision : {"fp32", "bf16"}) {
    const std::string cmd = cat(runner ? runner : "", " ", shell_quote(LASTRANK_CLI), " rerank --model ",
                                shell_quote(golden::model_dir(c["model"])), " --input ", shell_quote(req_path),
                                " --threads 2 --precision ", precision, " --max-query-tokens ", ro.max_query_tokens,
                                " --max-doc-tokens ", ro.max_doc_tokens);
    std::string out;
    FILE* p = popen(cmd.c_str(), "r");
    ASSERT_NE(p, nullptr) << cmd;
    char buf[4096];
    for (size_t got; (got = std::fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, got);
    ASSERT_EQ(pclose(p), 0) << cmd;
    const nlohmann::json j = nlohmann::json::parse(out);
    std::vector<Ranked> ranked;
    for (const auto& r : j["results"])
      ranked.push_back({r["index"].get<size_t>(), r["relevance_score"].get<double>(),
                        r.contains("embedding") ? r["embedding"].get<std::vector<float>>() : std::vector<float>{}});
    const bool fp32 = std::string(precision) == "fp32";
    check_ranked(c, {fp32 ? "cli-fp32" : "cli-bf16", EngineOptions{}, fp32 ? kFp32ScoreTol : kBf16ScoreTol,
                     fp32 ? kFp32EmbedTol : kBf16EmbedTol},
                 runner ? runner : "lastrank", j["usage"]["total_tokens"].get<int64_t>(), ranked);
  }
  std::remove(req_path.c_str());
#endif
}

INSTANTIATE_TEST_SUITE_P(Cases, RerankGoldenCli, ::testing::ValuesIn(case_names()),
                         [](const ::testing::TestParamInfo<std::string>& i) { return i.param; });

TEST(RerankGoldenFile, HasCases) {
  ASSERT_TRUE(golden_doc().is_object()) << "missing tests/data/golden/rerank.json: run tools/make_golden.py";
  EXPECT_GE(golden_doc()["cases"].size(), 10u);
}

}  // namespace
}  // namespace lastrank
