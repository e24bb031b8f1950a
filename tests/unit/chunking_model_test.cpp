// Chunking on a real (tiny) model through the normal API (parse -> run_request -> response), checked
// against a by-hand computation: the chunks, written out by hand as separate documents of an
// ordinary request, are ranked in the same listwise pass; each chunked document's score must be
// the maximum over its chunks, with the same order and the best chunk's span. And
// max_chunks_per_doc 1 must answer bit for bit what a request without it answers. Needs the
// tiny test model with the real tokenizer (ctest fixture generate_test_models); skips without.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

#include "api/request.h"
#include "api/response.h"
#include "api/run.h"
#include "test_paths.h"

namespace lastrank {
namespace {

using nlohmann::json;

const std::string kModel = std::string(LASTRANK_TEST_MODELS) + "/tiny-gqa2";
constexpr size_t kChunkTokens = 8;

class ChunkingModelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(kModel + "/tokenizer.json")) GTEST_SKIP() << "no tiny model with a tokenizer at " << kModel;
    RerankOptions ro;
    ro.max_doc_tokens = kChunkTokens;
    ro.max_query_tokens = 32;
    EngineOptions eo;
    eo.precision = Precision::fp32;
    eo.threads = 1;
    reranker_ = Reranker::load(kModel, eo, ro);
    // Words that are one token alone and after a space: a text of n of them has n tokens and a
    // piece end after each word, so its chunks can be written out by hand (the same words as
    // tests/library/cpp_api_test.cpp's chunking test).
    words_ = {"apple", "banana", "water", "light", "river", "music", "table", "window", "yellow", "orange",
              "silver", "forest", "winter", "summer", "bridge", "castle", "house", "doctor", "market", "planet"};
    for (const auto& w : words_) {
      ASSERT_EQ(reranker_->tokenizer().encode(w).size(), 1u) << w;
      ASSERT_EQ(reranker_->tokenizer().encode(" " + w).size(), 1u) << w;
    }
  }

  // words_[from, from + n) (cycled) joined by spaces, with a leading space unless from == 0.
  std::string words(size_t from, size_t n) const {
    std::string s;
    for (size_t i = from; i < from + n; ++i) s += (i > 0 ? " " : "") + words_[i % words_.size()];
    return s;
  }

  json answer(const json& body) {
    api::ApiRequest req = api::parse_request_text(api::Dialect::jina_v1, body.dump());
    const RerankResponse resp = api::run_request(*reranker_, req, {});
    return api::make_rerank_response(req, resp, "tiny", "");
  }

  std::unique_ptr<Reranker> reranker_;
  std::vector<std::string> words_;
};

TEST_F(ChunkingModelTest, ScoresAreTheMaxOverChunksRankedByHand) {
  // A: 20 words -> 8 + 8 + 4 (all of it); B: short; C: 30 words with at most 3 chunks -> 8 + 8 +
  // the rest (14 words, truncated by the engine to 8, as any document).
  const std::string a = words(0, 20), b = "a short note", c = words(0, 30);
  const std::vector<std::string> chunks = {words(0, 8), words(8, 8), words(16, 4), b,
                                           words(0, 8), words(8, 8), words(16, 14)};
  ASSERT_EQ(chunks[0] + chunks[1] + chunks[2], a);
  ASSERT_EQ(chunks[4] + chunks[5] + chunks[6], c);
  const std::vector<size_t> owner = {0, 0, 0, 1, 2, 2, 2}, number = {0, 1, 2, 0, 0, 1, 2};
  const std::string query = words(3, 3).substr(1);

  const json by_hand = answer({{"query", query}, {"documents", chunks}, {"return_documents", false}});
  std::vector<double> chunk_score(chunks.size());
  for (const auto& r : by_hand["results"]) chunk_score[r["index"].get<size_t>()] = r["relevance_score"].get<double>();

  const json chunked = answer({{"query", query}, {"documents", {a, b, c}}, {"return_documents", false}, {"max_chunks_per_doc", 3}});
  EXPECT_EQ(chunked["usage"], by_hand["usage"]) << "the same prompt: the chunks are the documents of the pass";

  struct Expected {
    size_t doc;
    double score = -2;
    size_t chunk = 0;
  };
  std::vector<Expected> expected = {{0}, {1}, {2}};
  for (size_t k = 0; k < chunks.size(); ++k) {
    Expected& e = expected[owner[k]];
    if (chunk_score[k] > e.score) {
      e.score = chunk_score[k];
      e.chunk = k;
    }
  }
  std::stable_sort(expected.begin(), expected.end(), [](const Expected& x, const Expected& y) { return x.score > y.score; });
  const json& results = chunked["results"];
  ASSERT_EQ(results.size(), 3u) << chunked.dump();
  for (size_t i = 0; i < 3; ++i) {
    SCOPED_TRACE(i);
    const Expected& e = expected[i];
    EXPECT_EQ(results[i]["index"], e.doc);
    EXPECT_EQ(results[i]["relevance_score"].get<double>(), e.score);
    if (e.doc == 1) {
      EXPECT_FALSE(results[i].contains("chunk"));
      continue;
    }
    // The span of the best chunk: where its by-hand text starts in the document (ASCII: code
    // points are bytes); the last chunk of C is what the engine kept of the rest (8 words).
    const size_t start = e.chunk == 0 || e.chunk == 4 ? 0 : number[e.chunk] == 1 ? chunks[e.chunk - 1].size()
                                                          : chunks[e.chunk - 1].size() + chunks[e.chunk - 2].size();
    const size_t len = e.chunk == 6 ? words(16, kChunkTokens).size() : chunks[e.chunk].size();
    EXPECT_EQ(results[i]["chunk"], json({{"index", number[e.chunk]}, {"start", start}, {"end", start + len}}));
  }
}

TEST_F(ChunkingModelTest, OneChunkIsTheReferenceTruncationBitForBit) {
  const json docs = {words(0, 20), "a short note", words(5, 30)};
  const std::string query = words(7, 2).substr(1);
  const json plain = answer({{"query", query}, {"documents", docs}, {"return_embeddings", true}});
  const json one = answer({{"query", query}, {"documents", docs}, {"return_embeddings", true}, {"max_chunks_per_doc", 1}});
  EXPECT_EQ(one.dump(), plain.dump());
  // And a limit every document fits in changes nothing either.
  const json fits = answer({{"query", query}, {"documents", {"a short note", "another one"}}, {"max_chunks_per_doc", 5}});
  const json base = answer({{"query", query}, {"documents", {"a short note", "another one"}}});
  EXPECT_EQ(fits.dump(), base.dump());
}

TEST_F(ChunkingModelTest, TopNCountsDocumentsNotChunks) {
  const json r = answer({{"query", "apple"}, {"documents", {words(0, 20), words(4, 20), "x"}}, {"top_n", 2},
                         {"max_chunks_per_doc", 4}});
  ASSERT_EQ(r["results"].size(), 2u);
  EXPECT_NE(r["results"][0]["index"], r["results"][1]["index"]);
}

}  // namespace
}  // namespace lastrank
