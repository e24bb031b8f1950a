// Leftmost-longest matching of added tokens plus HF's lstrip/rstrip/single_word (added_vocab.h).
#include "tokenizer/added_vocab.h"

#include <algorithm>
#include <cstring>

#include "tokenizer/unicode_classes.h"
#include "tokenizer/utf8.h"

namespace lastrank::tok {
namespace {

// Rust char::is_whitespace (White_Space) and is_alphanumeric (Alphabetic || Numeric),
// approximated by the regex classes (\s; \p{L} or \p{N}).
bool is_ws(char32_t cp) {
  const CharClass c = char_class(cp);
  return c == kSpace || c == kCrLf;
}
bool is_word(char32_t cp) {
  const CharClass c = char_class(cp);
  return c == kLetter || c == kNumber || cp == '_';
}

// Code point ending at byte `end` (> 0) of valid UTF-8 text, and its start.
char32_t char_before(std::string_view t, size_t end, size_t* start) {
  size_t s = end - 1;
  while (s > 0 && (static_cast<unsigned char>(t[s]) & 0xC0) == 0x80) --s;
  char32_t cp;
  utf8_decode(reinterpret_cast<const unsigned char*>(t.data()) + s, end - s, &cp);
  *start = s;
  return cp;
}

char32_t char_after(std::string_view t, size_t begin, size_t* len) {
  char32_t cp;
  *len = utf8_decode(reinterpret_cast<const unsigned char*>(t.data()) + begin, t.size() - begin, &cp);
  return cp;
}

}  // namespace

AddedTokenMatcher::AddedTokenMatcher(std::vector<AddedToken> tokens) {
  for (AddedToken& t : tokens) {
    if (!t.content.empty()) tokens_.push_back(std::move(t));
  }
  std::stable_sort(tokens_.begin(), tokens_.end(), [](const AddedToken& a, const AddedToken& b) {
    const auto fa = static_cast<unsigned char>(a.content[0]), fb = static_cast<unsigned char>(b.content[0]);
    return fa != fb ? fa < fb : a.content.size() > b.content.size();
  });
  for (size_t i = 0; i < tokens_.size(); ++i) {
    const auto f = static_cast<unsigned char>(tokens_[i].content[0]);
    if (first_end_[f] == 0) first_begin_[f] = static_cast<uint32_t>(i);
    first_end_[f] = static_cast<uint32_t>(i + 1);
  }
}

void AddedTokenMatcher::split(std::string_view text, std::vector<Split>& out) const {
  const size_t n = text.size();
  size_t start_offset = 0;  // end of the last emitted piece
  size_t i = 0;
  while (i < n) {
    const auto b = static_cast<unsigned char>(text[i]);
    const AddedToken* hit = nullptr;
    for (uint32_t k = first_begin_[b]; k < first_end_[b]; ++k) {  // longest first
      const std::string& c = tokens_[k].content;
      if (c.size() <= n - i && std::memcmp(text.data() + i, c.data(), c.size()) == 0) {
        hit = &tokens_[k];
        break;
      }
    }
    if (!hit) {
      ++i;
      continue;
    }
    size_t start = i, stop = i + hit->content.size();
    i = stop;  // the next search starts after this match, as Aho-Corasick's find_iter does
    if (hit->single_word) {
      size_t s, l;
      const bool start_space = start == 0 || !is_word(char_before(text, start, &s));
      const bool stop_space = stop == n || !is_word(char_after(text, stop, &l));
      if (!start_space || !stop_space) continue;
    }
    if (hit->lstrip) {
      size_t s = start;
      while (s > 0) {
        size_t cs;
        if (!is_ws(char_before(text, s, &cs))) break;
        s = cs;
      }
      start = std::max(s, start_offset);
    }
    if (hit->rstrip) {
      while (stop < n) {
        size_t l;
        if (!is_ws(char_after(text, stop, &l))) break;
        stop += l;
      }
    }
    i = std::max(i, stop);
    if (start > start_offset) out.push_back({start_offset, start, -1});
    out.push_back({start, stop, hit->id});
    start_offset = stop;
  }
  if (start_offset < n) out.push_back({start_offset, n, -1});
}

}  // namespace lastrank::tok
