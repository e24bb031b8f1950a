// clip(): makes untrusted text (tensor names, JSON strings) safe to embed in error messages:
// at most `max` bytes, cut on a UTF-8 character boundary, control bytes shown as '?'. Messages
// stay valid UTF-8, so the server can put them into JSON responses.
#pragma once
#include <string>

namespace lastrank {

inline std::string clip(const std::string& s, size_t max = 200) {
  size_t n = s.size();
  if (n > max) {
    n = max;
    while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;  // don't split a character
  }
  std::string out = s.substr(0, n);
  for (char& c : out)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  if (n < s.size()) out += "...";
  return out;
}

}  // namespace lastrank
