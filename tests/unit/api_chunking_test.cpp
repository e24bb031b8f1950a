// The chunking rule and the max-over-chunks fold (src/api/chunking.h) with whitespace "tokens":
// cuts, spans in code points, the cap on chunks in all, reject mode, top_n on documents, the
// "chunk" field, and max_chunks_per_doc 1 = plain truncation. The same rule on the real model is
// tests/unit/chunking_model_test.cpp.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <functional>
#include <tuple>

#include "api/chunking.h"
#include "api/request.h"
#include "api/response.h"
#include "api/truncation.h"
#include "word_tokens.h"
#include "api_test_helpers.h"

namespace lastrank::api {
namespace {

using nlohmann::json;

// Whitespace words are tokens; every word ends a piece.
class WordTokens : public TextTokens {
 public:
  size_t count_tokens(std::string_view text, size_t limit) const override {
    return std::min(token_ends(text, SIZE_MAX).size(), limit + 1);
  }
  std::string truncate(std::string_view text, size_t max_tokens, TruncationSide side) const override {
    const auto ends = token_ends(text, SIZE_MAX);
    if (ends.size() <= max_tokens) return std::string(text);
    if (side == TruncationSide::right) return std::string(text.substr(0, ends[max_tokens - 1].byte));
    size_t from = ends[ends.size() - max_tokens - 1].byte;  // after the last dropped word
    while (std::isspace(static_cast<unsigned char>(text[from]))) ++from;
    return std::string(text.substr(from));
  }
  std::vector<TokenEnd> token_ends(std::string_view text, size_t max_tokens) const override {
    return whitespace_token_ends(text, max_tokens);
  }
};

TEST(Chunking, CutsAtTokenBoundariesAndTilesTheText) {
  const WordTokens t;
  const std::string text = "a bb ccc dddd e ff ggg";
  // 7 tokens, 3 per chunk: "a bb ccc" | " dddd e ff" | " ggg"
  auto cuts = chunk_bytes(text, t, 3, 10);
  ASSERT_EQ(cuts.size(), 3u);
  EXPECT_EQ(text.substr(cuts[0].first, cuts[0].second - cuts[0].first), "a bb ccc");
  EXPECT_EQ(text.substr(cuts[1].first, cuts[1].second - cuts[1].first), " dddd e ff");
  EXPECT_EQ(text.substr(cuts[2].first, cuts[2].second - cuts[2].first), " ggg");
  // At most 2 chunks: the rest is cut after its 3rd token (and truncated as any document).
  cuts = chunk_bytes(text, t, 3, 2);
  ASSERT_EQ(cuts.size(), 2u);
  EXPECT_EQ(cuts[1], std::make_pair(size_t(8), size_t(18)));
  // A document within the limit is one chunk: all of it.
  cuts = chunk_bytes("x y", t, 3, 5);
  ASSERT_EQ(cuts.size(), 1u);
  EXPECT_EQ(cuts[0], std::make_pair(size_t(0), size_t(3)));
}

TEST(Chunking, SplitDocumentsPlansSpansInCodePoints) {
  const WordTokens t;
  RerankRequest rr;
  rr.documents = {"short", "éé ü 北京 x y z"};  // 6 tokens; é, ü are 2 bytes, 北京 6 bytes
  rr.top_n = 1;
  const ChunkPlan plan = split_documents(rr, t, {2, 5, 100, 0});
  ASSERT_TRUE(plan.active());
  EXPECT_EQ(plan.chunk_counts, (std::vector<size_t>{1, 3}));
  ASSERT_EQ(rr.documents, (std::vector<std::string>{"short", "éé ü", " 北京 x", " y z"}));
  EXPECT_FALSE(rr.top_n) << "the engine ranks every chunk";
  EXPECT_EQ(plan.top_n, 1u);
  ASSERT_EQ(plan.chunks.size(), 4u);
  EXPECT_EQ(plan.chunks[0].start, 0u);
  EXPECT_EQ(plan.chunks[0].end, 5u);
  // Code points: "éé ü" = [0, 4), " 北京 x" = [4, 9), " y z" = [9, 13).
  EXPECT_EQ(plan.chunks[1].document, 1u);
  EXPECT_EQ(plan.chunks[1].index, 0u);
  EXPECT_EQ(plan.chunks[1].end, 4u);
  EXPECT_EQ(plan.chunks[2].start, 4u);
  EXPECT_EQ(plan.chunks[2].end, 9u);
  EXPECT_EQ(plan.chunks[3].index, 2u);
  EXPECT_EQ(plan.chunks[3].start, 9u);
  EXPECT_EQ(plan.chunks[3].end, 13u);

  RerankRequest unchanged;
  unchanged.documents = {"a b", "c"};
  EXPECT_FALSE(split_documents(unchanged, t, {2, 5, 100, 0}).active());
  EXPECT_EQ(unchanged.documents, (std::vector<std::string>{"a b", "c"}));
}

// An empty document beside one that is chunked stays one chunk, the empty span [0, 0).
TEST(Chunking, AnEmptyDocumentIsOneEmptyChunk) {
  const WordTokens t;
  RerankRequest rr;
  rr.documents = {"", "a b c", "   "};
  const ChunkPlan plan = split_documents(rr, t, {2, 5, 100, 0});
  ASSERT_TRUE(plan.active());
  EXPECT_EQ(plan.chunk_counts, (std::vector<size_t>{1, 2, 1}));
  EXPECT_EQ(rr.documents, (std::vector<std::string>{"", "a b", " c", "   "}));
  ASSERT_EQ(plan.chunks.size(), 4u);
  EXPECT_EQ(plan.chunks[0].document, 0u);
  EXPECT_EQ(plan.chunks[0].start, 0u);
  EXPECT_EQ(plan.chunks[0].end, 0u);
  EXPECT_EQ(plan.chunks[3].start, 0u);
  EXPECT_EQ(plan.chunks[3].end, 3u);
}

TEST(Chunking, CapOnChunksInAllAndRejectMode) {
  const WordTokens t;
  RequestLimits limits;
  limits.max_documents = 4;
  auto req = parse(R"({"query":"q","documents":["a b c d e f","g h i j"],"max_chunks_per_doc":3})", Dialect::jina_v1,
                   limits);
  auto [kind, msg] = error_of([&] { apply_truncation(req, t, {8, 2}, limits); });  // 3 + 2 chunks > 4
  EXPECT_EQ(kind, ErrorKind::too_many_documents);
  EXPECT_EQ(http_status(kind), 422);
  EXPECT_NE(msg.find("documents split into more than 4 chunks in all"), std::string::npos) << msg;

  RequestLimits reject;
  reject.auto_truncate = false;
  auto strict = parse(R"({"query":"q","documents":["a","b c d e f g h"],"max_chunks_per_doc":3})");
  std::tie(kind, msg) = error_of([&] { apply_truncation(strict, t, {8, 2}, reject); });
  EXPECT_EQ(kind, ErrorKind::input_too_long);
  EXPECT_EQ(msg, "documents[1] needs more than 3 chunks of 2 tokens (max_chunks_per_doc; truncation is off)");
  auto fits = parse(R"({"query":"q","documents":["a","b c d e f g"],"max_chunks_per_doc":3})");
  apply_truncation(fits, t, {8, 2}, reject);  // 3 chunks hold all of it: nothing is lost
  EXPECT_EQ(fits.request.documents.size(), 4u);
}

TEST(Chunking, OneChunkIsTruncationAndTheServerDefaultApplies) {
  const WordTokens t;
  const EngineTokenLimits engine{8, 3};
  const std::string body = R"({"query":"q","documents":["a b c d e f g","h"],"max_tokens_per_doc":2})";
  auto plain = parse(body);
  apply_truncation(plain, t, engine, {});
  auto one = parse(R"({"query":"q","documents":["a b c d e f g","h"],"max_tokens_per_doc":2,"max_chunks_per_doc":1})");
  apply_truncation(one, t, engine, {});
  EXPECT_FALSE(one.chunks.active());
  EXPECT_EQ(one.request.documents, plain.request.documents);
  EXPECT_EQ(one.request.documents[0], "a b");

  RequestLimits chunky;
  chunky.max_chunks_per_doc = 4;
  auto by_default = parse(body, Dialect::jina_v1, chunky);
  apply_truncation(by_default, t, engine, chunky);  // chunks of max_tokens_per_doc = 2 tokens
  EXPECT_EQ(by_default.request.documents,
            (std::vector<std::string>{"a b", " c d", " e f", " g", "h"}));
  auto left = parse(R"({"query":"q","texts":["a b c d e f g"],"truncation_direction":"left"})", Dialect::tei, chunky);
  apply_truncation(left, t, engine, chunky);
  EXPECT_FALSE(left.chunks.active()) << "left truncation keeps the end: never chunked";
  EXPECT_EQ(left.request.documents[0], "e f g");
}

TEST(Chunking, FoldTakesTheBestChunkAndAppliesTopNToDocuments) {
  const WordTokens t;
  auto req = parse(R"({"query":"q","documents":["a b c d e","x","y z w v"],"top_n":2,"max_chunks_per_doc":5})");
  apply_truncation(req, t, {8, 2}, {});
  // chunks: doc0 "a b" " c d" " e" | doc1 "x" | doc2 "y z" " w v"
  ASSERT_EQ(req.request.documents.size(), 6u);
  RerankResponse resp;
  const float scores[] = {0.1f, 0.7f, 0.3f, 0.5f, 0.6f, 0.2f};
  for (size_t c = 0; c < 6; ++c) resp.results.push_back({c, scores[c], {float(c)}});
  std::stable_sort(resp.results.begin(), resp.results.end(),
                   [](const RerankItem& a, const RerankItem& b) { return a.relevance_score > b.relevance_score; });
  resp.total_tokens = 42;
  const FoldedResponse f = fold_chunks(req.chunks, resp);
  ASSERT_EQ(f.response.results.size(), 2u);
  EXPECT_EQ(f.response.results[0].index, 0u);
  EXPECT_EQ(f.response.results[0].relevance_score, 0.7f);
  EXPECT_EQ(f.response.results[0].embedding, std::vector<float>{1.f}) << "the best chunk's embedding";
  EXPECT_EQ(f.response.results[1].index, 2u);
  EXPECT_EQ(f.response.results[1].relevance_score, 0.6f);
  EXPECT_EQ(f.best_chunk, (std::vector<size_t>{1, 3, 4}));
  EXPECT_EQ(f.response.total_tokens, 42);

  const json j = make_rerank_response(req, resp, "m", "");
  ASSERT_EQ(j["results"].size(), 2u);
  EXPECT_EQ(j["results"][0]["chunk"], json({{"index", 1}, {"start", 3}, {"end", 7}}));  // " c d"
  EXPECT_EQ(j["results"][1]["chunk"], json({{"index", 0}, {"start", 0}, {"end", 3}}));  // "y z"
  EXPECT_EQ(j["results"][0]["document"], json({{"text", "a b c d e"}}));
  EXPECT_TRUE(j["meta"]["warnings"].empty());

  auto all = parse(R"({"query":"q","documents":["a b c d e","x","y z w v"],"max_chunks_per_doc":5})");
  apply_truncation(all, t, {8, 2}, {});
  const json k = make_rerank_response(all, resp, "m", "");
  ASSERT_EQ(k["results"].size(), 3u);
  EXPECT_EQ(k["results"][2]["index"], 1);
  EXPECT_FALSE(k["results"][2].contains("chunk")) << "a document that was not chunked has no \"chunk\"";

  RerankResponse bad = resp;
  bad.results[0].index = 6;
  EXPECT_EQ(error_of([&] { make_rerank_response(req, bad, "m", ""); }).first, ErrorKind::internal);
}

TEST(Chunking, BadValuesAreRejectedWithTheModulesMessage) {
  for (const char* v : {"0", "-2", "1.5", "\"3\"", "true"}) {
    auto [kind, msg] = error_of([&] {
      parse(std::string(R"({"query":"q","documents":["a"],"max_chunks_per_doc":)") + v + "}");
    });
    EXPECT_EQ(kind, ErrorKind::invalid_field) << v;
    EXPECT_NE(msg.find("\"max_chunks_per_doc\" must be a positive integer"), std::string::npos) << msg;
  }
  RerankArgs a;
  a.query = "q";
  a.documents = {"a"};
  a.max_chunks_per_doc = 0;
  EXPECT_EQ(error_of([&] { validate_rerank_args(a); }).second, "\"max_chunks_per_doc\" must be a positive integer, got 0");
  auto v2 = parse(R"({"query":"q","documents":["a"],"max_chunks_per_doc":3.0})", Dialect::cohere_v2);
  EXPECT_EQ(v2.max_chunks_per_doc, 3u);
  EXPECT_TRUE(v2.warnings.empty());
}

}  // namespace
}  // namespace lastrank::api
