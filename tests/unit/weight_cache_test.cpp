// The packed-weight cache below the model: the file format's parser against damaged and hostile
// files (io/weight_cache_file.h), and the round trip PackedMatrix -> cache file -> adopted matrix
// for every format, source dtype and kernel set (backend/cpu/cpu_weight_cache.h): same image
// bytes, bit-identical GEMM output.
#include <gtest/gtest.h>

#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <tuple>
#include <vector>

#include "backend/cpu/cpu_weight_cache.h"
#include "backend/cpu/gemm.h"
#include "backend/cpu/gemm_internal.h"
#include "core/error.h"
#include "io/weight_cache_dir.h"
#include "io/weight_cache_file.h"
#include "kernel_set_fixture.h"

namespace lastrank {
namespace {

namespace fs = std::filesystem;

std::string temp_dir(const std::string& tag) {
  const fs::path p = fs::temp_directory_path() / ("lastrank-wcache-" + tag + "-" + std::to_string(::getpid()));
  fs::remove_all(p);
  fs::create_directories(p);
  return p.string();
}

std::vector<uint8_t> read_bytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(f), {});
}

void put_u64(std::vector<uint8_t>& b, size_t at, uint64_t v) { std::memcpy(&b[at], &v, 8); }
uint64_t get_u64(const std::vector<uint8_t>& b, size_t at) {
  uint64_t v;
  std::memcpy(&v, &b[at], 8);
  return v;
}

// Makes a changed image self-consistent again (file size, table checksum, prelude checksum), so
// the parser's later checks are reached.
void reseal(std::vector<uint8_t>& b) {
  put_u64(b, 16, b.size());
  const uint64_t table = get_u64(b, 24);
  put_u64(b, 32, table <= b.size() - 64 ? cache_checksum(b.data() + 64, table) : 0);
  put_u64(b, 40, cache_checksum(b.data(), 40));
}

// A valid two-entry file image.
std::vector<uint8_t> sample_file(const std::string& dir) {
  std::vector<uint8_t> a(5000, 7), c(100, 9);
  const std::string path = dir + "/sample.lrwc";
  write_cache_file(path, "the key", {{"w0", {{"n", 3}}, {{a.data(), a.size()}, {c.data(), c.size()}}},
                                     {"w1", {}, {{c.data(), c.size()}}}});
  return read_bytes(path);
}

// Replaces the table JSON (same length padded with spaces, or resized) and reseals.
std::vector<uint8_t> with_table(std::vector<uint8_t> b, const std::string& table) {
  const uint64_t old = get_u64(b, 24);
  std::vector<uint8_t> out(b.begin(), b.begin() + 64);
  out.insert(out.end(), table.begin(), table.end());
  out.insert(out.end(), b.begin() + 64 + long(old), b.end());
  put_u64(out, 24, table.size());
  reseal(out);
  return out;
}

void expect_rejected(const std::vector<uint8_t>& b, const std::string& why) {
  try {
    parse_cache_table(b.data(), b.size());
    ADD_FAILURE() << "accepted: expected " << why;
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(why), std::string::npos) << e.what();
  }
}

TEST(WeightCacheFile, WritesWhatItReads) {
  const std::string dir = temp_dir("rw");
  const std::vector<uint8_t> b = sample_file(dir);
  const CacheTable t = parse_cache_table(b.data(), b.size());
  EXPECT_EQ(t.key, "the key");
  ASSERT_EQ(t.entries.size(), 2u);
  EXPECT_EQ(t.entries[0].meta.at("n"), 3);
  ASSERT_EQ(t.entries[0].arrays.size(), 2u);
  for (const CacheEntry& e : t.entries)
    for (const CacheArray& a : e.arrays) {
      EXPECT_EQ(a.offset % kCacheAlign, 0u);
      EXPECT_EQ(cache_checksum(b.data() + a.offset, a.bytes), a.checksum);
    }
  EXPECT_EQ(b[t.entries[0].arrays[0].offset + 4999], 7);
  const auto f = CacheFile::open(dir + "/sample.lrwc");
  EXPECT_TRUE(f->verify(f->table().entries[1].arrays[0]));
  EXPECT_EQ(std::distance(fs::directory_iterator(dir), fs::directory_iterator()), 1);  // no temporary left
  fs::remove_all(dir);
}

TEST(WeightCacheFile, RejectsDamagedPreludes) {
  const std::string dir = temp_dir("prelude");
  const std::vector<uint8_t> good = sample_file(dir);
  expect_rejected({}, "shorter than");
  expect_rejected(std::vector<uint8_t>(good.begin(), good.begin() + 63), "shorter than");
  auto b = good;
  b[0] = 'X';
  expect_rejected(b, "magic");
  b = good;
  b[8] = 99;
  expect_rejected(b, "format version");
  b = good;
  std::swap(b[12], b[15]);
  expect_rejected(b, "byte order");
  b = good;
  b[20] ^= 1;  // file size field, prelude checksum not updated
  expect_rejected(b, "prelude checksum");
  b = std::vector<uint8_t>(good.begin(), good.end() - 1);
  expect_rejected(b, "truncated");
  b = good;
  b[70] ^= 1;  // table byte
  expect_rejected(b, "table checksum");
  b = good;
  put_u64(b, 24, uint64_t(1) << 40);
  put_u64(b, 40, cache_checksum(b.data(), 40));
  expect_rejected(b, "bad table size");
  fs::remove_all(dir);
}

TEST(WeightCacheFile, RejectsHostileTables) {
  const std::string dir = temp_dir("table");
  const std::vector<uint8_t> good = sample_file(dir);
  const std::string a = "\"arrays\":[[4096,100,1]]";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"not json", "table is not"},
      {"[]", "table is not"},
      {R"({"key":1,"entries":[]})", "bad key or entries"},
      {R"({"key":"k","entries":[{"name":"a","meta":{}}]})", "lacks name, meta or arrays"},
      {R"({"key":"k","entries":[{"name":7,"meta":{},)" + a + "}]}", "entry name"},
      {R"({"key":"k","entries":[{"name":"a","meta":{"n":1.5},)" + a + "}]}", "meta value"},
      {R"({"key":"k","entries":[{"name":"a","meta":{},"arrays":[]}]})", "bad arrays"},
      {R"({"key":"k","entries":[{"name":"a","meta":{},"arrays":[[4096,100]]}]})", "[offset, bytes, checksum]"},
      {R"({"key":"k","entries":[{"name":"a","meta":{},"arrays":[[-4096,100,1]]}]})", "array offset"},
      {R"({"key":"k","entries":[{"name":"a","meta":{},"arrays":[[4097,100,1]]}]})", "misplaced"},
      {R"({"key":"k","entries":[{"name":"a","meta":{},"arrays":[[0,100,1]]}]})", "misplaced"},
      {R"({"key":"k","entries":[{"name":"a","meta":{},"arrays":[[4096,0,1]]}]})", "misplaced"},
      {R"({"key":"k","entries":[{"name":"a","meta":{},"arrays":[[4096,18446744073709551615,1]]}]})", "misplaced"},
      {R"({"key":"k","entries":[{"name":"a","meta":{},"arrays":[[1048576,100,1]]}]})", "misplaced"},
      {R"({"key":"k","entries":[{"name":"a","meta":{},"arrays":[[4096,5000,1],[8192,10,1]]}]})", "overlap"},
  };
  for (const auto& [table, why] : cases) {
    SCOPED_TRACE(table);
    expect_rejected(with_table(good, table), why);
  }
  fs::remove_all(dir);
}

// Random bytes, and random damage to a valid file: Error or success, never a crash (ASan/UBSan
// builds check the reads); the fuzz target fuzz_weight_cache does this at scale.
TEST(WeightCacheFile, SurvivesRandomDamage) {
  const std::string dir = temp_dir("random");
  const std::vector<uint8_t> good = sample_file(dir);
  std::mt19937 rng(42);
  for (int i = 0; i < 2000; ++i) {
    std::vector<uint8_t> b = good;
    const int flips = 1 + int(rng() % 4);
    for (int f = 0; f < flips; ++f) b[rng() % b.size()] = uint8_t(rng());
    if (i % 2) b.resize(rng() % b.size());
    if (i % 3 == 0 && b.size() >= 64) reseal(b);
    try {
      parse_cache_table(b.data(), b.size());
    } catch (const Error&) {
    }
  }
  fs::remove_all(dir);
}

TEST(WeightCacheDir, DefaultFollowsTheEnvironment) {
  ::setenv("LASTRANK_WEIGHT_CACHE", "/some/dir", 1);
  EXPECT_EQ(default_weight_cache_dir(), "/some/dir");
  EXPECT_EQ(resolve_weight_cache_dir("/flag", false), "/flag");
  EXPECT_EQ(resolve_weight_cache_dir("/flag", true), "");
  ::setenv("LASTRANK_WEIGHT_CACHE", "off", 1);
  EXPECT_EQ(default_weight_cache_dir(), "");
  ::unsetenv("LASTRANK_WEIGHT_CACHE");
  ::setenv("XDG_CACHE_HOME", "/xdg", 1);
  EXPECT_EQ(default_weight_cache_dir(), "/xdg/lastrank");
  ::unsetenv("XDG_CACHE_HOME");
  ::setenv("HOME", "/home/u", 1);
  EXPECT_EQ(default_weight_cache_dir(), "/home/u/.cache/lastrank");
  EXPECT_NE(weight_cache_path("/d", "a"), weight_cache_path("/d", "b"));
}

TEST(WeightCacheDir, PruneKeepsTheNewest) {
  const std::string dir = temp_dir("prune");
  for (int i = 0; i < kWeightCacheKeep + 3; ++i) {
    const std::string p = weight_cache_path(dir, std::to_string(i));
    std::ofstream(p) << i;
    fs::last_write_time(p, fs::file_time_type::clock::now() - std::chrono::minutes(100 - i));
  }
  std::ofstream(dir + "/unrelated.txt") << "x";
  const std::string keep = weight_cache_path(dir, "0");  // the oldest, but just written
  prune_weight_cache(dir, keep);
  int left = 0;
  for (const auto& e : fs::directory_iterator(dir)) left += e.path().extension() == ".lrwc";
  EXPECT_EQ(left, kWeightCacheKeep);
  EXPECT_TRUE(fs::exists(keep));
  EXPECT_TRUE(fs::exists(weight_cache_path(dir, std::to_string(kWeightCacheKeep + 2))));  // newest
  EXPECT_FALSE(fs::exists(weight_cache_path(dir, "1")));
  EXPECT_TRUE(fs::exists(dir + "/unrelated.txt"));
  EXPECT_NE(weight_cache_dir_problem(dir + "/unrelated.txt/sub", 1), "");  // cannot be a directory
  EXPECT_EQ(weight_cache_dir_problem(dir, 1), "");
  fs::remove_all(dir);
}

// A writer that died leaves ".tmp-<cache file name>.XXXXXX" (weight_cache_write.cpp): pruning
// removes those of every kind once they are an hour old, and nothing else.
TEST(WeightCacheDir, PruneRemovesStaleTempFilesOfEveryKind) {
  const std::string dir = temp_dir("prune-temp");
  const auto hours_ago = [](int h) { return fs::file_time_type::clock::now() - std::chrono::hours(h); };
  auto temp_of = [&](CacheFileKind kind, const std::string& key, const std::string& suffix) {
    const std::string name = fs::path(weight_cache_path(dir, key, kind)).filename().string();
    return dir + "/.tmp-" + name + suffix;
  };
  std::vector<std::string> stale, kept;
  for (CacheFileKind kind : kCacheFileKinds) {
    stale.push_back(temp_of(kind, "old", ".AbC123"));
    kept.push_back(temp_of(kind, "new", ".XyZ789"));
  }
  kept.push_back(dir + "/.tmp-other-0123.lrwc.AbC123");  // not a cache writer's
  for (const std::string& p : stale) std::ofstream(p) << "x";
  for (const std::string& p : kept) std::ofstream(p) << "x";
  for (const std::string& p : stale) fs::last_write_time(p, hours_ago(2));
  fs::last_write_time(kept.back(), hours_ago(2));
  prune_weight_cache(dir, weight_cache_path(dir, "any"));
  for (const std::string& p : stale) EXPECT_FALSE(fs::exists(p)) << p;
  for (const std::string& p : kept) EXPECT_TRUE(fs::exists(p)) << p;
  fs::remove_all(dir);
}

// ---- PackedMatrix round trip, per kernel set.
using cpu::PackFormat;

class WeightCacheRoundTrip : public cpu::KernelSetTest<std::tuple<PackFormat, DType, cpu::KernelSet>> {};

TEST_P(WeightCacheRoundTrip, AdoptedMatrixIsBitIdentical) {
  const PackFormat f = std::get<0>(GetParam());
  const DType dt = std::get<1>(GetParam());
  const int64_t n = 45, k = 70, m = 5;
  std::mt19937 rng(7);
  std::normal_distribution<float> nd;
  std::vector<uint8_t> raw(size_t(n * k) * dtype_size(dt));
  for (int64_t i = 0; i < n * k; ++i) {
    const float v = nd(rng) * (i % k == 5 ? 50.0f : 1.0f);
    const uint16_t h = dt == DType::BF16 ? f32_to_bf16(v) : f32_to_f16(v);
    if (dt == DType::F32) std::memcpy(&raw[size_t(i) * 4], &v, 4);
    else std::memcpy(&raw[size_t(i) * 2], &h, 2);
  }
  TensorView w;
  w.dtype = dt;
  w.rank = 2;
  w.shape = {n, k, 0, 0};
  w.data = raw.data();
  w.name = "w";
  std::vector<std::unique_ptr<cpu::PackedMatrix>> packed;
  packed.push_back(cpu::pack_matrix(w, f));
  const std::vector<cpu::CacheItem> items = {cpu::cache_item(w, f)};
  const std::string dir = temp_dir("trip");
  const std::string path = dir + "/m.lrwc";
  cpu::write_weight_cache(path, "k", items, packed);
  ThreadPool pool(2);
  auto adopted = cpu::read_weight_cache(CacheFile::open(path), "k", items, pool);
  ASSERT_EQ(adopted.size(), 1u);
  EXPECT_EQ(adopted[0]->bytes(), 0u);  // reads the mapping, holds no copy
  const cpu::PackedImage a = packed[0]->image(), b = adopted[0]->image();
  ASSERT_EQ(a.arrays.size(), b.arrays.size());
  for (size_t i = 0; i < a.arrays.size(); ++i) {
    ASSERT_EQ(a.arrays[i].bytes, b.arrays[i].bytes);
    EXPECT_EQ(std::memcmp(a.arrays[i].data, b.arrays[i].data, a.arrays[i].bytes), 0);
  }
  std::vector<float> x(size_t(m * k)), y0(size_t(m * n)), y1(size_t(m * n));
  for (float& v : x) v = nd(rng);
  cpu::Workspace ws;
  packed[0]->apply(x.data(), m, y0.data(), n, pool, ws);
  adopted[0]->apply(x.data(), m, y1.data(), n, pool, ws);
  EXPECT_EQ(std::memcmp(y0.data(), y1.data(), y0.size() * 4), 0);
  // A different key, or items of another shape, are refused.
  EXPECT_THROW(cpu::read_weight_cache(CacheFile::open(path), "other", items, pool), Error);
  std::vector<cpu::CacheItem> wrong = items;
  wrong[0].k += 1;
  EXPECT_THROW(cpu::read_weight_cache(CacheFile::open(path), "k", wrong, pool), Error);
  fs::remove_all(dir);
}

std::string round_trip_name(const ::testing::TestParamInfo<std::tuple<PackFormat, DType, cpu::KernelSet>>& i) {
  std::string s = cat(cpu::pack_format_name(std::get<0>(i.param)), "_", dtype_name(std::get<1>(i.param)), "_",
                      cpu::kernel_set_name(std::get<2>(i.param)));
  for (char& c : s)
    if (c == '-') c = '_';
  return s;
}

INSTANTIATE_TEST_SUITE_P(All, WeightCacheRoundTrip,
                         ::testing::Combine(::testing::Values(PackFormat::fp32, PackFormat::bf16_weights,
                                                              PackFormat::bf16_dot, PackFormat::int8),
                                            ::testing::Values(DType::F32, DType::BF16, DType::F16),
                                            cpu::all_kernel_sets()),
                         round_trip_name);

TEST(WeightCacheKey, NamesWhatThePackedBytesDependOn) {
  const std::vector<cpu::CacheItem> items = {{"a", PackFormat::int8, 4, 8, 1}};
  const std::string key = cpu::weight_cache_key("ckpt", items);
  for (const char* part : {"cache format: 1", "kernel set: ", "packers: ", "checkpoint: ckpt", "a int8 [4, 8] x1",
                           "byte order: "})
    EXPECT_NE(key.find(part), std::string::npos) << part << "\n" << key;
  EXPECT_NE(key, cpu::weight_cache_key("ckpt2", items));
  std::vector<cpu::CacheItem> other = items;
  other[0].format = PackFormat::bf16_dot;
  EXPECT_NE(key, cpu::weight_cache_key("ckpt", other));
}

// The packers' fingerprint is per kernel set where their output differs (int8 weight levels,
// bf16 pair layout).
TEST(WeightCacheKey, FingerprintDiffersBetweenSetsThatPackDifferently) {
  std::map<std::string, cpu::KernelSet> by_print;
  for (cpu::KernelSet s : cpu::architecture_kernel_sets()) {
    if (!cpu::kernel_set_unavailable(s).empty()) continue;
    cpu::KernelSetScope scope(s);
    EXPECT_EQ(cpu::packer_fingerprint(), cpu::packer_fingerprint());
    by_print.emplace(cpu::packer_fingerprint(), s);
  }
  std::set<int> qmax;
  for (cpu::KernelSet s : cpu::architecture_kernel_sets())
    if (cpu::kernel_set_unavailable(s).empty()) {
      cpu::KernelSetScope scope(s);
      qmax.insert(cpu::int8_weight_qmax() * 2 + cpu::gemm_bf16_dot_rounds_activations());
    }
  EXPECT_GE(by_print.size(), qmax.size());
}

}  // namespace
}  // namespace lastrank
