// Tokenizer::token_ends, the token boundaries chunking cuts documents at (src/api/chunking.h):
// on the parity corpus and on awkward texts (CJK, emoji, combining marks, whitespace runs, added
// tokens, text that is not NFC), every known end is where that token's bytes end, and cutting the
// text there tokenizes both sides to exactly the ids before and after. Needs the real tokenizer
// (.deps/tokenizer, scripts/setup.sh); skips without it.
#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <algorithm>
#include <filesystem>
#include <iostream>
#include <fstream>
#include <nlohmann/json.hpp>

#include "api/chunking.h"
#include "api/truncation.h"
#include "tokenizer/tokenizer.h"
#include "test_paths.h"

namespace lastrank {
namespace {

std::string tokenizer_path() { return std::string(LASTRANK_DEPS_DIR) + "/tokenizer/tokenizer.json"; }

const Tokenizer* real_tokenizer() {
  static const std::unique_ptr<Tokenizer> tok =
      std::filesystem::exists(tokenizer_path()) ? Tokenizer::load_file(tokenizer_path()) : nullptr;
  return tok.get();
}

std::vector<std::string> corpus_texts() {
  std::vector<std::string> out;
  std::ifstream in(std::string(LASTRANK_SOURCE_DIR) + "/tests/data/tokenizer/parity_corpus.jsonl");
  for (std::string line; std::getline(in, line);) {
    const auto j = nlohmann::json::parse(line);
    if (j.contains("text")) out.push_back(j["text"].get<std::string>());
  }
  return out;
}

const std::vector<std::string> kAwkward = {
    "北京是中华人民共和国的首都，也是全国的政治中心和文化中心。东京是日本的首都。서울은 대한민국의 수도입니다.",
    "emoji 👩‍👩‍👧‍👦 family, flags 🇫🇷🇩🇪, skin 👍🏽 and keycaps 1️⃣ 🙂🙂🙂",
    "combining: e\u0301 a\u0308 o\u0323\u0302 precomposed: \u00e9 \u1ec7; Hangul jamo \u1100\u1161\u11a8 and \u212b",
    "whitespace   runs\t\t\tand\n\n\nnewlines  \r\n  end   ",
    "   leading and trailing   ",
    "added <|im_start|>tokens<|im_end|> inside <|embed_token|>text",
    "numbers 1234567890 3.14159 and punctuation!!! ??? ... ---",
    "don't it's we're they've I'm you'll he'd 'quoted' O'Neil",
    std::string(300, 'a') + " " + std::string(200, '-') + "\n",
    "日本語のテキストにはスペースがないので一つの長いピースになります日本語のテキストにはスペースがない",
};

std::string excerpt(const std::string& text, size_t at) {
  const size_t from = at >= 24 ? at - 24 : 0;
  auto quote = [](const std::string& t) {
    return nlohmann::json(t).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  };
  return quote(text.substr(from, at - from)) + " | " + quote(text.substr(at, 24));
}

// Checks one text: sizes, ids, monotone ends, and that the text after every piece end tokenizes
// on its own to exactly the ids after it.
void check_text(const Tokenizer& tok, const std::string& text) {
  const std::vector<int32_t> ids = tok.encode(text);
  const std::vector<TokenEnd> ends = tok.token_ends(text, SIZE_MAX);
  ASSERT_EQ(ends.size(), ids.size());
  if (ids.empty()) return;
  EXPECT_EQ(ends.back().byte, text.size());
  EXPECT_TRUE(ends.back().piece_end);
  size_t prev = 0;
  for (size_t k = 0; k < ends.size(); ++k) {
    EXPECT_EQ(ends[k].id, ids[k]);
    if (ends[k].byte == TokenEnd::kInside) {
      EXPECT_FALSE(ends[k].piece_end);
      continue;
    }
    ASSERT_GE(ends[k].byte, prev) << "token " << k;
    ASSERT_LE(ends[k].byte, text.size());
    prev = ends[k].byte;
    if (!ends[k].piece_end) continue;
    const std::vector<int32_t> rest = tok.encode(text.substr(ends[k].byte));
    if (!std::equal(rest.begin(), rest.end(), ids.begin() + std::ptrdiff_t(k + 1), ids.end()))
      ADD_FAILURE() << "piece end " << k << " at byte " << ends[k].byte << ": " << excerpt(text, ends[k].byte);
  }
}

TEST(TokenizerOffsets, AwkwardTextsCutCleanly) {
  const Tokenizer* tok = real_tokenizer();
  if (!tok) GTEST_SKIP() << "no real tokenizer at " << tokenizer_path() << " (scripts/setup.sh fetches it)";
  for (const auto& text : kAwkward) {
    SCOPED_TRACE(text);
    check_text(*tok, text);
  }
}

TEST(TokenizerOffsets, ParityCorpusCutsCleanly) {
  const Tokenizer* tok = real_tokenizer();
  if (!tok) GTEST_SKIP() << "no real tokenizer at " << tokenizer_path() << " (scripts/setup.sh fetches it)";
  const auto texts = corpus_texts();
  ASSERT_GT(texts.size(), 50u);
  for (const auto& text : texts) {
    if (text.size() > 2000) continue;  // every cut re-tokenizes the text: quadratic
    check_text(*tok, text);
  }
}

TEST(TokenizerOffsets, KnownEndsTileTheTextWithTheDecodedBytes) {
  const Tokenizer* tok = real_tokenizer();
  if (!tok) GTEST_SKIP() << "no real tokenizer at " << tokenizer_path() << " (scripts/setup.sh fetches it)";
  // NFC text: a span between two known ends decodes from its ids to exactly the text's bytes.
  for (const auto& text : kAwkward) {
    const std::vector<int32_t> ids = tok->encode(text);
    const std::vector<TokenEnd> ends = tok->token_ends(text, SIZE_MAX);
    size_t from_tok = 0, from_byte = 0;
    for (size_t k = 0; k < ends.size(); ++k) {
      if (ends[k].byte == TokenEnd::kInside) continue;
      const std::vector<int32_t> span(ids.begin() + std::ptrdiff_t(from_tok), ids.begin() + std::ptrdiff_t(k + 1));
      if (text.find("\u0301") == std::string::npos && text.find("\u212b") == std::string::npos) {
        EXPECT_EQ(tok->decode(span), text.substr(from_byte, ends[k].byte - from_byte)) << text;
      }
      from_tok = k + 1;
      from_byte = ends[k].byte;
    }
  }
}

// The chunking rule (src/api/chunking.h) on every corpus and awkward text with 8-token chunks: the
// chunks tile the text, and each one re-tokenizes on its own to exactly its slice of the text's
// ids (the chunker checks candidates; it may only fall back to an unchecked cut when none of its
// candidates re-tokenizes, counted here and required to be rare).
TEST(TokenizerOffsets, ChunksRetokenizeToTheirSliceOfTheIds) {
  const Tokenizer* tok = real_tokenizer();
  if (!tok) GTEST_SKIP() << "no real tokenizer at " << tokenizer_path() << " (scripts/setup.sh fetches it)";
  const api::TokenizerTextTokens tokens(*tok);
  std::vector<std::string> texts = corpus_texts();
  texts.insert(texts.end(), kAwkward.begin(), kAwkward.end());
  size_t chunks = 0, exact = 0, long_chunks = 0;
  for (const auto& text : texts) {
    const std::vector<int32_t> ids = tok->encode(text);
    const auto cuts = api::chunk_bytes(text, tokens, 8, SIZE_MAX);
    ASSERT_EQ(cuts.front().first, 0u);
    ASSERT_EQ(cuts.back().second, text.size());
    size_t at = 0;
    for (size_t c = 0; c < cuts.size(); ++c) {
      if (c) {
        ASSERT_EQ(cuts[c].first, cuts[c - 1].second);
      }
      const std::vector<int32_t> own = tok->encode(text.substr(cuts[c].first, cuts[c].second - cuts[c].first));
      const bool same = at + own.size() <= ids.size() &&
                        std::equal(own.begin(), own.end(), ids.begin() + std::ptrdiff_t(at));
      ++chunks;
      exact += same;
      if (!same) {
        std::cerr << "chunk " << c << " differs: " << excerpt(text, cuts[c].second) << "\n";
        break;  // the token position is lost for this text
      }
      // Over 8 only when no token of the window ends on a character boundary (byte-level tokens
      // straddling the characters of a run of rare letters): the chunk runs to the next one.
      long_chunks += own.size() > 8;
      at += own.size();
    }
  }
  std::cerr << exact << " of " << chunks << " chunks re-tokenize exactly; " << long_chunks << " hold over 8 tokens\n";
  EXPECT_GE(double(exact), 0.995 * double(chunks));
  EXPECT_LE(double(long_chunks), 0.02 * double(chunks));
}

TEST(TokenizerOffsets, TruncatedAndInvalidInput) {
  const Tokenizer* tok = real_tokenizer();
  if (!tok) GTEST_SKIP() << "no real tokenizer at " << tokenizer_path() << " (scripts/setup.sh fetches it)";
  const std::string text = kAwkward[3];
  const auto all = tok->token_ends(text, SIZE_MAX);
  const auto five = tok->token_ends(text, 5);
  ASSERT_EQ(five.size(), 5u);
  for (size_t k = 0; k < 5; ++k) EXPECT_EQ(five[k].byte, all[k].byte);
  // Not valid UTF-8: the ids are those of the sanitized text, with no offsets.
  const std::string bad = "abc \xff\xfe def";
  const auto ends = tok->token_ends(bad, SIZE_MAX);
  EXPECT_EQ(ends.size(), tok->encode(bad).size());
  for (const auto& e : ends) EXPECT_EQ(e.byte, TokenEnd::kInside);
}

}  // namespace
}  // namespace lastrank
