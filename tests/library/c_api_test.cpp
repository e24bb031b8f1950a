// The C ABI (include/lastrank/lastrank.h) through liblastrank.so: status codes and thread-local
// messages for bad options, model directories and requests; scores, order, top_n and embeddings
// equal to the engine's own Reranker (src/rerank) in this process; one handle from two threads.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "lastrank/lastrank.h"
#include "rerank/reranker.h"
#include "test_paths.h"

namespace {

const std::string kModel = std::string(LASTRANK_TEST_MODELS) + "/tiny-gqa2";

const std::vector<std::string> kDocs = {"Paris is the capital of France.", "Berlin ist die Hauptstadt.",
                                        "東京は日本の首都です。", "", "x<|embed_token|>y"};
const char* const kDocPtrs[] = {kDocs[0].c_str(), kDocs[1].c_str(), kDocs[2].c_str(), kDocs[3].c_str(),
                                kDocs[4].c_str()};
constexpr const char* kQuery = "What is the capital of France?";

lastrank_options* fp32_options() {
  lastrank_options* o = nullptr;
  EXPECT_EQ(lastrank_options_create(&o), LASTRANK_OK);
  EXPECT_EQ(lastrank_options_set_precision(o, "fp32"), LASTRANK_OK);
  EXPECT_EQ(lastrank_options_set_threads(o, 2), LASTRANK_OK);
  return o;
}

// One fp32 model for the whole suite (the tokenizer makes loading the slow part).
lastrank_reranker* model() {
  static const std::unique_ptr<lastrank_reranker, void (*)(lastrank_reranker*)> m([] {
    lastrank_options* o = fp32_options();
    lastrank_reranker* r = nullptr;
    EXPECT_EQ(lastrank_load(kModel.c_str(), o, &r), LASTRANK_OK) << lastrank_last_error();
    lastrank_options_free(o);
    return r;
  }(), lastrank_free);
  return m.get();
}

// The engine's response for the same request, top_n unset.
lastrank::RerankResponse engine_response(bool embeddings) {
  lastrank::EngineOptions eo;
  eo.precision = lastrank::Precision::fp32;
  eo.threads = 2;
  auto engine = lastrank::Reranker::load(kModel, eo);
  lastrank::RerankRequest req;
  req.query = kQuery;
  req.documents = kDocs;
  req.return_embeddings = embeddings;
  return engine->rerank(req);
}

void expect_status(lastrank_status got, lastrank_status want, const char* fragment) {
  EXPECT_EQ(got, want) << lastrank_status_name(got) << ": " << lastrank_last_error();
  EXPECT_NE(std::string(lastrank_last_error()).find(fragment), std::string::npos)
      << "message: " << lastrank_last_error() << "\nmissing: " << fragment;
}

TEST(CApi, VersionAndStatusNames) {
  EXPECT_STREQ(lastrank_version(), LASTRANK_VERSION);
  EXPECT_STREQ(lastrank_status_name(LASTRANK_OK), "LASTRANK_OK");
  EXPECT_STREQ(lastrank_status_name(LASTRANK_MODEL_ERROR), "LASTRANK_MODEL_ERROR");
  EXPECT_STREQ(lastrank_status_name(static_cast<lastrank_status>(99)), "LASTRANK_UNKNOWN_STATUS");
}

TEST(CApi, BadOptionsAreRejectedAndLeaveTheOptionsUnchanged) {
  lastrank_options* o = nullptr;
  ASSERT_EQ(lastrank_options_create(&o), LASTRANK_OK);
  expect_status(lastrank_options_set_precision(o, "fp16"), LASTRANK_INVALID_ARGUMENT,
                "precision must be fp32, bf16 or int8, not \"fp16\"");
  expect_status(lastrank_options_set_precision(o, "bf16-weights"), LASTRANK_INVALID_ARGUMENT, "not \"bf16-weights\"");
  expect_status(lastrank_options_set_precision(o, nullptr), LASTRANK_INVALID_ARGUMENT, "precision is NULL");
  expect_status(lastrank_options_set_threads(o, -1), LASTRANK_INVALID_ARGUMENT, "threads must be 0 (all cores) to 1024");
  expect_status(lastrank_options_set_threads(o, 1025), LASTRANK_INVALID_ARGUMENT, "not 1025");
  expect_status(lastrank_options_set_max_query_length(o, 0), LASTRANK_INVALID_ARGUMENT, "max_query_length must be at least 1");
  expect_status(lastrank_options_set_max_doc_length(o, 0), LASTRANK_INVALID_ARGUMENT, "max_doc_length must be at least 1");
  expect_status(lastrank_options_set_threads(nullptr, 1), LASTRANK_INVALID_ARGUMENT, "options is NULL");
  expect_status(lastrank_options_set_scores(o, "logit"), LASTRANK_INVALID_ARGUMENT,
                "scores must be \"cosine\" or \"unit\", not \"logit\"");
  expect_status(lastrank_options_set_scores(o, nullptr), LASTRANK_INVALID_ARGUMENT, "scores is NULL");
  ASSERT_EQ(lastrank_options_set_threads(o, 1), LASTRANK_OK);
  lastrank_reranker* r = nullptr;
  ASSERT_EQ(lastrank_load(kModel.c_str(), o, &r), LASTRANK_OK) << lastrank_last_error();
  EXPECT_STREQ(lastrank_info_precision(r), "bf16");  // the failed set_precision calls changed nothing
  EXPECT_EQ(lastrank_info_threads(r), 1);
  lastrank_free(r);
  lastrank_options_free(o);
}

TEST(CApi, BadModelDirectoriesAreModelErrors) {
  lastrank_reranker* r = reinterpret_cast<lastrank_reranker*>(&r);  // must be reset to NULL
  expect_status(lastrank_load("/nonexistent/model", nullptr, &r), LASTRANK_MODEL_ERROR,
                "model directory '/nonexistent/model' does not exist");
  EXPECT_EQ(r, nullptr);
  // A directory without the model's files: the message names the missing file.
  expect_status(lastrank_load(LASTRANK_SOURCE_DIR, nullptr, &r), LASTRANK_MODEL_ERROR, "config.json");
  EXPECT_EQ(r, nullptr);
  expect_status(lastrank_load(nullptr, nullptr, &r), LASTRANK_INVALID_ARGUMENT, "model_dir is NULL");
  expect_status(lastrank_load(kModel.c_str(), nullptr, nullptr), LASTRANK_INVALID_ARGUMENT, "out is NULL");
}

TEST(CApi, LastErrorIsPerThread) {
  lastrank_options* o = nullptr;
  ASSERT_EQ(lastrank_options_create(&o), LASTRANK_OK);
  ASSERT_EQ(lastrank_options_set_threads(o, -5), LASTRANK_INVALID_ARGUMENT);
  std::string other;
  std::thread t([&] {
    lastrank_options_set_precision(o, "nope");
    other = lastrank_last_error();
  });
  t.join();
  EXPECT_NE(other.find("\"nope\""), std::string::npos) << other;
  EXPECT_NE(std::string(lastrank_last_error()).find("not -5"), std::string::npos) << lastrank_last_error();
  lastrank_options_free(o);
}

TEST(CApi, InfoDescribesTheModel) {
  lastrank_reranker* r = model();
  ASSERT_NE(r, nullptr);
  EXPECT_STREQ(lastrank_info_precision(r), "fp32");
  EXPECT_GT(std::strlen(lastrank_info_kernel_set(r)), 0u);
  EXPECT_EQ(lastrank_info_threads(r), 2);
  EXPECT_EQ(lastrank_info_hidden_size(r), 32);  // tests/data/checkpoints.txt: tiny-gqa2
  EXPECT_EQ(lastrank_info_num_layers(r), 2);
  EXPECT_EQ(lastrank_info_embedding_dim(r), 24);
  EXPECT_EQ(lastrank_info_vocab_size(r), 151936);
  EXPECT_EQ(lastrank_info_precision(nullptr), nullptr);
  EXPECT_EQ(lastrank_info_threads(nullptr), 0);
  EXPECT_EQ(lastrank_info_weight_cache(nullptr), nullptr);
}

// The fp32 scores of kQuery / kDocs from a model loaded with options o, and what its weight cache
// did at load ("" when the load failed).
std::pair<std::vector<float>, std::string> scores_and_cache_status(const lastrank_options* o) {
  lastrank_reranker* r = nullptr;
  EXPECT_EQ(lastrank_load(kModel.c_str(), o, &r), LASTRANK_OK) << lastrank_last_error();
  if (!r) return {};
  lastrank_result* res = nullptr;
  EXPECT_EQ(lastrank_rerank(r, kQuery, kDocPtrs, kDocs.size(), 0, nullptr, 0, &res), LASTRANK_OK);
  std::vector<float> scores;
  if (res) scores.assign(lastrank_result_scores(res), lastrank_result_scores(res) + lastrank_result_count(res));
  const std::string status = lastrank_info_weight_cache(r);
  lastrank_result_free(res);
  lastrank_free(r);
  return {scores, status};
}

// lastrank_options_set_weight_cache_dir: off by default; the first load writes the cache, the next
// maps it; a damaged file is detected and rewritten. Every load ranks bit-identically to no cache.
TEST(CApi, WeightCacheIsWrittenHitAndRewrittenWhenDamaged) {
  EXPECT_STREQ(lastrank_info_weight_cache(model()), "off");
  const std::filesystem::path dir = std::filesystem::path(LASTRANK_BINARY_DIR) / "c_api_weight_cache";
  std::filesystem::remove_all(dir);
  lastrank_options* o = fp32_options();
  const std::vector<float> want = scores_and_cache_status(o).first;
  ASSERT_EQ(lastrank_options_set_weight_cache_dir(o, dir.c_str()), LASTRANK_OK);
  EXPECT_EQ(scores_and_cache_status(o), std::make_pair(want, std::string("written")));
  EXPECT_EQ(scores_and_cache_status(o), std::make_pair(want, std::string("hit")));
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator(dir))
    if (e.path().filename().string().rfind("packed-", 0) == 0) files.push_back(e.path());  // not prefix-*
  ASSERT_EQ(files.size(), 1u);
  std::filesystem::resize_file(files[0], std::filesystem::file_size(files[0]) / 2);
  EXPECT_EQ(scores_and_cache_status(o), std::make_pair(want, std::string("written")));
  EXPECT_EQ(scores_and_cache_status(o), std::make_pair(want, std::string("hit")));
  ASSERT_EQ(lastrank_options_set_weight_cache_dir(o, nullptr), LASTRANK_OK);
  EXPECT_EQ(scores_and_cache_status(o), std::make_pair(want, std::string("off")));
  lastrank_options_free(o);
  std::filesystem::remove_all(dir);
}

TEST(CApi, ScoresOrderAndEmbeddingsEqualTheEngine) {
  const lastrank::RerankResponse want = engine_response(true);
  lastrank_result* res = nullptr;
  ASSERT_EQ(lastrank_rerank(model(), kQuery, kDocPtrs, kDocs.size(), 0, nullptr, LASTRANK_RETURN_EMBEDDINGS, &res),
            LASTRANK_OK)
      << lastrank_last_error();
  ASSERT_EQ(lastrank_result_count(res), kDocs.size());
  ASSERT_EQ(lastrank_result_order_length(res), kDocs.size());
  const size_t dim = lastrank_result_embedding_dim(res);
  ASSERT_EQ(dim, 24u);
  EXPECT_EQ(lastrank_result_total_tokens(res), want.total_tokens);
  for (size_t i = 0; i < want.results.size(); ++i) {
    const lastrank::RerankItem& it = want.results[i];
    EXPECT_EQ(lastrank_result_order(res)[i], it.index);
    EXPECT_EQ(lastrank_result_scores(res)[it.index], it.relevance_score) << "document " << it.index;
    ASSERT_EQ(it.embedding.size(), dim);
    EXPECT_EQ(std::memcmp(lastrank_result_embeddings(res) + it.index * dim, it.embedding.data(), dim * sizeof(float)), 0);
  }
  lastrank_result_free(res);
}

TEST(CApi, TopNCutsTheOrderButKeepsEveryScore) {
  lastrank_result* all = nullptr;
  lastrank_result* top = nullptr;
  ASSERT_EQ(lastrank_rerank(model(), kQuery, kDocPtrs, kDocs.size(), 0, nullptr, 0, &all), LASTRANK_OK);
  ASSERT_EQ(lastrank_rerank(model(), kQuery, kDocPtrs, kDocs.size(), 2, nullptr, 0, &top), LASTRANK_OK);
  ASSERT_EQ(lastrank_result_order_length(top), 2u);
  ASSERT_EQ(lastrank_result_count(top), kDocs.size());
  EXPECT_EQ(lastrank_result_embeddings(top), nullptr);
  for (size_t i = 0; i < 2; ++i) EXPECT_EQ(lastrank_result_order(top)[i], lastrank_result_order(all)[i]);
  for (size_t i = 0; i < kDocs.size(); ++i) EXPECT_EQ(lastrank_result_scores(top)[i], lastrank_result_scores(all)[i]);
  for (size_t i = 1; i < kDocs.size(); ++i)
    EXPECT_GE(lastrank_result_scores(all)[lastrank_result_order(all)[i - 1]],
              lastrank_result_scores(all)[lastrank_result_order(all)[i]]);
  lastrank_result_free(all);
  lastrank_result_free(top);
}

TEST(CApi, UnitScoresAreTheCosinesMapped) {
  lastrank_options* o = fp32_options();  // as model(), with unit scores
  ASSERT_EQ(lastrank_options_set_scores(o, "unit"), LASTRANK_OK);
  lastrank_reranker* unit = nullptr;
  ASSERT_EQ(lastrank_load(kModel.c_str(), o, &unit), LASTRANK_OK) << lastrank_last_error();
  lastrank_options_free(o);
  lastrank_result* u = nullptr;
  lastrank_result* c = nullptr;
  ASSERT_EQ(lastrank_rerank(unit, kQuery, kDocPtrs, kDocs.size(), 0, nullptr, 0, &u), LASTRANK_OK);
  ASSERT_EQ(lastrank_rerank(model(), kQuery, kDocPtrs, kDocs.size(), 0, nullptr, 0, &c), LASTRANK_OK);
  for (size_t i = 0; i < kDocs.size(); ++i) {
    EXPECT_EQ(lastrank_result_scores(u)[i], (1.0f + lastrank_result_scores(c)[i]) * 0.5f) << i;
    EXPECT_EQ(lastrank_result_order(u)[i], lastrank_result_order(c)[i]);
  }
  lastrank_result_free(u);
  lastrank_result_free(c);
  lastrank_free(unit);
}

TEST(CApi, BadRequestsGetTheCliMessages) {
  lastrank_reranker* r = model();
  lastrank_result* res = reinterpret_cast<lastrank_result*>(&res);  // must be reset to NULL
  expect_status(lastrank_rerank(r, "", kDocPtrs, 2, 0, nullptr, 0, &res), LASTRANK_INVALID_ARGUMENT,
                "\"query\" must not be empty");
  EXPECT_EQ(res, nullptr);
  expect_status(lastrank_rerank(r, "q", kDocPtrs, 0, 0, nullptr, 0, &res), LASTRANK_INVALID_ARGUMENT,
                "\"documents\" must not be empty");
  expect_status(lastrank_rerank(r, "q", nullptr, 0, 0, nullptr, 0, &res), LASTRANK_INVALID_ARGUMENT,
                "\"documents\" must not be empty");
  const char* with_null[] = {"a", nullptr};
  expect_status(lastrank_rerank(r, "q", with_null, 2, 0, nullptr, 0, &res), LASTRANK_INVALID_ARGUMENT,
                "documents[1] is NULL");
  const char* bad_utf8[] = {"a", "b\xff"};
  expect_status(lastrank_rerank(r, "q", bad_utf8, 2, 0, nullptr, 0, &res), LASTRANK_INVALID_ARGUMENT,
                "documents[1] is not valid UTF-8 (byte 1)");
  expect_status(lastrank_rerank(r, "q", kDocPtrs, 2, 0, "a <|embed_token|>", 0, &res), LASTRANK_INVALID_ARGUMENT,
                "\"instruction\" must not contain <|embed_token|>");
  expect_status(lastrank_rerank(r, "q", kDocPtrs, 2, 0, nullptr, 6, &res), LASTRANK_INVALID_ARGUMENT,
                "unknown flags 6");
  expect_status(lastrank_rerank(nullptr, "q", kDocPtrs, 2, 0, nullptr, 0, &res), LASTRANK_INVALID_ARGUMENT,
                "reranker is NULL");
  expect_status(lastrank_rerank(r, nullptr, kDocPtrs, 2, 0, nullptr, 0, &res), LASTRANK_INVALID_ARGUMENT,
                "query is NULL");
  EXPECT_EQ(res, nullptr);
}

TEST(CApi, InstructionChangesTheScores) {
  lastrank_result* plain = nullptr;
  lastrank_result* instructed = nullptr;
  ASSERT_EQ(lastrank_rerank(model(), kQuery, kDocPtrs, 3, 0, nullptr, 0, &plain), LASTRANK_OK);
  ASSERT_EQ(lastrank_rerank(model(), kQuery, kDocPtrs, 3, 0, "Prefer German.", 0, &instructed), LASTRANK_OK);
  EXPECT_GT(lastrank_result_total_tokens(instructed), lastrank_result_total_tokens(plain));
  EXPECT_NE(lastrank_result_scores(instructed)[0], lastrank_result_scores(plain)[0]);
  lastrank_result_free(plain);
  lastrank_result_free(instructed);
}

TEST(CApi, OneHandleFromTwoThreadsGivesTheSerialResults) {
  lastrank_result* serial[2] = {nullptr, nullptr};
  ASSERT_EQ(lastrank_rerank(model(), kQuery, kDocPtrs, 5, 0, nullptr, 0, &serial[0]), LASTRANK_OK);
  ASSERT_EQ(lastrank_rerank(model(), "Berlin", kDocPtrs, 3, 0, nullptr, 0, &serial[1]), LASTRANK_OK);
  int mismatches[2] = {0, 0};
  auto worker = [&](int w) {
    for (int k = 0; k < 8; ++k) {
      lastrank_result* res = nullptr;
      if (lastrank_rerank(model(), w == 0 ? kQuery : "Berlin", kDocPtrs, w == 0 ? 5 : 3, 0, nullptr, 0, &res) !=
              LASTRANK_OK ||
          std::memcmp(lastrank_result_scores(res), lastrank_result_scores(serial[w]),
                      lastrank_result_count(res) * sizeof(float)) != 0)
        ++mismatches[w];
      lastrank_result_free(res);
    }
  };
  std::thread a(worker, 0), b(worker, 1);
  a.join();
  b.join();
  EXPECT_EQ(mismatches[0], 0);
  EXPECT_EQ(mismatches[1], 0);
  lastrank_result_free(serial[0]);
  lastrank_result_free(serial[1]);
}

TEST(CApi, NullHandlesAreHarmless) {
  lastrank_free(nullptr);
  lastrank_options_free(nullptr);
  lastrank_result_free(nullptr);
  EXPECT_EQ(lastrank_result_count(nullptr), 0u);
  EXPECT_EQ(lastrank_result_scores(nullptr), nullptr);
  EXPECT_EQ(lastrank_result_order(nullptr), nullptr);
}

}  // namespace
