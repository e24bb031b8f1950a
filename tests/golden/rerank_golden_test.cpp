// End-to-end rerank vs the Python port of the reference algorithm over the HF fp32 model
// (tests/data/golden/rerank.json from tools/make_golden.py): block split and prompt token
// counts (total_tokens), final scores, sorted order, top_n and returned embeddings, for the
// fast fp32 kernels, the scalar oracle (small cases) and the bf16 kernels (looser).
#include <gtest/gtest.h>

#include <cstdio>
#include <memory>

#include "backend/cpu/cpu_backend.h"
#include "core/error.h"
#include "golden_util.h"
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

void run_variant(const nlohmann::json& c, const Variant& var) {
  SCOPED_TRACE(var.name);
  const auto& o = c["options"];
  RerankOptions ro;
  ro.max_query_tokens = o["max_query_tokens"];
  ro.max_doc_tokens = o["max_doc_tokens"];
  ro.block_size = o["block_size"];
  ro.max_length = o["max_length"];
  const auto& r = c["request"];
  RerankRequest req;
  req.query = r["query"];
  req.documents = r["documents"].get<std::vector<std::string>>();
  if (r.contains("top_n")) req.top_n = r["top_n"].get<size_t>();
  if (r.contains("instruction")) req.instruction = r["instruction"].get<std::string>();
  req.return_embeddings = r.value("return_embeddings", false);
  const auto& want = c["expected"];
  const auto scores = golden::floats(want["scores"]);
  const auto order = want["order"].get<std::vector<size_t>>();
  const size_t n = req.documents.size();
  ASSERT_EQ(scores.size(), n);

  auto rr = make_reranker(c["model"], var.opt, ro, var.via_load, var.bf16_weights);
  const RerankResponse resp = rr->rerank(req);

  EXPECT_EQ(resp.blocks, want["blocks"].size());
  EXPECT_EQ(resp.total_tokens, want["total_tokens"].get<int64_t>());
  const size_t expect_n = req.top_n ? std::min(*req.top_n, n) : n;
  ASSERT_EQ(resp.results.size(), expect_n);

  double worst = 0, worst_emb = 0;
  for (size_t i = 0; i < resp.results.size(); ++i) {
    const RerankItem& it = resp.results[i];
    ASSERT_LT(it.index, n);
    const double err = std::abs(double(it.relevance_score) - scores[it.index]);
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
  std::printf("  [%s %s] blocks %zu tokens %lld max |score diff| %.3e max embedding rel diff %.3e\n",
              c["name"].get<std::string>().c_str(), var.name, resp.blocks, (long long)resp.total_tokens, worst,
              worst_emb);
}

class RerankGolden : public ::testing::TestWithParam<std::string> {};

TEST_P(RerankGolden, MatchesReference) {
  const auto& g = golden_doc();
  ASSERT_EQ(g["magic"], "lastrank-golden");
  ASSERT_EQ(g["version"], 1);
  const auto& c = find_case(GetParam());
  ASSERT_EQ(c["checkpoint"].get<std::string>(), golden::checkpoint_lines().at(c["model"]))
      << "tests/data/checkpoints.txt changed since the goldens were made: rerun tools/make_golden.py";

  EngineOptions fast32;
  fast32.precision = Precision::fp32;
  fast32.threads = 2;
  EngineOptions oracle = fast32;
  oracle.reference_kernels = true;
  EngineOptions fast16 = fast32;
  fast16.precision = Precision::bf16;
  EngineOptions fast16dot = fast32;
  fast16dot.precision = Precision::bf16;

  run_variant(c, {"fp32-fast", fast32, kFp32ScoreTol, kFp32EmbedTol, GetParam() == "single_block"});
  if (c["expected"]["total_tokens"].get<int64_t>() <= kOracleMaxTokens)
    run_variant(c, {"fp32-reference", oracle, kFp32ScoreTol, kFp32EmbedTol});
  run_variant(c, {"bf16-weights", fast16, kBf16ScoreTol, kBf16EmbedTol, false, true});
  run_variant(c, {"bf16", fast16dot, kBf16ScoreTol, kBf16EmbedTol});
}

INSTANTIATE_TEST_SUITE_P(Cases, RerankGolden, ::testing::ValuesIn(case_names()),
                         [](const ::testing::TestParamInfo<std::string>& i) { return i.param; });

TEST(RerankGoldenFile, HasCases) {
  ASSERT_TRUE(golden_doc().is_object()) << "missing tests/data/golden/rerank.json: run tools/make_golden.py";
  EXPECT_GE(golden_doc()["cases"].size(), 10u);
}

}  // namespace
}  // namespace lastrank
