// NFC normalization (HF normalizers.NFC) on valid UTF-8, via utf8proc on just the regions that
// can change: a run of "maybe" code points (combining class != 0, a canonical decomposition, or
// the second half of a canonical composition) plus the starter before it. Everything else is
// copied, so already-NFC text costs one table lookup per code point. HF's NFC data is Unicode 9.0
// (unicode-normalization-alignments): code points it does not know stay untouched here too.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace lastrank::tok {

// One span nfc() rewrote: text[orig_begin, orig_end) became result[norm_begin, norm_end) (spans
// NFC leaves unchanged are not listed).
// Offsets outside every region map one to one (shifted); cutting text there commutes with NFC.
struct NfcRegion {
  size_t orig_begin, orig_end, norm_begin, norm_end;
};

// NFC of text (valid UTF-8). Returns text itself when nothing changes, else a view of buf.
// regions, if given, receives the rewritten spans in order (empty when text is returned).
std::string_view nfc(std::string_view text, std::string& buf, std::vector<NfcRegion>* regions = nullptr);

// Reference: utf8proc NFC (Unicode 15) of the whole string, no quick check and no HF restriction.
std::string nfc_reference(std::string_view text);

// Unicode version of the normalization data (utf8proc's).
const char* nfc_unicode_version();

}  // namespace lastrank::tok
