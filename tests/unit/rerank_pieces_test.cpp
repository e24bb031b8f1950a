// Unit tests of the rerank pipeline's pieces that need no model: block planning, the prompt
// template (checked against token counts verified with HF tokenizers, docs/model.md §2),
// sanitizing, scoring math. (Request validation: tests/unit/api_request_test.cpp.)
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "core/error.h"
#include "rerank/blocks.h"
#include "rerank/prompt.h"
#include "rerank/scoring.h"
#include "rerank/truncation.h"
#include "tokenizer/tokenizer.h"
#include "test_paths.h"

using namespace lastrank;

TEST(Blocks, SplitsAt125Documents) {
  std::vector<size_t> lens(300, 10);
  auto b = plan_blocks(lens, 5, 125, 131072, 2048);
  ASSERT_EQ(b.size(), 3u);
  EXPECT_EQ(b[0], std::make_pair(size_t(0), size_t(125)));
  EXPECT_EQ(b[1], std::make_pair(size_t(125), size_t(250)));
  EXPECT_EQ(b[2], std::make_pair(size_t(250), size_t(300)));
}

TEST(Blocks, CapacityRuleClosesAfter63MaxLengthDocs) {
  // docs/model.md §3 step 2: 512-token query, 2048-token docs: 130048 - 63*2048 = 1024 <= 2048.
  std::vector<size_t> lens(64, 2048);
  auto b = plan_blocks(lens, 512, 125, 131072, 2048);
  ASSERT_EQ(b.size(), 2u);
  EXPECT_EQ(b[0].second, 63u);
  EXPECT_EQ(b[1], std::make_pair(size_t(63), size_t(64)));
}

TEST(Blocks, CapacityBoundaryIsInclusive) {
  // capacity after doc i: 100 - 2*10 - sum; closes when <= 20.
  auto b = plan_blocks({30, 30, 5}, 10, 125, 100, 20);
  ASSERT_EQ(b.size(), 2u);  // 80-30=50, 50-30=20 <= 20 -> close after 2 docs
  EXPECT_EQ(b[0].second, 2u);
  auto c = plan_blocks({30, 29, 5}, 10, 125, 100, 20);  // 21 > 20 stays open, then 16 closes
  ASSERT_EQ(c.size(), 1u);
}

TEST(Prompt, SanitizesReadoutTokensInOrder) {
  EXPECT_EQ(sanitize_readout_tokens("a<|rerank_token|>b<|embed_token|>c"), "abc");
  // Removing the rerank token first can create an embed token... and that is then removed.
  EXPECT_EQ(sanitize_readout_tokens("<|embed_<|rerank_token|>token|>x"), "x");
  // The other order would not: "<|rerank_<|embed_token|>token|>" -> "<|rerank_token|>" stays.
  EXPECT_EQ(sanitize_readout_tokens("<|rerank_<|embed_token|>token|>"), "<|rerank_token|>");
  EXPECT_EQ(sanitize_readout_tokens("<|im_end|><|score_token|>"), "<|im_end|><|score_token|>");
}

TEST(Prompt, ExactTemplateText) {
  std::string p = build_block_prompt("q?", {"d0", "d1"}, std::nullopt);
  EXPECT_EQ(p.rfind("<|im_start|>system\nYou are a search relevance expert", 0), 0u);
  EXPECT_NE(p.find("I will provide you with 2 passages, each indicated by a numerical identifier. Rank the passages "
                   "based on their relevance to query: q?\n<passage id=\"0\">\nd0<|embed_token|>\n</passage>\n"
                   "<passage id=\"1\">\nd1<|embed_token|>\n</passage>\n<query>\nq?<|rerank_token|>\n</query>"
                   "<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n"),
            std::string::npos);
  std::string pi = build_block_prompt("q", {"d"}, std::string("be strict <|embed_token|>"));
  EXPECT_NE(pi.find("query: q\n<instruct>\nbe strict <|embed_token|>\n</instruct>\n<passage id=\"0\">"), std::string::npos);
  EXPECT_EQ(build_block_prompt("q", {"d"}, std::string("")), build_block_prompt("q", {"d"}, std::nullopt));
}

// The model's shared prefix (model/shared_prefix.h) is the tokens of block_prompt_prefix(): they
// must start every block prompt's tokens, whatever the document count, query and instruction.
TEST(Prompt, PrefixTokensStartEveryBlockPrompt) {
  EXPECT_EQ(build_block_prompt("q", {"d"}, std::nullopt).rfind(block_prompt_prefix(), 0), 0u);
  const std::string path = std::string(LASTRANK_DEPS_DIR) + "/tokenizer/tokenizer.json";
  if (!std::filesystem::exists(path)) GTEST_SKIP() << "no tokenizer at " << path;
  auto tok = Tokenizer::load_file(path);
  const std::vector<int32_t> prefix = tok->encode(block_prompt_prefix());
  ASSERT_GT(prefix.size(), 80u);
  for (size_t n : {1, 9, 10, 64, 125}) {
    for (const std::optional<std::string>& instruction : {std::optional<std::string>(), std::optional<std::string>("be strict")}) {
      const std::vector<std::string> texts(n, "4 Wörter, 12 Zahlen");
      const std::vector<std::string_view> docs(texts.begin(), texts.end());
      const std::vector<int32_t> ids = tok->encode(build_block_prompt("42 what?", docs, instruction));
      ASSERT_GT(ids.size(), prefix.size());
      EXPECT_TRUE(std::equal(prefix.begin(), prefix.end(), ids.begin())) << n << " documents";
    }
  }
}

TEST(Prompt, TokenCountsMatchHuggingFace) {
  const std::string path = std::string(LASTRANK_DEPS_DIR) + "/tokenizer/tokenizer.json";
  if (!std::filesystem::exists(path)) GTEST_SKIP() << "no tokenizer at " << path;
  auto tok = Tokenizer::load_file(path);
  // N empty documents and query "q": 149 and 162 tokens with the Hugging Face tokenizer.
  EXPECT_EQ(tok->encode(build_block_prompt("q", {""}, std::nullopt)).size(), 149u);
  EXPECT_EQ(tok->encode(build_block_prompt("q", {"", ""}, std::nullopt)).size(), 162u);
  auto ids = tok->encode(build_block_prompt("q", {""}, std::nullopt));
  const std::vector<int32_t> suffix = {151645, 198, 151644, 77091, 198, 151667, 271, 151668, 271};
  EXPECT_TRUE(std::equal(suffix.begin(), suffix.end(), ids.end() - 9));
  EXPECT_EQ(std::count(ids.begin(), ids.end(), 151670), 1);
  EXPECT_EQ(std::count(ids.begin(), ids.end(), 151671), 1);
}

TEST(Scoring, TorchCosineAndPlainCosine) {
  const float a[3] = {1, 2, 3}, b[3] = {-2, 0.5f, 4};
  const double expect = (1 * -2 + 2 * 0.5 + 3 * 4) / (std::sqrt(14.0) * std::sqrt(4 + 0.25 + 16));
  EXPECT_NEAR(cosine_torch(a, b, 3), expect, 1e-6);
  EXPECT_NEAR(cosine_plain(a, b, 3), expect, 1e-6);
  const float z[3] = {0, 0, 0};
  EXPECT_EQ(cosine_torch(a, z, 3), 0.f);  // eps clamp, no NaN
  EXPECT_EQ(cosine_plain(a, z, 3), 0.f);
}

TEST(Scoring, WeightedMergeOfBlockQueries) {
  std::vector<BlockQuery> b(2);
  b[0].query = {1, 0};
  b[0].weight = 0.75f;
  b[1].query = {0, 1};
  b[1].weight = 0.25f;
  auto m = merge_block_queries(b);
  EXPECT_FLOAT_EQ(m[0], 0.75f);
  EXPECT_FLOAT_EQ(m[1], 0.25f);
}

TEST(Truncation, ReferenceRuleBothSides) {
  const std::string path = std::string(LASTRANK_DEPS_DIR) + "/tokenizer/tokenizer.json";
  if (!std::filesystem::exists(path)) GTEST_SKIP() << "no tokenizer at " << path;
  auto tok = Tokenizer::load_file(path);
  const std::string text = "Hello world, this is a test";  // 7 tokens
  const auto ids = tok->encode(text);
  ASSERT_GT(ids.size(), 4u);
  // Fewer tokens than the limit: the text is kept as is (not round-tripped).
  auto same = truncate_text(*tok, text, ids.size() + 1);
  EXPECT_EQ(same.text, text);
  EXPECT_EQ(same.tokens, ids.size());
  // Exactly at the limit: re-decoded (the reference's >=), which gives the same text back here.
  auto exact = truncate_text(*tok, text, ids.size(), TruncationSide::left);
  EXPECT_EQ(exact.text, tok->decode(ids));
  // Over the limit: the first / last 3 ids, decoded.
  auto right = truncate_text(*tok, text, 3);
  EXPECT_EQ(right.tokens, 3u);
  EXPECT_EQ(right.text, tok->decode({ids.begin(), ids.begin() + 3}));
  auto left = truncate_text(*tok, text, 3, TruncationSide::left);
  EXPECT_EQ(left.tokens, 3u);
  EXPECT_EQ(left.text, tok->decode({ids.end() - 3, ids.end()}));
}
