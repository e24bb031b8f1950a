// The packed-weight cache on the tiny test checkpoints (docs/model-files.md, "Start-up: the
// packed-weight cache"): the forward and projector outputs with the cache, written and then hit,
// are bit-identical to the reference path's (packing at load), for every checkpoint dtype,
// precision (int8 with its mixed bf16 leading layer) and kernel set this CPU runs. And a cache that
// must not be used is not: one corrupt byte, a truncated file, a foreign file, a changed
// checkpoint, another kernel set; an unusable directory only disables it; concurrent loads agree.
// Needs the test models (ctest fixture generate_test_models); skips without.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>

#include "backend/cpu/kernel_dispatch.h"
#include "core/error.h"
#include "model/checkpoint_identity.h"
#include "model/config.h"
#include "model/qwen3.h"
#include "rerank/reranker.h"
#include "test_model_case.h"
#include "test_paths.h"

namespace lastrank {
namespace {

namespace fs = std::filesystem;

const std::string kModels = LASTRANK_TEST_MODELS;

struct Events {
  std::vector<std::pair<std::string, std::string>> list;
  std::string statuses() const {
    std::string s;
    for (const auto& [status, detail] : list) s += (s.empty() ? "" : ",") + status;
    return s;
  }
  std::string all() const {
    std::string s;
    for (const auto& [status, detail] : list) s += status + ": " + detail + "\n";
    return s;
  }
};

// Forward (3 readout rows) and projector output of `dir`, with the cache in cache_dir ("" = none).
std::vector<float> run_model(const std::string& dir, Precision p, const std::string& cache_dir, Events* ev) {
  EngineOptions eo;
  eo.precision = p;
  eo.threads = 2;
  eo.int8_leading_layers = 1;  // int8 mode: a bf16 layer, then int8 ones
  eo.weight_cache_dir = cache_dir;
  if (ev)
    eo.weight_cache_log = [ev](CacheFileKind kind, const std::string& s, const std::string& d) {
      EXPECT_EQ(kind, CacheFileKind::packed) << "this model has no shared prefix: " << s << " " << d;
      ev->list.emplace_back(s, d);
    };
  ModelConfig cfg = load_model_config(dir + "/config.json");
  ModelWeights w = load_model_weights(dir, cfg);
  Qwen3Model model(std::move(cfg), std::move(w), eo);
  std::vector<int32_t> ids;
  for (int i = 0; i < 40; ++i) ids.push_back(int32_t((i * 7919) % 151000));
  const std::vector<int64_t> readout = {9, 25, 39};
  const int64_t hidden = model.config().hidden_size, dim = model.projector_dim();
  std::vector<float> out(size_t(3 * hidden)), proj(size_t(3 * dim));
  model.forward(ids, readout, out.data());
  model.project(out.data(), 3, proj.data());
  out.insert(out.end(), proj.begin(), proj.end());
  return out;
}

std::string temp_dir(const std::string& tag) {
  const fs::path p = fs::temp_directory_path() / ("lastrank-wcm-" + tag + "-" + std::to_string(::getpid()));
  fs::remove_all(p);
  fs::create_directories(p);
  return p.string();
}

std::vector<std::string> cache_files(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().extension() == ".lrwc") out.push_back(e.path().string());
  return out;
}

void flip_byte(const std::string& path, uint64_t at) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(std::streamoff(at));
  char c = 0;
  f.read(&c, 1);
  c = char(c ^ 0x20);
  f.seekp(std::streamoff(at));
  f.write(&c, 1);
}

class WeightCacheModel : public TestModelCase {
 protected:
  void SetUp() override {
    TestModelCase::SetUp();
    if (IsSkipped()) return;
    cache_ = temp_dir(cat(std::get<0>(GetParam()), "-", precision_name(precision())));
    ref_ = run_model(model_, precision(), "", nullptr);
  }
  void TearDown() override {
    if (!cache_.empty()) fs::remove_all(cache_);
    TestModelCase::TearDown();
  }
  // One load through the cache: its output must be the reference's, its events `expect`.
  void load_expect(const std::string& expect, const std::string& detail_has = "") {
    Events ev;
    EXPECT_TRUE(same_bits(run_model(model_, precision(), cache_, &ev), ref_)) << ev.all();
    EXPECT_EQ(ev.statuses(), expect) << ev.all();
    if (!detail_has.empty()) {
      EXPECT_NE(ev.all().find(detail_has), std::string::npos) << ev.all();
    }
  }
  std::string only_file() {
    const auto f = cache_files(cache_);
    EXPECT_EQ(f.size(), 1u);
    return f.empty() ? "" : f[0];
  }

  std::string cache_;
  std::vector<float> ref_;
};

TEST_P(WeightCacheModel, WrittenThenHitBitIdentical) {
  load_expect("written");
  load_expect("hit");
  EXPECT_EQ(cache_files(cache_).size(), 1u);
}

TEST_P(WeightCacheModel, CorruptByteIsDetectedAndRebuilt) {
  load_expect("written");
  const std::string path = only_file();
  flip_byte(path, fs::file_size(path) - 3);  // inside the last array's payload
  load_expect("ignored,written", "checksum mismatch");
  load_expect("hit");
}

TEST_P(WeightCacheModel, TruncatedFileIsRebuilt) {
  load_expect("written");
  const std::string path = only_file();
  fs::resize_file(path, fs::file_size(path) - 4096);
  load_expect("ignored,written", "truncated");
  load_expect("hit");
  fs::resize_file(only_file(), 10);
  load_expect("ignored,written", "at least 64 bytes");
}

TEST_P(WeightCacheModel, ForeignFileIsNotUsed) {
  load_expect("written");
  const std::string path = only_file();
  std::ofstream(path, std::ios::binary | std::ios::trunc) << std::string(100000, 'x');
  load_expect("ignored,written", "magic");
  load_expect("hit");
}

INSTANTIATE_TEST_SUITE_P(
    All, WeightCacheModel,
    ::testing::Combine(::testing::Values("tiny-gqa3", "tiny-f32", "tiny-f16"),
                       ::testing::Values(Precision::fp32, Precision::bf16, Precision::int8), cpu::all_kernel_sets()),
    test_model_case_name);

// A changed checkpoint (one byte of one weight; the same header) gets its own key.
TEST(WeightCacheModelKey, ChangedCheckpointIsANewKey) {
  const std::string src = kModels + "/tiny-gqa2";
  if (!fs::exists(src + "/config.json")) GTEST_SKIP() << "no test model at " << src;
  const std::string copy = temp_dir("ckpt"), cache = temp_dir("ckpt-cache");
  fs::copy(src, copy, fs::copy_options::recursive | fs::copy_options::overwrite_existing);
  Events ev;
  const std::vector<float> a = run_model(copy, Precision::bf16, cache, &ev);
  const std::string id_before = checkpoint_identity(SafetensorsArchive::open_dir(copy));
  {  // the first byte of the data section (a tensor's first byte: a sampled window)
    std::ifstream f(copy + "/model.safetensors", std::ios::binary);
    uint64_t header = 0;
    f.read(reinterpret_cast<char*>(&header), 8);
    f.close();
    flip_byte(copy + "/model.safetensors", 8 + header);
  }
  EXPECT_NE(checkpoint_identity(SafetensorsArchive::open_dir(copy)), id_before);
  const std::vector<float> ref = run_model(copy, Precision::bf16, "", nullptr);
  const std::vector<float> b = run_model(copy, Precision::bf16, cache, &ev);
  EXPECT_EQ(ev.statuses(), "written,written") << ev.all();
  EXPECT_TRUE(same_bits(b, ref));
  EXPECT_EQ(cache_files(cache).size(), 2u);
  fs::remove_all(copy);
  fs::remove_all(cache);
}

// A cache written under one kernel set is not used by another.
TEST(WeightCacheModelKey, OtherKernelSetIsNotUsed) {
  const std::string model = kModels + "/tiny-gqa2";
  if (!fs::exists(model + "/config.json")) GTEST_SKIP() << "no test model at " << model;
  std::vector<cpu::KernelSet> sets;
  for (cpu::KernelSet s : cpu::architecture_kernel_sets())
    if (cpu::kernel_set_unavailable(s).empty()) sets.push_back(s);
  if (sets.size() < 2) GTEST_SKIP() << "this CPU runs one kernel set";
  const std::string cache = temp_dir("sets");
  for (int round = 0; round < 2; ++round)
    for (cpu::KernelSet s : {sets.front(), sets.back()}) {
      cpu::KernelSetScope scope(s);
      Events ev;
      const std::vector<float> ref = run_model(model, Precision::int8, "", nullptr);
      EXPECT_TRUE(same_bits(run_model(model, Precision::int8, cache, &ev), ref)) << cpu::kernel_set_name(s);
      EXPECT_EQ(ev.statuses(), round == 0 ? "written" : "hit") << cpu::kernel_set_name(s) << "\n" << ev.all();
    }
  EXPECT_EQ(cache_files(cache).size(), 2u);
  fs::remove_all(cache);
}

TEST(WeightCacheModelDir, UnusableDirectoryOnlyDisables) {
  const std::string model = kModels + "/tiny-gqa2";
  if (!fs::exists(model + "/config.json")) GTEST_SKIP() << "no test model at " << model;
  const std::string dir = temp_dir("unusable");
  std::ofstream(dir + "/file") << "x";
  Events ev;
  const std::vector<float> ref = run_model(model, Precision::bf16, "", nullptr);
  EXPECT_TRUE(same_bits(run_model(model, Precision::bf16, dir + "/file/cache", &ev), ref));
  EXPECT_EQ(ev.statuses(), "disabled") << ev.all();
  fs::remove_all(dir);
}

// Loads racing on one cache directory: each one's result is right, and the file they leave is whole.
TEST(WeightCacheModelDir, ConcurrentLoadsAgree) {
  const std::string model = kModels + "/tiny-gqa3";
  if (!fs::exists(model + "/config.json")) GTEST_SKIP() << "no test model at " << model;
  const std::string cache = temp_dir("race");
  const std::vector<float> ref = run_model(model, Precision::bf16, "", nullptr);
  std::vector<std::vector<float>> outs(4);
  std::vector<Events> evs(4);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < outs.size(); ++i)
    threads.emplace_back([&, i] { outs[i] = run_model(model, Precision::bf16, cache, &evs[i]); });
  for (std::thread& t : threads) t.join();
  for (size_t i = 0; i < outs.size(); ++i) {
    EXPECT_TRUE(same_bits(outs[i], ref)) << i;
    EXPECT_TRUE(evs[i].statuses() == "written" || evs[i].statuses() == "hit") << evs[i].all();
  }
  Events ev;
  EXPECT_TRUE(same_bits(run_model(model, Precision::bf16, cache, &ev), ref));
  EXPECT_EQ(ev.statuses(), "hit") << ev.all();
  EXPECT_EQ(cache_files(cache).size(), 1u);
  fs::remove_all(cache);
}

// The whole pipeline: rerank scores with the cache (written, then hit) are the reference's.
TEST(WeightCacheModelRerank, ScoresBitIdentical) {
  const std::string model = kModels + "/tiny-gqa2";
  if (!fs::exists(model + "/tokenizer.json")) GTEST_SKIP() << "no test model with a tokenizer at " << model;
  const std::string cache = temp_dir("rerank");
  RerankRequest req;
  req.query = "Which drinks are good for health?";
  req.documents = {"Green tea contains catechins.", "The Rhine flows through Germany.", "Coffee is served to guests."};
  auto scores = [&](const std::string& dir) {
    EngineOptions eo;
    eo.weight_cache_dir = dir;
    std::vector<float> s;
    for (const RerankItem& it : Reranker::load(model, eo)->rerank(req).results) s.push_back(it.relevance_score);
    return s;
  };
  const std::vector<float> ref = scores("");
  EXPECT_TRUE(same_bits(scores(cache), ref));
  EXPECT_TRUE(same_bits(scores(cache), ref));
  EXPECT_EQ(cache_files(cache).size(), 3u);  // packed weights, prefix K/V, tokenizer
  fs::remove_all(cache);
}

}  // namespace
}  // namespace lastrank
