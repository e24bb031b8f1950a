// Unicode agreement with HF, code point by code point (tests/data/tokenizer/hf_unicode.txt, made
// by tools/make_tokenizer_corpus.py unicode in the reference chroot): the regex classes, the
// case-insensitive contraction letters, NFC; plus UTF-8 decoding with U+FFFD replacement.
#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>

#include "tokenizer/normalizer.h"
#include "tokenizer/pre_tokenizer.h"
#include "tokenizer/unicode_classes.h"
#include "tokenizer/utf8.h"
#include "test_paths.h"

namespace lastrank::tok {
namespace {

struct HfUnicode {
  std::vector<uint8_t> cls = std::vector<uint8_t>(0x110000, 255);
  std::vector<std::u32string> contractions;
  std::vector<std::pair<std::u32string, std::u32string>> nfc;
};

std::u32string parse_hex(std::istringstream& in, const std::string& stop = "") {
  std::u32string s;
  std::string w;
  while (in >> w && w != stop) s.push_back(static_cast<char32_t>(std::stoul(w, nullptr, 16)));
  return s;
}

const HfUnicode& hf() {
  static const HfUnicode data = [] {
    HfUnicode d;
    std::ifstream f(std::string(LASTRANK_SOURCE_DIR) + "/tests/data/tokenizer/hf_unicode.txt");
    std::string line;
    while (std::getline(f, line)) {
      std::istringstream in(line);
      std::string tag;
      in >> tag;
      if (tag == "class") {
        std::string a, b, c;
        in >> a >> b >> c;
        const uint8_t v = c == "L" ? kLetter : c == "N" ? kNumber : c == "S" ? kSpace : c == "R" ? kCrLf : kOther;
        for (unsigned long cp = std::stoul(a, nullptr, 16); cp <= std::stoul(b, nullptr, 16); ++cp) d.cls[cp] = v;
      } else if (tag == "contraction") {
        d.contractions.push_back(parse_hex(in));
      } else if (tag == "nfc") {
        auto from = parse_hex(in, ";");
        d.nfc.emplace_back(std::move(from), parse_hex(in));
      }
    }
    return d;
  }();
  return data;
}

std::string utf8(const std::u32string& s) {
  std::string out;
  for (char32_t c : s) utf8_append(out, c);
  return out;
}

TEST(TokenizerUnicode, ClassesMatchHfRegexForEveryCodePoint) {
  size_t bad = 0;
  for (char32_t cp = 0; cp < 0x110000; ++cp) {
    if (cp >= 0xD800 && cp < 0xE000) continue;
    ASSERT_NE(hf().cls[cp], 255) << "hf_unicode.txt misses U+" << std::hex << uint32_t{cp};
    if (char_class(cp) != hf().cls[cp] && ++bad <= 10) {
      ADD_FAILURE() << "U+" << std::hex << uint32_t{cp} << ": ours " << int(char_class(cp)) << " HF " << int(hf().cls[cp]);
    }
  }
  EXPECT_EQ(bad, 0u);
}

// First piece of the Qwen2 split of s, in bytes.
size_t first_piece(const std::string& s) {
  Qwen2Splitter sp(s);
  size_t b, e;
  EXPECT_TRUE(sp.next(&b, &e));
  return e;
}

TEST(TokenizerUnicode, ContractionCaseFoldsMatchHf) {
  // Positives: HF matched the contraction (the probe minus its final 'z'). Negatives: every other
  // letter in every slot must not match (probes are "'" + form with one letter replaced + "z").
  std::set<std::u32string> positives(hf().contractions.begin(), hf().contractions.end());
  ASSERT_GE(positives.size(), 15u);
  for (const auto& p : positives) {
    const std::string s = utf8(p);
    EXPECT_EQ(first_piece(s), s.size() - 1) << s;
  }
  const char* forms[] = {"s", "t", "re", "ve", "m", "ll", "d"};
  size_t checked = 0;
  for (char32_t cp = 0x41; cp < 0x20000; ++cp) {  // letters of the BMP and SMP
    if (char_class(cp) != kLetter) continue;
    for (const char* f : forms) {
      const std::string form(f);
      for (size_t slot = 0; slot < form.size(); ++slot) {
        std::u32string probe = U"'";
        for (size_t k = 0; k < form.size(); ++k) probe.push_back(k == slot ? cp : static_cast<char32_t>(form[k]));
        probe.push_back(U'z');
        const std::string s = utf8(probe);
        const bool hf_hit = positives.count(probe) > 0;
        if ((first_piece(s) == s.size() - 1) != hf_hit) ADD_FAILURE() << "contraction probe " << s;
        ++checked;
      }
    }
  }
  EXPECT_GT(checked, 100000u);
}

TEST(TokenizerUnicode, NfcMatchesHfOnEveryChangingCodePointAndComposite) {
  ASSERT_GT(hf().nfc.size(), 10000u);
  size_t bad = 0;
  for (const auto& [in, want] : hf().nfc) {
    std::string buf;
    const std::string got(nfc(utf8(in), buf));
    if (got != utf8(want) && ++bad <= 10) ADD_FAILURE() << "NFC of " << utf8(in) << " got " << got << " want " << utf8(want);
  }
  EXPECT_EQ(bad, 0u);
}

TEST(TokenizerUnicode, NfcQuickPathAgreesWithUtf8procOnKnownCharacters) {
  // Where HF's Unicode 9.0 data and utf8proc agree (no post-9.0 marks), the region-wise fast path
  // must equal utf8proc on the whole string.
  const std::string cases[] = {"", "abc", "e\xCC\x81", "\xE1\x84\x80\xE1\x85\xA1\xE1\x86\xA8x", "a\xCC\xA3\xCC\x81 b",
                               "\xC3\xA9\xCC\xA3", "x\xCC\x81\xCC\xA3y\xCC\x81", "\xE2\x84\xAB", "\xEF\xAC\x81",
                               "\xE0\xA4\xA8\xE0\xA4\xBC", "\xCC\x81start"};
  for (const std::string& s : cases) {
    std::string buf;
    EXPECT_EQ(std::string(nfc(s, buf)), nfc_reference(s)) << s;
  }
}

TEST(TokenizerUnicode, Utf8DecodeReplacesMaximalSubparts) {
  // Expected per Unicode §3.9 / Python bytes.decode("utf-8", "replace").
  struct Case {
    std::string in, out;
  } cases[] = {
      {"a\x80" "b", "a\xEF\xBF\xBD" "b"},
      {"\xC3", "\xEF\xBF\xBD"},
      {"\xE4\xB8", "\xEF\xBF\xBD"},                                   // cut 3-byte sequence: one U+FFFD
      {"\xE4\xB8" "a", "\xEF\xBF\xBD" "a"},
      {"\xED\xA0\x80", "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"},      // surrogate: ED is a subpart alone
      {"\xF0\x9F\x98", "\xEF\xBF\xBD"},
      {"\xF4\x90\x80\x80", "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"},  // > U+10FFFF
      {"\xC0\xAF", "\xEF\xBF\xBD\xEF\xBF\xBD"},                       // overlong
      {"\xE0\x80\xAF", "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"},
      {"\xFF\xFE", "\xEF\xBF\xBD\xEF\xBF\xBD"},
      {"ok \xF0\x9F\x98\x80", "ok \xF0\x9F\x98\x80"},
  };
  for (const auto& c : cases) EXPECT_EQ(utf8_sanitize(c.in), c.out) << c.in;
  EXPECT_EQ(utf8_valid_prefix("abc\xE4\xB8"), 3u);
}

}  // namespace
}  // namespace lastrank::tok
