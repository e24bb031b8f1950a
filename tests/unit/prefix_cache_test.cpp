// The shared prefix's K/V cache file (model/prefix_cache.h) on the tiny test checkpoints, in every
// precision and kernel set: a model that takes the K/V from the file gives the bits of one that
// computes them; the file is really used (altered K/V, re-checksummed, change the result); a
// corrupt or truncated file is reported, not used, and rewritten; another prefix gets a file of
// its own. Needs the test models (ctest fixture generate_test_models); skips without.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <unistd.h>

#include "core/build_id.h"
#include "core/error.h"
#include "io/weight_cache_file.h"
#include "model/config.h"
#include "model/qwen3.h"
#include "test_model_case.h"

namespace lastrank {
namespace {

namespace fs = std::filesystem;

std::vector<int32_t> token_ids(int n, int seed) {
  std::vector<int32_t> ids;
  for (int i = 0; i < n; ++i) ids.push_back(int32_t((i * 7919 + seed * 104729) % 151000));
  return ids;
}

// The prefix cache's events of one load, "status,status".
struct PrefixEvents {
  std::string statuses, details;
};

class PrefixCacheModel : public TestModelCase {
 protected:
  void SetUp() override {
    TestModelCase::SetUp();
    if (IsSkipped()) return;
    dir_ = (fs::temp_directory_path() / cat("lastrank-pcache-", ::getpid(), "-", test_model_case_name({GetParam(), 0})))
               .string();
    fs::remove_all(dir_);
  }
  void TearDown() override {
    if (!dir_.empty()) fs::remove_all(dir_);
    TestModelCase::TearDown();
  }

  // A fresh model with `prefix` set, cached in dir_ ("" = no cache): its prefix events in ev.
  std::unique_ptr<Qwen3Model> make(const std::vector<int32_t>& prefix, const std::string& dir, PrefixEvents* ev) const {
    EngineOptions eo;
    eo.precision = precision();
    eo.threads = 2;
    eo.int8_leading_layers = 1;
    eo.weight_cache_dir = dir;
    eo.weight_cache_log = [ev](CacheFileKind kind, const std::string& status, const std::string& detail) {
      if (kind != CacheFileKind::prefix || !ev) return;
      ev->statuses += (ev->statuses.empty() ? "" : ",") + status;
      ev->details += detail + "\n";
    };
    ModelConfig cfg = load_model_config(model_ + "/config.json");
    ModelWeights w = load_model_weights(model_, cfg);
    auto m = std::make_unique<Qwen3Model>(std::move(cfg), std::move(w), eo);
    m->set_shared_prefix(prefix);
    return m;
  }
  // Two forwards past the prefix (readouts in both passes' rows), concatenated.
  std::vector<float> outputs(const std::vector<int32_t>& prefix, const std::string& dir, PrefixEvents* ev) const {
    auto m = make(prefix, dir, ev);
    std::vector<float> all;
    for (int seed : {2, 3}) {
      std::vector<int32_t> ids = prefix, rest = token_ids(12 + seed, seed);
      ids.insert(ids.end(), rest.begin(), rest.end());
      const std::vector<int64_t> readout = {int64_t(prefix.size()), int64_t(ids.size()) - 1};
      std::vector<float> out(readout.size() * size_t(m->config().hidden_size));
      m->forward(ids, readout, out.data());
      all.insert(all.end(), out.begin(), out.end());
    }
    return all;
  }
  std::vector<fs::path> prefix_files() const {
    std::vector<fs::path> out;
    for (const auto& e : fs::directory_iterator(dir_))
      if (e.path().filename().string().rfind("prefix-", 0) == 0) out.push_back(e.path());
    return out;
  }
  // Loads through the cache, expecting the reference bits and these prefix events.
  void load_expect(const std::vector<float>& ref, const std::string& statuses, const std::string& detail_has = "") {
    PrefixEvents ev;
    EXPECT_TRUE(same_bits(outputs(kPrefix, dir_, &ev), ref)) << ev.details;
    EXPECT_EQ(ev.statuses, statuses) << ev.details;
    EXPECT_NE(ev.details.find(detail_has), std::string::npos) << ev.details;
  }

  // 11 prefix rows: longer than tiny-swa's window of 8.
  const std::vector<int32_t> kPrefix = token_ids(11, 1);
  std::string dir_;
};

TEST_P(PrefixCacheModel, WrittenThenHitGiveTheComputedBits) {
  const std::vector<float> ref = outputs(kPrefix, "", nullptr);
  load_expect(ref, "written", "prefix-");
  load_expect(ref, "hit");
  ASSERT_EQ(prefix_files().size(), 1u);
}

TEST_P(PrefixCacheModel, AHitIsUsed) {
  const std::vector<float> ref = outputs(kPrefix, "", nullptr);
  load_expect(ref, "written");
  const std::string path = prefix_files().at(0).string();
  std::vector<std::vector<uint8_t>> arrays;
  std::vector<CacheEntrySource> entries;
  {
    std::shared_ptr<CacheFile> f = CacheFile::open(path);
    for (const CacheEntry& e : f->table().entries)
      for (const CacheArray& a : e.arrays) arrays.emplace_back(f->at(a), f->at(a) + a.bytes);
    size_t i = 0;
    for (const CacheEntry& e : f->table().entries) {
      entries.push_back({e.name, e.meta, {}});
      for (size_t a = 0; a < e.arrays.size(); ++a, ++i) entries.back().arrays.emplace_back(arrays[i].data(), arrays[i].size());
    }
    // Layer 0's V, last prefix row (the one every readout sees, sliding windows included).
    const CacheEntry& e0 = f->table().entries.at(0);
    float* v0 = reinterpret_cast<float*>(arrays.at(1).data()) + (e0.meta.at("rows") - 1) * e0.meta.at("cols");
    for (int c = 0; c < 16; ++c) v0[c] += 1.0f;
    write_cache_file(path, f->table().key, entries);
  }
  PrefixEvents ev;
  EXPECT_FALSE(same_bits(outputs(kPrefix, dir_, &ev), ref)) << "altered K/V did not change the result";
  EXPECT_EQ(ev.statuses, "hit") << ev.details;
}

TEST_P(PrefixCacheModel, CorruptOrTruncatedFileIsRebuilt) {
  const std::vector<float> ref = outputs(kPrefix, "", nullptr);
  load_expect(ref, "written");
  const fs::path path = prefix_files().at(0);
  const auto size = fs::file_size(path);
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(std::streamoff(size - 3));
    f.put('\x5a');
  }
  load_expect(ref, "ignored,written", "checksum mismatch");
  load_expect(ref, "hit");
  fs::resize_file(path, size / 2);
  load_expect(ref, "ignored,written", "truncated");
  load_expect(ref, "hit");
}

TEST_P(PrefixCacheModel, AnotherPrefixHasItsOwnFile) {
  load_expect(outputs(kPrefix, "", nullptr), "written");
  PrefixEvents ev;
  const std::vector<int32_t> other = token_ids(11, 5);
  EXPECT_TRUE(same_bits(outputs(other, dir_, &ev), outputs(other, "", nullptr))) << ev.details;
  EXPECT_EQ(ev.statuses, "written") << ev.details;
  EXPECT_EQ(prefix_files().size(), 2u);
}

INSTANTIATE_TEST_SUITE_P(
    All, PrefixCacheModel,
    ::testing::Combine(::testing::Values("tiny-gqa3", "tiny-swa", "tiny-outlier"),
                       ::testing::Values(Precision::fp32, Precision::bf16, Precision::int8), cpu::all_kernel_sets()),
    test_model_case_name);

// The prefix cache keys on the build ID: present (CMakeLists.txt links with --build-id), hex.
TEST(BuildId, IsHexOfTheLinkedBinary) {
  const std::string& id = build_id();
  ASSERT_GE(id.size(), 16u) << "no GNU build ID in this test binary";
  EXPECT_EQ(id.find_first_not_of("0123456789abcdef"), std::string::npos) << id;
  EXPECT_EQ(&build_id(), &id);
}

}  // namespace
}  // namespace lastrank
