// Parity with HF tokenizers 0.23.1 on the committed corpus (tools/make_tokenizer_corpus.py):
// encode ids, decode text, truncation and count for every string, then the whole corpus again
// on two threads at once. Needs the real tokenizer (.deps/tokenizer, scripts/setup.sh).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "tokenizer/normalizer.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/utf8.h"
#include "test_paths.h"

namespace lastrank {
namespace {

struct Case {
  std::string kind;
  std::string text;
  bool has_text = false;
  std::vector<int32_t> ids;
  std::string decoded;
};

std::vector<int32_t> parse_ids(const std::string& s) {
  std::vector<int32_t> ids;
  std::istringstream in(s);
  int32_t v;
  while (in >> v) ids.push_back(v);
  return ids;
}

const std::vector<Case>& corpus() {
  static const std::vector<Case> cases = [] {
    std::vector<Case> out;
    std::ifstream in(std::string(LASTRANK_SOURCE_DIR) + "/tests/data/tokenizer/parity_corpus.jsonl");
    std::string line;
    while (std::getline(in, line)) {
      const auto j = nlohmann::json::parse(line);
      Case c;
      c.kind = j.at("kind").get<std::string>();
      c.has_text = j.contains("text");
      if (c.has_text) c.text = j.at("text").get<std::string>();
      c.ids = parse_ids(j.at("ids").get<std::string>());
      c.decoded = j.contains("decoded") ? j.at("decoded").get<std::string>() : c.text;
      out.push_back(std::move(c));
    }
    return out;
  }();
  return cases;
}

std::string tokenizer_path() { return std::string(LASTRANK_DEPS_DIR) + "/tokenizer/tokenizer.json"; }

const Tokenizer* real_tokenizer() {
  static const std::unique_ptr<Tokenizer> tok =
      std::filesystem::exists(tokenizer_path()) ? Tokenizer::load_file(tokenizer_path()) : nullptr;
  return tok.get();
}

std::string escaped(const std::string& s) {
  std::string out;
  for (unsigned char c : s.substr(0, 300)) {
    if (c >= 0x20 && c < 0x7F) {
      out.push_back(static_cast<char>(c));
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02X", c);
      out += buf;
    }
  }
  return out;
}

std::string ids_str(const std::vector<int32_t>& ids) {
  std::string s;
  for (size_t i = 0; i < ids.size() && i < 60; ++i) s += std::to_string(ids[i]) + " ";
  return s;
}

// 1 if case i mismatches (message appended for the first few).
size_t check_one(const Tokenizer& tok, size_t i, std::vector<std::string>* messages) {
  const Case& c = corpus()[i];
  std::string what;
  if (c.has_text) {
    const auto ids = tok.encode(c.text);
    if (ids != c.ids) what = "encode: got " + ids_str(ids) + " want " + ids_str(c.ids);
  }
  if (what.empty() && tok.decode(c.ids) != c.decoded) what = "decode: got '" + escaped(tok.decode(c.ids)) + "'";
  if (what.empty()) return 0;
  if (messages && messages->size() < 20) {
    std::string m = "#";
    m.append(std::to_string(i)).append(" [").append(c.kind).append("] '").append(escaped(c.text)).append("' ").append(what);
    messages->push_back(std::move(m));
  }
  return 1;
}

class TokenizerParity : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!real_tokenizer()) GTEST_SKIP() << "no tokenizer at " << tokenizer_path() << " (run scripts/setup.sh)";
    ASSERT_GE(corpus().size(), 20000u) << "corpus missing or short";
  }
};

TEST_F(TokenizerParity, EncodeAndDecodeMatchHf) {
  std::vector<std::string> messages;
  size_t bad = 0;
  for (size_t i = 0; i < corpus().size(); ++i) bad += check_one(*real_tokenizer(), i, &messages);
  for (const auto& m : messages) ADD_FAILURE() << m;
  EXPECT_EQ(bad, 0u) << "of " << corpus().size() << " cases";
}

TEST_F(TokenizerParity, TruncateAndCountAgreeWithEncode) {
  const Tokenizer& tok = *real_tokenizer();
  size_t checked = 0;
  for (size_t i = 0; i < corpus().size(); i += 7) {
    const Case& c = corpus()[i];
    if (!c.has_text) continue;
    ASSERT_EQ(tok.count(c.text), c.ids.size()) << escaped(c.text);
    for (size_t n : {size_t{0}, size_t{1}, c.ids.size() / 2, c.ids.size(), c.ids.size() + 3}) {
      const auto got = tok.encode_truncated(c.text, n);
      const std::vector<int32_t> want(c.ids.begin(), c.ids.begin() + static_cast<ptrdiff_t>(std::min(n, c.ids.size())));
      ASSERT_EQ(got, want) << "n=" << n << " '" << escaped(c.text) << "'";
    }
    ++checked;
  }
  EXPECT_GT(checked, 2000u);
}

TEST_F(TokenizerParity, SameResultsOnTwoThreadsAtOnce) {
  // Each thread runs the whole corpus, starting at a different place, on one shared tokenizer.
  constexpr size_t kThreads = 2;
  std::vector<size_t> bad(kThreads, 0);
  std::vector<std::thread> threads;
  for (size_t t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const size_t n = corpus().size(), offset = t * n / kThreads;
      for (size_t k = 0; k < n; k += 997) {  // rotated blocks: different inputs at the same moment
        const size_t begin = (offset + k) % n;
        for (size_t i = begin; i < std::min(n, begin + 997); ++i) bad[t] += check_one(*real_tokenizer(), i, nullptr);
      }
    });
  }
  for (auto& th : threads) th.join();
  for (size_t t = 0; t < kThreads; ++t) EXPECT_EQ(bad[t], 0u) << "thread " << t;
}

TEST_F(TokenizerParity, DecodeOfEncodeIsNfcWhereHfAgrees) {
  // decode(encode(s)) == NFC(s) (NFC as HF computes it, per segment between added tokens; for
  // text without added tokens that is NFC of the whole string). Where HF's own round trip gives
  // NFC(s), ours must too; and that must be the large majority of the corpus.
  const Tokenizer& tok = *real_tokenizer();
  size_t agree = 0, texts = 0;
  for (const Case& c : corpus()) {
    if (!c.has_text) continue;
    ++texts;
    std::string buf;
    const std::string nfc(tok::nfc(tok::utf8_sanitize(c.text), buf));
    if (c.decoded != nfc) continue;  // HF's round trip differs from NFC(s) here
    ++agree;
    ASSERT_EQ(tok.decode(tok.encode(c.text)), nfc) << "[" << c.kind << "] " << escaped(c.text);
  }
  EXPECT_GT(agree, texts * 9 / 10) << agree << " of " << texts;
}

TEST_F(TokenizerParity, AddedTokenFlagsAndOverlapsMatchHf) {
  // The real tokenizer.json + added tokens with lstrip/rstrip/single_word/normalized=true and
  // overlapping contents ("ab", "abc", "bcd"), ids and expected encodings from HF.
  std::ifstream f(std::string(LASTRANK_SOURCE_DIR) + "/tests/data/tokenizer/added_token_cases.json");
  const auto cases = nlohmann::json::parse(f);
  std::ifstream t(tokenizer_path());
  auto tj = nlohmann::json::parse(t);
  for (const auto& a : cases.at("added_tokens")) tj["added_tokens"].push_back(a);
  const auto tok = Tokenizer::load_json(tj.dump());
  for (const auto& a : cases.at("added_tokens")) {
    EXPECT_EQ(tok->token_to_id(a.at("content").get<std::string>()), a.at("id").get<int32_t>());
  }
  ASSERT_GE(cases.at("cases").size(), 20u);
  for (const auto& c : cases.at("cases")) {
    const std::string text = c.at("text").get<std::string>();
    EXPECT_EQ(tok->encode(text), c.at("ids").get<std::vector<int32_t>>()) << "'" << escaped(text) << "'";
  }
}

TEST_F(TokenizerParity, JinaPromptLengthsFromReference) {
  // Verified with Hugging Face tokenizers: PREFIX is 90 tokens, SUFFIX 9; a prompt with N empty docs and query "q" has
  // 149 tokens for N=1 and 162 for N=2.
  const Tokenizer& tok = *real_tokenizer();
  const std::string sys =
      "You are a search relevance expert who can determine a ranking of the passages based on how relevant they "
      "are to the query. If the query is a question, how relevant a passage is depends on how well it answers the "
      "question. If not, try to analyze the intent of the query and assess how well each passage satisfies the "
      "intent. If an instruction is provided, you should follow the instruction when determining the ranking.";
  const std::string prefix = "<|im_start|>system\n" + sys + "<|im_end|>\n<|im_start|>user\n";
  const std::string suffix = "<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n";
  EXPECT_EQ(tok.count(prefix), 90u);
  EXPECT_EQ(tok.encode(suffix), (std::vector<int32_t>{151645, 198, 151644, 77091, 198, 151667, 271, 151668, 271}));
  auto prompt = [&](int n) {
    std::string body = "I will provide you with ";
    body.append(std::to_string(n)).append(
        " passages, each indicated by a numerical identifier. Rank the passages based on their relevance to query: q\n");
    for (int i = 0; i < n; ++i) {
      if (i) body.append("\n");
      body.append("<passage id=\"").append(std::to_string(i)).append("\">\n<|embed_token|>\n</passage>");
    }
    body += "\n<query>\nq<|rerank_token|>\n</query>";
    return prefix + body + suffix;
  };
  EXPECT_EQ(tok.count(prompt(1)), 149u);
  EXPECT_EQ(tok.count(prompt(2)), 162u);
}

}  // namespace
}  // namespace lastrank
