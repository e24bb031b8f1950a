// Encode/decode pipeline of the byte-level BPE tokenizer (see bpe_tokenizer.h).
#include "tokenizer/bpe_tokenizer.h"

#include <limits>

#include "core/error.h"
#include "tokenizer/byte_level.h"
#include "tokenizer/normalizer.h"
#include "tokenizer/pre_tokenizer.h"
#include "tokenizer/utf8.h"

namespace lastrank::tok {

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

void BpeTokenizer::encode_plain(std::string_view text, size_t max_tokens, std::vector<int32_t>& out) const {
  Qwen2Splitter splitter(text);
  size_t b, e;
  while (out.size() < max_tokens && splitter.next(&b, &e)) {
    const std::string_view word = text.substr(b, e - b);
    if (ignore_merges_) {
      auto it = raw_vocab_.find(std::string(word));
      if (it != raw_vocab_.end()) {
        out.push_back(it->second);
        continue;
      }
    }
    model_->encode_word(word, out);
  }
}

void BpeTokenizer::encode_into(std::string_view input, size_t max_tokens, std::vector<int32_t>& out) const {
  std::string sanitized;
  std::string_view text = input;
  if (utf8_valid_prefix(input) != input.size()) {
    sanitized = utf8_sanitize(input);
    text = sanitized;
  }
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
      continue;
    }
    const std::string_view segment = text.substr(s.begin, s.end - s.begin);
    const std::string_view normalized = nfc_ ? nfc(segment, norm_buf) : segment;
    if (normalized_matcher_.empty()) {
      encode_plain(normalized, max_tokens, out);
      continue;
    }
    inner.clear();
    normalized_matcher_.split(normalized, inner);
    for (const Split& t : inner) {
      if (out.size() >= max_tokens) break;
      if (t.id >= 0) {
        out.push_back(t.id);
      } else {
        encode_plain(normalized.substr(t.begin, t.end - t.begin), max_tokens, out);
      }
    }
  }
  if (out.size() > max_tokens) out.resize(max_tokens);
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
