// NFC via utf8proc with a per-code-point quick check (see normalizer.h).
#include "tokenizer/normalizer.h"

#include <utf8proc.h>

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <vector>

#include "core/error.h"
#include "tokenizer/utf8.h"

namespace lastrank::tok {
namespace {

// Code points HF's NFC does not know (its data is Unicode 9.0): they act as plain starters there,
// so they are never "maybe" here and utf8proc (Unicode 15) never sees them inside a region.
constexpr char32_t kHfInert[] = {
#include "tokenizer/nfc_inert_table.inc"
};

// Bit per code point: 1 = may change under NFC or combine with the code point before it.
class MaybeTable {
 public:
  MaybeTable() : bits_(0x110000 / 64, 0), inert_(0x110000 / 64, 0) {
    for (char32_t cp = 0; cp < 0x110000; ++cp) {
      if (cp >= 0xD800 && cp < 0xE000) continue;
      const utf8proc_property_t* p = utf8proc_get_property(static_cast<utf8proc_int32_t>(cp));
      const bool canonical = p->decomp_type == 0 && p->decomp_seqindex != UINT16_MAX;
      if (p->combining_class != 0 || canonical) set(cp);
      if (canonical) {  // every non-first code point of the full decomposition can be composed onto
        utf8proc_int32_t out[32];
        int last = 0;
        const utf8proc_ssize_t n = utf8proc_decompose_char(static_cast<utf8proc_int32_t>(cp), out, 32,
                                                           UTF8PROC_DECOMPOSE, &last);
        for (utf8proc_ssize_t i = 1; i < n && i < 32; ++i) set(static_cast<char32_t>(out[i]));
      }
    }
    for (char32_t cp = 0x1161; cp <= 0x1175; ++cp) set(cp);  // Hangul V jamo (algorithmic LV)
    for (char32_t cp = 0x11A7; cp <= 0x11C2; ++cp) set(cp);  // Hangul T jamo (algorithmic LVT)
    for (char32_t cp : kHfInert) {
      bits_[cp >> 6] &= ~(uint64_t{1} << (cp & 63));
      inert_[cp >> 6] |= uint64_t{1} << (cp & 63);
    }
  }
  bool maybe(char32_t cp) const { return (bits_[cp >> 6] >> (cp & 63)) & 1; }
  // Unknown to HF's NFC but not to utf8proc: must never be inside a region.
  bool inert(char32_t cp) const { return (inert_[cp >> 6] >> (cp & 63)) & 1; }

 private:
  void set(char32_t cp) { bits_[cp >> 6] |= uint64_t{1} << (cp & 63); }
  std::vector<uint64_t> bits_;
  std::vector<uint64_t> inert_;
};

const MaybeTable& maybe_table() {
  static const MaybeTable t;
  return t;
}

void nfc_region(std::string_view region, std::string& out) {
  utf8proc_uint8_t* mapped = nullptr;
  const utf8proc_ssize_t n =
      utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(region.data()),
                   static_cast<utf8proc_ssize_t>(region.size()), &mapped,
                   static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_COMPOSE));
  std::unique_ptr<utf8proc_uint8_t, decltype(&std::free)> guard(mapped, &std::free);
  LR_CHECK(n >= 0, "utf8proc_map failed on valid UTF-8: ", utf8proc_errmsg(n));
  out.append(reinterpret_cast<const char*>(mapped), static_cast<size_t>(n));
}

}  // namespace

std::string_view nfc(std::string_view text, std::string& buf, std::vector<NfcRegion>* regions) {
  if (regions) regions->clear();
  const MaybeTable& table = maybe_table();
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const size_t n = text.size();
  // Below U+0300 nothing decomposes, has a combining class or composes onto its predecessor.
  size_t i = 0;
  size_t prev_start = 0;  // start of the code point before i, or i when that one is inert
  bool changed = false;
  size_t copied = 0;  // text[0, copied) has been emitted into buf (only when changed)
  while (i < n) {
    if (p[i] < 0xCC) {  // lead bytes below 0xCC encode code points < U+0300
      prev_start = i;
      i += 1 + (p[i] >= 0xC0);
      continue;
    }
    char32_t cp;
    const size_t len = utf8_decode(p + i, n - i, &cp);
    if (!table.maybe(cp)) {
      prev_start = i;
      i += len;
      if (table.inert(cp)) prev_start = i;
      continue;
    }
    // A region: the starter before the maybe-run (if any), the run itself.
    const size_t start = prev_start;
    size_t end = i + len;
    while (end < n) {
      char32_t next;
      const size_t l = utf8_decode(p + end, n - end, &next);
      if (!table.maybe(next)) break;
      end += l;
    }
    if (!changed) {
      buf.clear();
      buf.reserve(n + 16);
      changed = true;
    }
    buf.append(text.data() + copied, start - copied);
    const size_t norm_begin = buf.size();
    nfc_region(text.substr(start, end - start), buf);
    // A span NFC leaves as it is maps one to one (a cut inside NFC text leaves both sides NFC).
    if (regions && std::string_view(buf).substr(norm_begin) != text.substr(start, end - start))
      regions->push_back({start, end, norm_begin, buf.size()});
    copied = end;
    // Continue after the region; its last code point is a maybe, so the next starter begins anew.
    prev_start = end;
    i = end;
  }
  if (!changed) return text;
  buf.append(text.data() + copied, n - copied);
  return buf;
}

std::string nfc_reference(std::string_view text) {
  std::string out;
  if (!text.empty()) nfc_region(text, out);
  return out;
}

const char* nfc_unicode_version() { return utf8proc_unicode_version(); }

}  // namespace lastrank::tok
