// The C++ API (include/lastrank/lastrank.hpp) through liblastrank.so: error codes, option checks,
// per-call truncation limits, moved-from objects, and the ranking's invariants.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "lastrank/lastrank.hpp"

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
  expect_error([] { lastrank::Reranker::load(LASTRANK_SOURCE_DIR "/tests"); }, lastrank::Error::Code::model,
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

TEST(CppApi, BadRequestsAreInvalidArguments) {
  expect_error([] { model().rerank("", {"a"}); }, lastrank::Error::Code::invalid_argument, "\"query\" must not be empty");
  expect_error([] { model().rerank("q", {}); }, lastrank::Error::Code::invalid_argument, "\"documents\" must not be empty");
  lastrank::RerankParams p;
  p.top_n = 0;
  expect_error([&] { model().rerank("q", {"a"}, p); }, lastrank::Error::Code::invalid_argument,
               "\"top_n\" must be a positive integer, got 0");
  expect_error([] { model().rerank("q\xc3", {"a"}); }, lastrank::Error::Code::invalid_argument,
               "\"query\" is not valid UTF-8 (byte 1)");
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
