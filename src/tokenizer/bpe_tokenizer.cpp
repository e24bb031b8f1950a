// Encode/decode pipeline of the byte-level BPE tokenizer (see bpe_tokenizer.h).
#include "tokenizer/bpe_tokenizer.h"

#include <cstddef>
#include <limits>

#include "core/error.h"
#include "tokenizer/byte_level.h"
#include "tokenizer/normalizer.h"
#include "tokenizer/pre_tokenizer.h"
#include "tokenizer/utf8.h"

namespace lastrank::tok {

// Maps token ends in one normalized segment back to offsets in the input (token_ends). Ends are
// pushed in increasing order, so the NFC regions are walked once.
struct EndTracker {
  std::vector<TokenEnd>* ends = nullptr;
  std::vector<NfcRegion> regions;  // of the current segment (empty: NFC changed nothing)
  std::string_view norm;           // the current normalized segment
  size_t input_base = 0;           // where the segment starts in the input
  size_t next_region = 0;
  std::ptrdiff_t shift = 0;        // input offset - normalized offset after the regions passed

  void start_segment(size_t base, std::string_view normalized) {
    input_base = base;
    norm = normalized;
    next_region = 0;
    shift = 0;
  }
  // The input offset of normalized offset y, or kInside (inside a code point or a region).
  size_t to_input(size_t y) {
    if (y < norm.size() && (static_cast<unsigned char>(norm[y]) & 0xC0) == 0x80) return TokenEnd::kInside;
    while (next_region < regions.size() && regions[next_region].norm_end <= y) {
      const NfcRegion& r = regions[next_region++];
      shift = std::ptrdiff_t(r.orig_end) - std::ptrdiff_t(r.norm_end);
    }
    if (next_region < regions.size() && y > regions[next_region].norm_begin) return TokenEnd::kInside;
    return input_base + size_t(std::ptrdiff_t(y) + shift);
  }
  void push(size_t norm_end, bool piece_end) {
    const size_t at = to_input(norm_end);
    ends->push_back({at, piece_end && at != TokenEnd::kInside});
  }
  // The ids out[first..] of one pre-tokenizer piece norm[begin, end), whose bytes they tile.
  void push_piece(const BpeTokenizer& tok, const std::vector<int32_t>& out, size_t first, size_t begin, size_t end) {
    size_t total = 0;
    for (size_t k = first; k < out.size(); ++k) total += tok_bytes(tok, out[k]);
    size_t y = begin;
    for (size_t k = first; k < out.size(); ++k) {
      y += tok_bytes(tok, out[k]);
      if (k + 1 == out.size()) push(end, true);
      else if (begin + total == end) push(y, false);
      else ends->push_back({});  // ids that do not tile the piece (no such vocab here): no offsets
    }
  }
  static size_t tok_bytes(const BpeTokenizer& tok, int32_t id);
};

BpeTokenizer::BpeTokenizer(TokenizerSpec spec)
    : id_to_token_(std::move(spec.id_to_token)),
      has_token_(std::move(spec.has_token)),
      model_(std::move(spec.model)),
      nfc_(spec.nfc),
      ignore_merges_(spec.ignore_merges) {
  LR_CHECK(model_ && has_token_.size() == id_to_token_.size());
  token_ids_.build(&id_to_token_, has_token_);
  for (const AddedToken& t : spec.added) token_ids_.assign(t.content, t.id);  // HF: added tokens first
  const size_t n = id_to_token_.size();
  special_.assign(n, 0);
  for (const AddedToken& t : spec.added)
    if (t.special && t.id >= 0 && static_cast<size_t>(t.id) < n) special_[static_cast<size_t>(t.id)] = 1;
  decode_offsets_.resize(n + 1);
  decode_bytes_.reserve(n * 6);
  for (size_t id = 0; id < n; ++id) {
    decode_offsets_[id] = static_cast<uint32_t>(decode_bytes_.size());
    if (!has_token_[id]) continue;
    const std::string& s = id_to_token_[id];
    // HF ByteLevel decoder: the token's bytes if all its chars are in the alphabet, else its UTF-8.
    if (!byte_level_decode_append(s, decode_bytes_)) decode_bytes_ += s;
    if (ignore_merges_) {
      raw_vocab_.emplace(decode_bytes_.substr(decode_offsets_[id]), static_cast<int32_t>(id));
    }
  }
  decode_offsets_[n] = static_cast<uint32_t>(decode_bytes_.size());
  std::vector<AddedToken> raw, normalized;
  for (AddedToken& t : spec.added) {
    if (t.normalized && nfc_) {
      std::string buf;
      t.content = std::string(nfc(t.content, buf));
    }
    (t.normalized ? normalized : raw).push_back(std::move(t));
  }
  raw_matcher_ = AddedTokenMatcher(std::move(raw));
  normalized_matcher_ = AddedTokenMatcher(std::move(normalized));
}

size_t EndTracker::tok_bytes(const BpeTokenizer& tok, int32_t id) { return tok.token_byte_count(id); }

size_t BpeTokenizer::token_byte_count(int32_t id) const {
  if (id < 0 || static_cast<size_t>(id) >= id_to_token_.size()) return 0;
  return decode_offsets_[static_cast<size_t>(id) + 1] - decode_offsets_[static_cast<size_t>(id)];
}

void BpeTokenizer::encode_plain(std::string_view text, size_t max_tokens, std::vector<int32_t>& out,
                                EndTracker* track) const {
  Qwen2Splitter splitter(text);
  size_t b, e;
  while (out.size() < max_tokens && splitter.next(&b, &e)) {
    const std::string_view word = text.substr(b, e - b);
    const size_t first = out.size();
    auto it = ignore_merges_ ? raw_vocab_.find(std::string(word)) : raw_vocab_.end();
    if (it != raw_vocab_.end()) out.push_back(it->second);
    else model_->encode_word(word, out);
    if (track) {
      const size_t at = static_cast<size_t>(text.data() - track->norm.data()) + b;
      track->push_piece(*this, out, first, at, at + word.size());
    }
  }
}

void BpeTokenizer::encode_into(std::string_view input, size_t max_tokens, std::vector<int32_t>& out,
                               std::vector<TokenEnd>* ends) const {
  std::string sanitized;
  std::string_view text = input;
  const bool valid = utf8_valid_prefix(input) == input.size();
  if (!valid) {
    sanitized = utf8_sanitize(input);
    text = sanitized;
  }
  EndTracker tracker;
  tracker.ends = ends;
  EndTracker* track = ends && valid ? &tracker : nullptr;
  std::vector<Split> splits;
  if (raw_matcher_.empty()) {
    splits.push_back({0, text.size(), -1});
  } else {
    raw_matcher_.split(text, splits);
  }
  std::string norm_buf;
  std::vector<Split> inner;
  for (const Split& s : splits) {
    if (out.size() >= max_tokens) break;
    if (s.id >= 0) {
      out.push_back(s.id);
      if (track) ends->push_back({s.end, true});
      continue;
    }
    const std::string_view segment = text.substr(s.begin, s.end - s.begin);
    if (track) track->regions.clear();
    const std::string_view normalized = nfc_ ? nfc(segment, norm_buf, track ? &track->regions : nullptr) : segment;
    if (track) track->start_segment(s.begin, normalized);
    if (normalized_matcher_.empty()) {
      encode_plain(normalized, max_tokens, out, track);
      continue;
    }
    inner.clear();
    normalized_matcher_.split(normalized, inner);
    for (const Split& t : inner) {
      if (out.size() >= max_tokens) break;
      if (t.id >= 0) {
        out.push_back(t.id);
        if (track) track->push(t.end, true);
      } else {
        encode_plain(normalized.substr(t.begin, t.end - t.begin), max_tokens, out, track);
      }
    }
  }
  if (out.size() > max_tokens) out.resize(max_tokens);
  if (ends && !valid) ends->assign(out.size(), TokenEnd{});
  if (ends) {
    ends->resize(out.size());
    for (size_t k = 0; k < out.size(); ++k) (*ends)[k].id = out[k];
  }
}

std::vector<int32_t> BpeTokenizer::encode(std::string_view text) const {
  std::vector<int32_t> out;
  out.reserve(text.size() / 3 + 4);
  encode_into(text, std::numeric_limits<size_t>::max(), out);
  return out;
}

std::vector<int32_t> BpeTokenizer::encode_truncated(std::string_view text, size_t max_tokens) const {
  std::vector<int32_t> out;
  encode_into(text, max_tokens, out);
  return out;
}

size_t BpeTokenizer::count(std::string_view text) const { return encode(text).size(); }

std::vector<TokenEnd> BpeTokenizer::token_ends(std::string_view text, size_t max_tokens) const {
  std::vector<int32_t> ids;
  std::vector<TokenEnd> ends;
  encode_into(text, max_tokens, ids, &ends);
  return ends;
}

std::string BpeTokenizer::decode(const std::vector<int32_t>& ids) const {
  std::string bytes;
  for (int32_t id : ids) {
    // Unknown ids are skipped, as HF's id_to_token -> None does.
    if (id < 0 || static_cast<size_t>(id) >= id_to_token_.size() || !has_token_[static_cast<size_t>(id)]) continue;
    bytes.append(decode_bytes_, decode_offsets_[static_cast<size_t>(id)],
                 decode_offsets_[static_cast<size_t>(id) + 1] - decode_offsets_[static_cast<size_t>(id)]);
  }
  return utf8_sanitize(bytes);  // String::from_utf8_lossy
}

bool BpeTokenizer::is_special(int32_t id) const {
  return id >= 0 && static_cast<size_t>(id) < special_.size() && special_[static_cast<size_t>(id)];
}

std::string BpeTokenizer::token_bytes(int32_t id) const {
  if (id < 0 || static_cast<size_t>(id) >= id_to_token_.size() || !has_token_[static_cast<size_t>(id)]) return {};
  const size_t i = static_cast<size_t>(id);
  return decode_bytes_.substr(decode_offsets_[i], decode_offsets_[i + 1] - decode_offsets_[i]);
}

std::optional<int32_t> BpeTokenizer::token_to_id(std::string_view token) const {
  const int32_t id = token_ids_.find(token);
  if (id < 0) return std::nullopt;
  return id;
}

std::optional<std::string> BpeTokenizer::id_to_token(int32_t id) const {
  if (id < 0 || static_cast<size_t>(id) >= id_to_token_.size() || !has_token_[static_cast<size_t>(id)]) return std::nullopt;
  return id_to_token_[static_cast<size_t>(id)];
}

}  // namespace lastrank::tok
