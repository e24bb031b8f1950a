// The C++ API (include/lastrank/lastrank.hpp) through liblastrank.so: error codes, option checks,
// per-call truncation limits, moved-from objects, and the ranking's invariants.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "lastrank/lastrank.hpp"
#include "test_paths.h"

namespace {

const std::string kModel = std::string(LASTRANK_TEST_MODELS) + "/tiny-gqa2";

const lastrank::Reranker& model() {
  static const lastrank::Reranker m = [] {
    lastrank::Options o;
    o.precision = "fp32";
    o.threads = 2;
    return lastrank::Reranker::load(kModel, o);
  }();
  return m;
}

template <class F>
void expect_error(F&& f, lastrank::Error::Code code, const std::string& fragment) {
  try {
    f();
    ADD_FAILURE() << "expected a lastrank::Error containing " << fragment;
  } catch (const lastrank::Error& e) {
    EXPECT_EQ(e.code(), code) << lastrank::code_name(e.code()) << ": " << e.what();
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
  }
}

TEST(CppApi, OptionsAreChecked) {
  lastrank::Options o;
  EXPECT_NO_THROW(lastrank::check_options(o));
  o.precision = "int4";
  expect_error([&] { lastrank::check_options(o); }, lastrank::Error::Code::invalid_argument, "not \"int4\"");
  expect_error([&] { lastrank::Reranker::load(kModel, o); }, lastrank::Error::Code::invalid_argument, "not \"int4\"");
  o.precision = "int8";
  o.max_doc_length = 0;
  expect_error([&] { lastrank::check_options(o); }, lastrank::Error::Code::invalid_argument,
               "max_doc_length must be at least 1");
}

TEST(CppApi, ModelErrorsNameTheFile) {
  expect_error([] { lastrank::Reranker::load("/nonexistent"); }, lastrank::Error::Code::model, "/nonexistent");
  expect_error([] { lastrank::Reranker::load(std::string(LASTRANK_SOURCE_DIR) + "/tests"); }, lastrank::Error::Code::model,
               "config.json");
  EXPECT_STREQ(lastrank::code_name(lastrank::Error::Code::model), "model");
}

TEST(CppApi, RankingIsConsistent) {
  const std::vector<std::string> docs = {"alpha beta", "gamma", "delta epsilon zeta", "eta"};
  lastrank::RerankParams p;
  p.top_n = 3;
  p.return_embeddings = true;
  const lastrank::Ranking r = model().rerank("beta", docs, p);
  ASSERT_EQ(r.scores.size(), docs.size());
  ASSERT_EQ(r.order.size(), 3u);
  ASSERT_EQ(r.embedding_dim, 24u);
  ASSERT_EQ(r.embeddings.size(), docs.size() * r.embedding_dim);
  const size_t best = size_t(std::max_element(r.scores.begin(), r.scores.end()) - r.scores.begin());
  EXPECT_EQ(r.order[0], best);
  for (size_t i = 1; i < r.order.size(); ++i) EXPECT_GE(r.scores[r.order[i - 1]], r.scores[r.order[i]]);
  for (float s : r.scores) {
    EXPECT_GE(s, -1.f);
    EXPECT_LE(s, 1.f);
  }
}

TEST(CppApi, PerCallLengthsTruncate) {
  const std::vector<std::string> docs = {std::string(300, 'a') + " end", "short"};
  const lastrank::Ranking full = model().rerank("query words here", docs);
  lastrank::RerankParams p;
  p.max_doc_length = 4;
  p.max_query_length = 2;
  const lastrank::Ranking cut = model().rerank("query words here", docs, p);
  EXPECT_LT(cut.total_tokens, full.total_tokens);
  // The load-time limits apply again on the next call.
  EXPECT_EQ(model().rerank("query words here", docs).total_tokens, full.total_tokens);
  p.max_doc_length = 0;
  expect_error([&] { model().rerank("q", docs, p); }, lastrank::Error::Code::invalid_argument,
               "max_doc_length must be at least 1");
}

// Chunking (docs/library.md): a document over max_doc_length scores as its best chunk, the
// chunks ranked in the same pass as if they were documents. The words are one token each
// (tests/unit/chunking_model_test.cpp checks it), so the chunks of 8 tokens can be written by hand.
TEST(CppApi, ChunkedDocumentsScoreTheirBestChunk) {
  const std::vector<std::string> w = {"apple", "banana", "water", "light", "river", "music", "table",
                                      "window", "yellow", "orange", "silver", "forest", "winter", "summer",
                                      "bridge", "castle", "house", "doctor", "market", "planet"};
  auto words = [&](size_t from, size_t n) {
    std::string s;
    for (size_t i = from; i < from + n; ++i) s += (i > 0 ? " " : "") + w[i];
    return s;
  };
  const std::string query = "river music";
  lastrank::RerankParams p;
  p.max_doc_length = 8;
  const lastrank::Ranking by_hand = model().rerank(query, {words(0, 8), words(8, 8), words(16, 4), "short"}, p);
  const lastrank::Ranking truncated = model().rerank(query, {words(0, 20), "short"}, p);
  p.max_chunks_per_doc = 3;
  const lastrank::Ranking chunked = model().rerank(query, {words(0, 20), "short"}, p);
  ASSERT_EQ(chunked.scores.size(), 2u);
  EXPECT_EQ(chunked.scores[0], std::max({by_hand.scores[0], by_hand.scores[1], by_hand.scores[2]}));
  EXPECT_EQ(chunked.scores[1], by_hand.scores[3]);
  EXPECT_EQ(chunked.total_tokens, by_hand.total_tokens);
  EXPECT_EQ(chunked.order[0], chunked.scores[0] > chunked.scores[1] ? 0u : 1u);
  p.max_chunks_per_doc = 1;
  const lastrank::Ranking one = model().rerank(query, {words(0, 20), "short"}, p);
  EXPECT_EQ(one.scores, truncated.scores);
  EXPECT_EQ(one.total_tokens, truncated.total_tokens);
  p.max_chunks_per_doc = 0;
  expect_error([&] { model().rerank(query, {"a"}, p); }, lastrank::Error::Code::invalid_argument,
               "\"max_chunks_per_doc\" must be a positive integer, got 0");
}

TEST(CppApi, BadRequestsAreInvalidArguments) {
  expect_error([] { model().rerank("", {"a"}); }, lastrank::Error::Code::invalid_argument, "\"query\" must not be empty");
  expect_error([] { model().rerank("q", {}); }, lastrank::Error::Code::invalid_argument, "\"documents\" must not be empty");
  expect_error([] { model().rerank("q\xc3", {"a"}); }, lastrank::Error::Code::invalid_argument,
               "\"query\" is not valid UTF-8 (byte 1)");
}

TEST(CppApi, ZeroTopNMeansAllDocuments) {
  lastrank::RerankParams p;
  p.top_n = 0;
  EXPECT_EQ(model().rerank("q", {"a", "b", "c"}, p).order.size(), 3u);
}

TEST(CppApi, UnitScoresAreTheCosinesMapped) {
  lastrank::Options o;
  o.threads = 1;
  o.scores = "sigmoid";
  expect_error([&] { lastrank::Reranker::load(kModel, o); }, lastrank::Error::Code::invalid_argument,
               "scores must be \"cosine\" or \"unit\", not \"sigmoid\"");
  o.scores = "unit";
  const lastrank::Reranker unit = lastrank::Reranker::load(kModel, o);
  o.scores = "cosine";
  const lastrank::Reranker cosine = lastrank::Reranker::load(kModel, o);
  const std::vector<std::string> docs = {"alpha beta", "gamma", "beta"};
  const lastrank::Ranking u = unit.rerank("beta", docs), c = cosine.rerank("beta", docs);
  EXPECT_EQ(u.order, c.order);
  for (size_t i = 0; i < docs.size(); ++i) EXPECT_EQ(u.scores[i], (1.0f + c.scores[i]) * 0.5f) << i;
}

// Options::weight_cache_dir: "off" by default; a first int8 load writes the packed weights, the
// second maps them, and both rank bit-identically to a load that packs.
TEST(CppApi, WeightCacheIsWrittenThenHitWithTheSameScores) {
  EXPECT_EQ(model().info().weight_cache, "off");
  const std::filesystem::path dir = std::filesystem::path(LASTRANK_BINARY_DIR) / "cpp_api_weight_cache";
  std::filesystem::remove_all(dir);
  lastrank::Options o;
  o.precision = "int8";
  o.threads = 2;
  const std::vector<std::string> docs = {"alpha beta", "gamma delta epsilon", "zeta"};
  const std::vector<float> want = lastrank::Reranker::load(kModel, o).rerank("query words", docs).scores;
  o.weight_cache_dir = dir.string();
  for (const char* status : {"written", "hit"}) {
    const lastrank::Reranker r = lastrank::Reranker::load(kModel, o);
    EXPECT_EQ(r.info().weight_cache, status);
    EXPECT_EQ(r.rerank("query words", docs).scores, want) << status;
  }
  EXPECT_FALSE(std::filesystem::is_empty(dir));
  std::filesystem::remove_all(dir);
}

TEST(CppApi, MovedFromRerankerThrows) {
  lastrank::Options o;
  o.threads = 1;
  lastrank::Reranker a = lastrank::Reranker::load(kModel, o);
  lastrank::Reranker b = std::move(a);
  EXPECT_EQ(b.info().threads, 1);
  EXPECT_EQ(b.info().version, lastrank::version());
  expect_error([&] { a.rerank("q", {"d"}); }, lastrank::Error::Code::invalid_argument, "moved-from");
}

}  // namespace
