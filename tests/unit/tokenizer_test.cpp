// Tokenizer unit tests that need no fetched data: tokenizer.json validation (untrusted input ->
// lastrank::Error), the fast BPE merge loops against the reference on awkward sizes, long runs,
// added-token overlaps, invalid UTF-8 input and decode of unknown ids. The real-tokenizer parts
// skip when .deps/tokenizer is missing.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <random>

#include "core/error.h"
#include "tokenizer/bpe_model.h"
#include "tokenizer/pre_tokenizer.h"
#include "tokenizer/tokenizer.h"
#include "test_paths.h"
#include "tiny_tokenizer_json.h"

namespace lastrank {
namespace {

using nlohmann::json;

TEST(Tokenizer, TinyTokenizerEncodesAndDecodes) {
  auto tok = Tokenizer::load_json(tiny_json().dump());
  EXPECT_EQ(tok->vocab_size(), 256 + 5 + 2);
  // "aaaaa" -> aa+aa -> aaaa, then aaaa+a.
  EXPECT_EQ(tok->encode("aaaaa"), (std::vector<int32_t>{260}));
  EXPECT_EQ(tok->encode(" ab"), (std::vector<int32_t>{259}));
  // Added tokens: leftmost-longest, adjacent, near misses stay text.
  EXPECT_EQ(tok->encode("<|x|>><|x|>"), (std::vector<int32_t>{262, 261}));
  EXPECT_EQ(tok->encode("<|x|"), tok->encode("<|x|"));
  EXPECT_EQ(tok->decode(tok->encode("hi <|x|> \xC3\xA9")), "hi <|x|> \xC3\xA9");
  EXPECT_EQ(tok->token_to_id("<|x|>"), 261);
  EXPECT_EQ(tok->id_to_token(262), "<|x|>>");
  EXPECT_EQ(tok->id_to_token(-1), std::nullopt);
  EXPECT_EQ(tok->id_to_token(100000), std::nullopt);
}

TEST(Tokenizer, InvalidUtf8InputIsReplacedLikePython) {
  auto tok = Tokenizer::load_json(tiny_json().dump());
  EXPECT_EQ(tok->encode("a\xE4\xB8" "b"), tok->encode("a\xEF\xBF\xBD" "b"));
  EXPECT_EQ(tok->encode("\xFF"), tok->encode("\xEF\xBF\xBD"));
  EXPECT_EQ(tok->encode(std::string("a\0b", 3)).size(), 3u);
}

TEST(Tokenizer, DecodeSkipsUnknownIdsAndReplacesCutUtf8) {
  auto tok = Tokenizer::load_json(tiny_json().dump());
  EXPECT_EQ(tok->decode({-5, 'h' - 0, 999999}), "h");
  EXPECT_EQ(tok->decode({0xE4, 0xB8}), "\xEF\xBF\xBD");           // cut 3-byte sequence
  EXPECT_EQ(tok->decode({0xE4, 0xB8, 0xAD}), "\xE4\xB8\xAD");     // whole
  EXPECT_EQ(tok->decode({}), "");
}

TEST(Tokenizer, MalformedJsonThrowsErrors) {
  const std::vector<std::string> bad_texts = {"", "{", "[]", "null", "{\"model\": 1}", "\xFF\xFE"};
  for (const auto& t : bad_texts) EXPECT_THROW(Tokenizer::load_json(t), Error) << t;
  auto mutate = [](auto f) {
    json j = tiny_json();
    f(j);
    return j.dump();
  };
  const std::vector<std::string> bad = {
      mutate([](json& j) { j.erase("model"); }),
      mutate([](json& j) { j["model"]["type"] = "WordPiece"; }),
      mutate([](json& j) { j["model"]["vocab"] = json::array(); }),
      mutate([](json& j) { j["model"]["vocab"]["a"] = "x"; }),
      mutate([](json& j) { j["model"]["vocab"]["a"] = -1; }),
      mutate([](json& j) { j["model"]["vocab"]["a"] = 2000000000; }),
      mutate([](json& j) { j["model"]["merges"] = json::object(); }),
      mutate([](json& j) { j["model"]["merges"].push_back(json::array({"zz", "q"})); }),
      mutate([](json& j) { j["model"]["merges"].push_back(json::array({"b", "b"})); }),  // "bb" not in vocab
      mutate([](json& j) { j["model"]["merges"].push_back("a b c"); }),
      mutate([](json& j) { j["model"]["merges"].push_back(json::array({"a"})); }),
      mutate([](json& j) { j["model"]["merges"].push_back(7); }),
      mutate([](json& j) { j["model"]["dropout"] = 0.1; }),
      mutate([](json& j) { j["model"]["byte_fallback"] = true; }),
      mutate([](json& j) { j["normalizer"] = {{"type", "NFKC"}}; }),
      mutate([](json& j) { j["normalizer"] = 3; }),
      mutate([](json& j) { j["pre_tokenizer"]["pretokenizers"][0]["pattern"]["Regex"] = "\\s+"; }),
      mutate([](json& j) { j["pre_tokenizer"]["pretokenizers"][0]["behavior"] = "Removed"; }),
      mutate([](json& j) { j["pre_tokenizer"]["pretokenizers"][1]["use_regex"] = true; }),
      mutate([](json& j) { j["pre_tokenizer"] = nullptr; }),
      mutate([](json& j) { j["decoder"] = {{"type", "WordPiece"}}; }),
      mutate([](json& j) { j["added_tokens"] = json::object(); }),
      mutate([](json& j) { j["added_tokens"][0]["content"] = 5; }),
      mutate([](json& j) { j["added_tokens"][0]["special"] = "yes"; }),
      mutate([](json& j) { j["added_tokens"][0].erase("content"); }),
  };
  for (size_t i = 0; i < bad.size(); ++i) EXPECT_THROW(Tokenizer::load_json(bad[i]), Error) << "case " << i;
  EXPECT_THROW(Tokenizer::load_file("/nonexistent/tokenizer.json"), Error);
}

// The loader resolves merges in batches (src/tokenizer/tokenizer_json.cpp, resolve_merges): a list
// longer than several batches keeps every merge's ids and rank, and an error names its own rank.
TEST(Tokenizer, MergesAcrossLoadBatchesKeepTheirIdsAndRanks) {
  constexpr int kPairs = 100;  // two-letter merges at ranks 0..101: batches of 32 crossed 3 times
  auto with_merges = [](const std::vector<std::pair<std::string, std::string>>& merges) {
    json j = tiny_json();
    json& vocab = j["model"]["vocab"];
    int id = 1000;
    json list = json::array();
    for (const auto& [l, r] : merges) {
      list.push_back(json::array({l, r}));
      if (!vocab.contains(l + r)) vocab[l + r] = id++;
    }
    j["model"]["merges"] = list;
    j["added_tokens"] = json::array();
    return j;
  };
  const std::string letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
  std::vector<std::pair<std::string, std::string>> merges;
  for (size_t k = 0; merges.size() < kPairs; ++k) {
    const std::string l(1, letters[k % letters.size()]), r(1, letters[(k / letters.size() + 2 + k) % letters.size()]);
    if (l + r != "ab" && l + r != "bc") merges.emplace_back(l, r);
  }
  merges.insert(merges.begin() + 35, {"b", "c"});  // rank 35 beats "a b" at rank 70: "abc" = a + bc
  merges.insert(merges.begin() + 70, {"a", "b"});
  json j = with_merges(merges);
  auto tok = Tokenizer::load_json(j.dump());
  for (size_t rank = 0; rank < merges.size(); ++rank) {
    const std::string word = merges[rank].first + merges[rank].second;
    EXPECT_EQ(tok->encode(word), (std::vector<int32_t>{j["model"]["vocab"][word].get<int32_t>()})) << "rank " << rank;
  }
  EXPECT_EQ(tok->encode("abc"), (std::vector<int32_t>{'a', j["model"]["vocab"]["bc"].get<int32_t>()}));

  merges[70] = {"zz", "a"};  // "zz" is no token: the error names rank 70, not its batch's first
  json bad = with_merges(merges);
  bad["model"]["vocab"].erase("zz");
  try {
    Tokenizer::load_json(bad.dump());
    ADD_FAILURE() << "a merge of an unknown token loaded";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("model.merges[70] uses a token not in the vocab: \"zz\""), std::string::npos) << e.what();
  }
}

TEST(Tokenizer, FastBpeMatchesReferenceOnAwkwardSizes) {
  // Random words over a tiny alphabet make many merge candidates and ties; sizes cross the
  // small/heap switch (64 symbols).
  tok::MergeMap merges;
  std::mt19937 rng(1234);
  std::vector<int32_t> byte_ids(256);
  for (int b = 0; b < 256; ++b) byte_ids[static_cast<size_t>(b)] = b;
  int32_t next_id = 256;
  std::vector<int32_t> known = {'a', 'b', 'c'};
  for (uint32_t rank = 0; rank < 300; ++rank) {
    const int32_t l = known[rng() % known.size()], r = known[rng() % known.size()];
    if (merges.find(l, r).rank != tok::MergeMap::kNoRank) continue;
    merges.insert(l, r, {rank, next_id});
    known.push_back(next_id++);
  }
  tok::BpeModel model(byte_ids, merges, -1);
  for (size_t len : {0, 1, 2, 3, 7, 31, 63, 64, 65, 66, 100, 127, 128, 129, 500, 2000}) {
    for (int trial = 0; trial < 20; ++trial) {
      std::string w;
      for (size_t i = 0; i < len; ++i) w.push_back("abcd"[rng() % (trial % 2 ? 4 : 2)]);
      std::vector<int32_t> fast, ref;
      model.encode_word(w, fast);
      model.encode_word_reference(w, ref);
      ASSERT_EQ(fast, ref) << "len " << len << " word " << w;
    }
  }
}

std::string real_path() { return std::string(LASTRANK_DEPS_DIR) + "/tokenizer/tokenizer.json"; }

TEST(Tokenizer, LongRunsStayFast) {
  if (!std::filesystem::exists(real_path())) GTEST_SKIP() << "no " << real_path();
  auto tok = Tokenizer::load_file(real_path());
  // 100 KB of one letter is one pre-token: the heap merge keeps it O(n log n).
  for (const std::string unit : {"a", " ", "\xE4\xB8\xAD", "1", "!", "\n", "\xC3\xA9"}) {
    std::string s;
    while (s.size() < 100000) s += unit;
    const auto t0 = std::chrono::steady_clock::now();
    const auto ids = tok->encode(s);
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    EXPECT_FALSE(ids.empty());
    EXPECT_EQ(tok->decode(ids), s);
    // Generous for ASan/UBSan and a loaded machine; quadratic behaviour takes minutes.
    EXPECT_LT(secs, 5.0) << "unit '" << unit << "'";
  }
}

}  // namespace
}  // namespace lastrank
