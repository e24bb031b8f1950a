// Qwen2 split scanner (see pre_tokenizer.h). Each alternative of the regex is tried in order at
// the current position, exactly as a backtracking engine would resolve it:
//   1 contraction  2 letters with one optional non-letter/number/CRLF prefix  3 one number
//   4 optional space + punctuation run + CR/LF run  5 whitespace up to its last CR/LF
//   6 whitespace run minus its last char unless it ends the text  7 whitespace run
#include "tokenizer/pre_tokenizer.h"

#include "tokenizer/unicode_classes.h"
#include "tokenizer/utf8.h"

namespace lastrank::tok {
namespace {

struct Char {
  char32_t cp;
  CharClass cls;
  size_t len;  // 0 at the end of the text
};

inline Char char_at(std::string_view t, size_t i) {
  if (i >= t.size()) return {0, kOther, 0};
  const auto* p = reinterpret_cast<const unsigned char*>(t.data()) + i;
  if (p[0] < 0x80) return {p[0], char_class(p[0]), 1};
  char32_t cp;
  const size_t len = utf8_decode(p, t.size() - i, &cp);
  return {cp, char_class(cp), len};
}

inline bool is_space(CharClass c) { return c == kSpace || c == kCrLf; }

// (?i:...) letters: ASCII case pairs, plus U+017F LATIN SMALL LETTER LONG S for 's' (Oniguruma
// case folding; probed in tests/data/tokenizer/hf_unicode.txt).
inline bool ci_eq(char32_t cp, char lower) {
  if (cp == static_cast<char32_t>(lower) || cp == static_cast<char32_t>(lower - 32)) return true;
  return lower == 's' && cp == 0x17F;
}

// Length in bytes of a contraction at i (text[i] == '\''), 0 if none.
size_t match_contraction(std::string_view t, size_t i) {
  const Char a = char_at(t, i + 1);
  if (a.len == 0) return 0;
  if (ci_eq(a.cp, 's') || ci_eq(a.cp, 't') || ci_eq(a.cp, 'm') || ci_eq(a.cp, 'd')) return 1 + a.len;
  const Char b = char_at(t, i + 1 + a.len);
  if (b.len == 0) return 0;
  if ((ci_eq(a.cp, 'r') || ci_eq(a.cp, 'v')) && ci_eq(b.cp, 'e')) return 1 + a.len + b.len;
  if (ci_eq(a.cp, 'l') && ci_eq(b.cp, 'l')) return 1 + a.len + b.len;
  return 0;
}

// End of the run of chars with class(es) accepted by pred, starting at i.
template <typename Pred>
size_t run_end(std::string_view t, size_t i, Pred pred) {
  while (i < t.size()) {
    const Char c = char_at(t, i);
    if (!pred(c.cls)) break;
    i += c.len;
  }
  return i;
}

}  // namespace

bool Qwen2Splitter::next(size_t* begin, size_t* end) {
  const std::string_view t = text_;
  const size_t i = pos_;
  if (i >= t.size()) return false;
  *begin = i;
  const Char c = char_at(t, i);
  size_t e = 0;
  // 1: (?i:'s|'t|'re|'ve|'m|'ll|'d)
  if (c.cp == '\'') e = match_contraction(t, i);
  if (e != 0) {
    e += i;
  } else if (c.cls == kLetter) {
    // 2: \p{L}+ without the optional prefix
    e = run_end(t, i + c.len, [](CharClass k) { return k == kLetter; });
  } else if ((c.cls == kOther || c.cls == kSpace) && char_at(t, i + c.len).cls == kLetter) {
    // 2: [^\r\n\p{L}\p{N}]\p{L}+
    e = run_end(t, i + c.len, [](CharClass k) { return k == kLetter; });
  } else if (c.cls == kNumber) {
    // 3: \p{N}
    e = i + c.len;
  } else if (c.cls == kOther || (c.cp == ' ' && char_at(t, i + 1).cls == kOther)) {
    // 4: ' ?[^\s\p{L}\p{N}]+[\r\n]*'
    const size_t start = c.cls == kOther ? i : i + 1;
    e = run_end(t, start, [](CharClass k) { return k == kOther; });
    e = run_end(t, e, [](CharClass k) { return k == kCrLf; });
  } else {
    // c is whitespace. 5: \s*[\r\n]+ ends right after the last CR/LF of the whitespace run.
    size_t j = i, last_crlf_end = 0;
    while (j < t.size()) {
      const Char w = char_at(t, j);
      if (!is_space(w.cls)) break;
      j += w.len;
      if (w.cls == kCrLf) last_crlf_end = j;
    }
    if (last_crlf_end != 0) {
      e = last_crlf_end;
    } else if (j == t.size()) {
      e = j;  // 6: \s+(?!\S) at the end of the text
    } else {
      // 6: give back the last whitespace char (it precedes \S); 7: \s+ if only one char.
      size_t last_start = i;
      for (size_t k = i; k < j;) {
        last_start = k;
        k += char_at(t, k).len;
      }
      e = last_start > i ? last_start : j;
    }
  }
  pos_ = e;
  *end = e;
  return true;
}

}  // namespace lastrank::tok
