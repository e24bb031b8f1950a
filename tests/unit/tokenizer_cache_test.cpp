// The tokenizer cache (tokenizer/tokenizer_cache.h): a tokenizer read back from its cache file
// encodes, decodes and names every token as the one parsed from tokenizer.json (the tiny
// tokenizer in variants that use every field, and the real Qwen3 + jina one when .deps/tokenizer
// is there); loading through a cache directory writes, then hits; an edited tokenizer.json gets a
// file of its own; a corrupt file is ignored and rewritten; values a crafted file could hold (ids
// that are not tokens, offsets out of order, strings that are not whole UTF-8, unknown flags or
// entries, another key) are refused.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/build_id.h"
#include "core/error.h"
#include "io/weight_cache_dir.h"
#include "io/weight_cache_file.h"
#include "tokenizer/tokenizer_cache.h"
#include "tokenizer/tokenizer_json.h"
#include "expect_error.h"
#include "test_paths.h"
#include "tiny_tokenizer_json.h"

namespace lastrank {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

template <typename F>
void expect_refused(F&& f, const std::string& what) {
  expect_error(std::forward<F>(f), {what.c_str()});
}

class TokenizerCache : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = (fs::temp_directory_path() / cat("lastrank-tcache-", ::getpid())).string();
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // json_text parsed, written to a cache file under `key` and read back from it.
  std::unique_ptr<Tokenizer> read_back(const std::string& json_text) const {
    tok::write_tokenizer_cache(file(), "key", tok::parse_tokenizer_json(json_text));
    return std::make_unique<tok::BpeTokenizer>(tok::read_tokenizer_cache(*CacheFile::open(file()), "key"));
  }
  std::string file() const { return dir_ + "/t.lrwc"; }
  std::string write_json(const json& j, const char* name) const {
    const std::string path = dir_ + "/" + name;
    std::ofstream(path) << j.dump();
    return path;
  }
  std::string dir_;
};

const char* const kTexts[] = {"",
                              "aaaaa aaaa ab",
                              " ab  ab\t\n ",
                              "<|x|>><|x|> <|x|>\n<|x|",
                              "hi <|x|> \xC3\xA9 e\xCC\x81 \xEF\xAC\x81",
                              "Stra\xC3\x9F" "e \xE6\x9D\xB1\xE4\xBA\xAC 123456 it's I'M",
                              "\xFF\xFE broken \xC3",
                              "<|embed_token|><|rerank_token|> query: <|im_start|>system",
                              "a<|x|>b <|x|>>c xyz xyzxyz \xC2\xBFqu\xC3\xA9?",
                              "xyz",
                              "<|x|>>   d \xC3\xA9t\xC3\xA9  x"};

// Every observable answer of a and b agrees: ids, decodes, token names, special flags, bytes.
void expect_same(const Tokenizer& a, const Tokenizer& b) {
  ASSERT_EQ(a.vocab_size(), b.vocab_size());
  for (const char* text : kTexts) {
    const std::vector<int32_t> ids = a.encode(text);
    EXPECT_EQ(ids, b.encode(text)) << text;
    EXPECT_EQ(a.decode(ids), b.decode(ids)) << text;
    EXPECT_EQ(a.encode_truncated(text, 3), b.encode_truncated(text, 3)) << text;
  }
  for (int32_t id = -1; id <= a.vocab_size(); ++id) {
    ASSERT_EQ(a.id_to_token(id), b.id_to_token(id)) << id;
    ASSERT_EQ(a.is_special(id), b.is_special(id)) << id;
    ASSERT_EQ(a.token_bytes(id), b.token_bytes(id)) << id;
    if (auto name = a.id_to_token(id)) {
      ASSERT_EQ(a.token_to_id(*name), b.token_to_id(*name)) << id;
    }
  }
}

// The tiny tokenizer with every field the cache keeps set one way or the other.
std::vector<json> tiny_variants() {
  std::vector<json> v{tiny_json()};
  json unk = tiny_json();  // an unk token, flags on the added tokens, no normalizer, ignore_merges
  unk["model"]["unk_token"] = "ab";
  unk["model"]["vocab"].erase("\xC2\xBF");  // byte 0xBF has no token: it becomes the unk token
  unk["model"]["ignore_merges"] = true;
  unk["model"]["vocab"]["xyz"] = 300;  // no merge makes it: only ignore_merges finds it whole
  unk["normalizer"] = nullptr;
  unk["added_tokens"][0]["single_word"] = true;
  unk["added_tokens"][0]["lstrip"] = true;
  unk["added_tokens"][1]["rstrip"] = true;
  unk["added_tokens"][1]["normalized"] = true;
  unk["added_tokens"].push_back({{"id", 0}, {"content", "\xC3\xA9t\xC3\xA9"}, {"special", false}, {"rstrip", true}});
  v.push_back(unk);
  json none = tiny_json();  // no added tokens, no merges: their entries are left out
  none["added_tokens"] = json::array();
  none["model"]["merges"] = json::array();
  v.push_back(none);
  return v;
}

TEST_F(TokenizerCache, TinyTokenizerReadBackAnswersAsParsed) {
  const std::vector<json> variants = tiny_variants();
  for (size_t i = 0; i < variants.size(); ++i) {
    SCOPED_TRACE(cat("variant ", i));
    const std::string text = variants[i].dump();
    expect_same(*Tokenizer::load_json(text), *read_back(text));
  }
}

TEST_F(TokenizerCache, RealTokenizerReadBackAnswersAsParsed) {
  const std::string path = std::string(LASTRANK_DEPS_DIR) + "/tokenizer/tokenizer.json";
  if (!fs::exists(path)) GTEST_SKIP() << path << " is missing (scripts/setup.sh fetches it)";
  std::ifstream f(path);
  const std::string text((std::istreambuf_iterator<char>(f)), {});
  expect_same(*Tokenizer::load_json(text), *read_back(text));
}

// The cache statuses of one load_tokenizer_file, "status,status".
std::string load_statuses(const std::string& path, const std::string& dir, std::unique_ptr<Tokenizer>* out,
                          std::string* details = nullptr) {
  std::string statuses;
  *out = load_tokenizer_file(path, dir, [&](const std::string& status, const std::string& detail) {
    if (!statuses.empty()) statuses += ',';
    statuses += status;
    if (details) *details += detail + "\n";
  });
  return statuses;
}

size_t tokenizer_files(const std::string& dir) {
  size_t n = 0;
  for (const auto& e : fs::directory_iterator(dir)) n += e.path().filename().string().rfind("tokenizer-", 0) == 0;
  return n;
}

TEST_F(TokenizerCache, LoadWritesThenHitsAndAnEditedFileGetsItsOwn) {
  if (build_id().empty()) GTEST_SKIP() << "this build has no GNU build ID: nothing is cached";
  const std::string cache = dir_ + "/cache", path = write_json(tiny_json(), "tokenizer.json");
  std::unique_ptr<Tokenizer> plain = Tokenizer::load_file(path), first, second;
  EXPECT_EQ(load_statuses(path, cache, &first), "written");
  EXPECT_EQ(load_statuses(path, cache, &second), "hit");
  expect_same(*plain, *first);
  expect_same(*plain, *second);
  EXPECT_EQ(tokenizer_files(cache), 1u);

  json edited = tiny_json();  // one merge fewer: "aaaaa" no longer ends as one token
  edited["model"]["merges"].erase(edited["model"]["merges"].size() - 1);
  write_json(edited, "tokenizer.json");
  std::unique_ptr<Tokenizer> after;
  EXPECT_EQ(load_statuses(path, cache, &after), "written");
  EXPECT_EQ(tokenizer_files(cache), 2u);
  expect_same(*Tokenizer::load_file(path), *after);
  EXPECT_NE(after->encode("aaaaa"), plain->encode("aaaaa"));
}

TEST_F(TokenizerCache, CorruptFileIsIgnoredAndRewritten) {
  if (build_id().empty()) GTEST_SKIP() << "this build has no GNU build ID: nothing is cached";
  const std::string cache = dir_ + "/cache", path = write_json(tiny_json(), "tokenizer.json");
  std::unique_ptr<Tokenizer> t;
  ASSERT_EQ(load_statuses(path, cache, &t), "written");
  const std::string cached = fs::directory_iterator(cache)->path().string();
  uint64_t at = 0;  // the last byte of the merges
  const std::shared_ptr<CacheFile> before = CacheFile::open(cached);
  for (const CacheEntry& e : before->table().entries)
    if (e.name == "merges") at = e.arrays.at(0).offset + e.arrays.at(0).bytes - 1;
  ASSERT_GT(at, 0u);
  {
    std::fstream f(cached, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(std::streamoff(at));
    const char c = char(f.get() ^ 0x40);
    f.seekp(std::streamoff(at));
    f.put(c);
  }
  std::string details;
  EXPECT_EQ(load_statuses(path, cache, &t, &details), "ignored,written");
  EXPECT_NE(details.find("checksum mismatch"), std::string::npos) << details;
  expect_same(*Tokenizer::load_file(path), *t);
  EXPECT_EQ(load_statuses(path, cache, &t), "hit");
}

// A cache file holding `spec` as the writer stores it, read back: the error's message.
TEST_F(TokenizerCache, ValuesThatAreNotTokensAreRefused) {
  auto spec = [] { return tok::parse_tokenizer_json(tiny_json().dump()); };
  auto refused = [&](tok::TokenizerSpec s, const std::string& what) {
    tok::write_tokenizer_cache(file(), "key", s);
    expect_refused([&] { (void)tok::read_tokenizer_cache(*CacheFile::open(file()), "key"); }, what);
  };
  auto with_model = [&](std::vector<int32_t> byte_ids, tok::MergeMap merges, int32_t unk) {
    tok::TokenizerSpec s = spec();
    s.model = std::make_unique<tok::BpeModel>(std::move(byte_ids), std::move(merges), unk);
    return s;
  };
  const tok::TokenizerSpec good = spec();
  const std::vector<int32_t> bytes = good.model->byte_ids();
  const int32_t n = int32_t(good.id_to_token.size());
  tok::MergeMap bad_id, bad_left;
  bad_id.insert(97, 97, {0, n});
  bad_left.insert(-5, 97, {0, 256});
  refused(with_model(bytes, bad_id, -1), "merge: id " + std::to_string(n) + " is not a token");
  refused(with_model(bytes, bad_left, -1), "merge: id -5 is not a token");
  refused(with_model(bytes, {}, n + 3), "unk_token: id");
  std::vector<int32_t> hole = bytes;
  hole[7] = 200;
  tok::TokenizerSpec s = with_model(hole, {}, -1);
  s.has_token[200] = 0;  // an id inside the table that is no token
  refused(std::move(s), "byte token: id 200 is not a token");
  tok::TokenizerSpec added = spec();
  added.added[0].id = n;
  refused(std::move(added), "added token: id");

  tok::write_tokenizer_cache(file(), "key", spec());
  expect_refused([&] { (void)tok::read_tokenizer_cache(*CacheFile::open(file()), "another key"); }, "its key differs");
}

// Entries written by hand: what the writer never makes, a crafted file can hold.
TEST_F(TokenizerCache, CraftedEntriesAreRefused) {
  const std::vector<int32_t> byte_ids(256, -1);
  const std::map<std::string, int64_t> head{{"tokens", 2},  {"string_bytes", 2}, {"added", 0},        {"added_bytes", 0},
                                            {"merges", 0},  {"nfc", 0},          {"ignore_merges", 0}, {"unk_id", -1}};
  const uint8_t present[2] = {1, 1};
  const uint32_t no_added = 0;
  auto read = [&](const std::vector<uint32_t>& offsets, std::map<std::string, int64_t> meta,
                  std::vector<CacheEntrySource> extra, const char* token_bytes = "ab") {
    std::vector<CacheEntrySource> e{{"tokenizer", std::move(meta), {{byte_ids.data(), 1024}}},
                                    {"token offsets", {}, {{offsets.data(), offsets.size() * 4}}},
                                    {"token bytes", {}, {{token_bytes, 2}}},
                                    {"token present", {}, {{present, 2}}}};
    bool own_added_offsets = false;
    for (const CacheEntrySource& x : extra) own_added_offsets |= x.name == "added offsets";
    if (!own_added_offsets) e.push_back({"added offsets", {}, {{&no_added, 4}}});  // [added + 1], always there
    e.insert(e.end(), extra.begin(), extra.end());
    write_cache_file(file(), "key", e);
    return tok::read_tokenizer_cache(*CacheFile::open(file()), "key");
  };
  EXPECT_EQ(read({0, 1, 2}, head, {}).id_to_token, (std::vector<std::string>{"a", "b"}));  // the frame is valid
  expect_refused([&] { (void)read({0, 3, 2}, head, {}); }, "tokens: offset 2 goes backwards");
  expect_refused([&] { (void)read({0, 1, 3}, head, {}); }, "do not span the 2 bytes");
  expect_refused([&] { (void)read({0, 1}, head, {}); }, "\"token offsets\" does not hold 3 elements");
  expect_refused([&] { (void)read({0, 1, 2}, head, {}, "\xC3\xA9"); }, "tokens: string 1 starts inside a UTF-8 sequence");
  expect_refused([&] { (void)read({0, 1, 2}, head, {}, "a\xC3"); }, "tokens: the strings are not valid UTF-8");
  const uint8_t odd_flag = 32;
  const int32_t id0 = 0;
  const uint32_t one_offsets[2] = {0, 1};
  auto with = [&](const char* field, int64_t v) {
    auto m = head;
    m[field] = v;
    return m;
  };
  expect_refused([&] { (void)read({0, 1, 2}, with("added", 1),
                             {{"added ids", {}, {{&id0, 4}}},
                              {"added flags", {}, {{&odd_flag, 1}}},
                              {"added offsets", {}, {{one_offsets, 8}}}}); },
                        "added tokens: the offsets do not span the 0 bytes");
  auto added = with("added", 1);
  added["added_bytes"] = 1;
  expect_refused([&] { (void)read({0, 1, 2}, added,
                             {{"added ids", {}, {{&id0, 4}}},
                              {"added flags", {}, {{&odd_flag, 1}}},
                              {"added offsets", {}, {{one_offsets, 8}}},
                              {"added bytes", {}, {{"a", 1}}}}); },
                        "added token 0: unknown flags 32");
  expect_refused([&] { (void)read({0, 1, 2}, with("tokens", int64_t(1) << 30), {}); }, "tokens = 1073741824 is outside");
  expect_refused([&] { (void)read({0, 1, 2}, with("nfc", 2), {}); }, "nfc = 2 is outside [0, 1]");
  expect_refused([&] { (void)read({0, 1, 2}, head, {{"surprise", {}, {{"x", 1}}}}); }, "unknown entry \"surprise\"");
  expect_refused([&] { (void)read({0, 1, 2}, head, {{"merges", {}, {{byte_ids.data(), 16}}}}); },
                        "entry \"merges\" should be absent");
  auto extra_field = head;
  extra_field["more"] = 1;
  expect_refused([&] { (void)read({0, 1, 2}, extra_field, {}); }, "the header has 9 fields, expected 8");
}

}  // namespace
}  // namespace lastrank
