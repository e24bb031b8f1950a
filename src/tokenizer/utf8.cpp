// UTF-8 decoding with maximal-subpart replacement (see utf8.h).
#include "tokenizer/utf8.h"

namespace lastrank::tok {

size_t utf8_decode(const unsigned char* p, size_t n, char32_t* cp, bool* valid) {
  const unsigned b0 = p[0];
  if (valid) *valid = true;
  if (b0 < 0x80) {
    *cp = b0;
    return 1;
  }
  // Well-formed sequences (Unicode Table 3-7): the allowed range of the second byte depends on
  // the first; later bytes are 80..BF.
  size_t len;
  unsigned lo = 0x80, hi = 0xBF;
  char32_t value;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    len = 2;
    value = b0 & 0x1F;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    len = 3;
    value = b0 & 0x0F;
    if (b0 == 0xE0) lo = 0xA0;
    if (b0 == 0xED) hi = 0x9F;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    len = 4;
    value = b0 & 0x07;
    if (b0 == 0xF0) lo = 0x90;
    if (b0 == 0xF4) hi = 0x8F;
  } else {
    if (valid) *valid = false;
    *cp = kReplacementChar;
    return 1;
  }
  for (size_t i = 1; i < len; ++i) {
    const unsigned b = i < n ? p[i] : 0x100;  // past the end: ill-formed
    const unsigned l = i == 1 ? lo : 0x80, h = i == 1 ? hi : 0xBF;
    if (b < l || b > h) {
      if (valid) *valid = false;
      *cp = kReplacementChar;
      return i;  // the lead byte and the continuation bytes that were allowed
    }
    value = (value << 6) | (b & 0x3F);
  }
  *cp = value;
  return len;
}

size_t utf8_valid_prefix(std::string_view text) {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const size_t n = text.size();
  size_t i = 0;
  while (i < n) {
    // ASCII fast path, 8 bytes at a time.
    while (i + 8 <= n) {
      uint64_t w;
      __builtin_memcpy(&w, p + i, 8);
      if (w & 0x8080808080808080ull) break;
      i += 8;
    }
    if (i >= n) break;
    if (p[i] < 0x80) {
      ++i;
      continue;
    }
    char32_t cp;
    bool ok;
    const size_t len = utf8_decode(p + i, n - i, &cp, &ok);
    if (!ok) return i;
    i += len;
  }
  return n;
}

std::string utf8_sanitize(std::string_view text) {
  size_t good = utf8_valid_prefix(text);
  std::string out(text.substr(0, good));
  if (good == text.size()) return out;
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  size_t i = good;
  while (i < text.size()) {
    char32_t cp;
    bool ok;
    const size_t len = utf8_decode(p + i, text.size() - i, &cp, &ok);
    if (ok) {
      out.append(text.data() + i, len);
    } else {
      utf8_append(out, kReplacementChar);
    }
    i += len;
  }
  return out;
}

void utf8_append(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

}  // namespace lastrank::tok
