// NFC normalization (HF normalizers.NFC) on valid UTF-8, via utf8proc on just the regions that
// can change: a run of "maybe" code points (combining class != 0, a canonical decomposition, or
// the second half of a canonical composition) plus the starter before it. Everything else is
// copied, so already-NFC text costs one table lookup per code point. HF's NFC data is Unicode 9.0
// (unicode-normalization-alignments): code points it does not know stay untouched here too.
#pragma once
#include <string>
#include <string_view>

namespace lastrank::tok {

// NFC of text (valid UTF-8). Returns text itself when nothing changes, else a view of buf.
std::string_view nfc(std::string_view text, std::string& buf);

// Reference: utf8proc NFC (Unicode 15) of the whole string, no quick check and no HF restriction.
std::string nfc_reference(std::string_view text);

// Unicode version of the normalization data (utf8proc's).
const char* nfc_unicode_version();

}  // namespace lastrank::tok
