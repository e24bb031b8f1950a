// tokenizer.json loading (untrusted input): checks the structure and that the pipeline is the one
// implemented here (NFC, Qwen2 Split + ByteLevel, BPE, ByteLevel decoder); anything else is a
// lastrank::Error naming what was expected and what was found. Added-token ids are assigned as
// HF's deserializer does (a content already in the vocab keeps its id, new ones follow).
#include "tokenizer/tokenizer_json.h"

#include <algorithm>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "tokenizer/bpe_tokenizer.h"
#include "tokenizer/byte_level.h"
#include "tokenizer/pre_tokenizer.h"
#include "tokenizer/token_index.h"

namespace lastrank {
namespace {

using nlohmann::json;
using tok::AddedToken;

using tok::kMaxTokenId;

const json& member(const json& obj, const char* key, const char* where) {
  if (!obj.is_object()) fail("tokenizer.json: ", where, " must be an object, found ", obj.type_name());
  auto it = obj.find(key);
  if (it == obj.end()) fail("tokenizer.json: ", where, " has no \"", key, "\"");
  return *it;
}

std::string type_of(const json& obj, const char* where) {
  const json& t = member(obj, "type", where);
  if (!t.is_string()) fail("tokenizer.json: ", where, ".type must be a string, found ", t.type_name());
  return t.get<std::string>();
}

bool flag(const json& obj, const char* key, bool dflt, const char* where) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return dflt;
  if (!it->is_boolean()) fail("tokenizer.json: ", where, ".", key, " must be a boolean, found ", it->type_name());
  return it->get<bool>();
}

void expect_empty_string(const json& obj, const char* key, const char* where) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return;
  if (!it->is_string() || !it->get_ref<const std::string&>().empty()) {
    fail("tokenizer.json: ", where, ".", key, " must be null or \"\" (unsupported), found ", it->dump());
  }
}

bool parse_normalizer(const json& root) {
  auto it = root.find("normalizer");
  if (it == root.end() || it->is_null()) return false;
  const json& n = *it;
  const std::string type = type_of(n, "normalizer");
  if (type == "NFC") return true;
  if (type == "Sequence") {
    const json& list = member(n, "normalizers", "normalizer");
    if (list.is_array() && list.empty()) return false;
    if (list.is_array() && list.size() == 1 && type_of(list[0], "normalizer.normalizers[0]") == "NFC") return true;
  }
  fail("tokenizer.json: normalizer must be NFC or null (the only one implemented), found ", n.dump().substr(0, 200));
}

void check_byte_level(const json& b, const char* where) {
  if (type_of(b, where) != "ByteLevel") fail("tokenizer.json: ", where, " must be ByteLevel, found ", b.dump().substr(0, 200));
  if (flag(b, "add_prefix_space", false, where)) fail("tokenizer.json: ", where, ".add_prefix_space=true is unsupported");
}

void check_pre_tokenizer(const json& root) {
  const json& p = member(root, "pre_tokenizer", "root");
  const char* expected = "a Sequence of Split (Qwen2 regex, Isolated) and ByteLevel (use_regex=false)";
  if (!p.is_object() || type_of(p, "pre_tokenizer") != "Sequence") fail("tokenizer.json: pre_tokenizer must be ", expected);
  const json& list = member(p, "pretokenizers", "pre_tokenizer");
  if (!list.is_array() || list.size() != 2) fail("tokenizer.json: pre_tokenizer must be ", expected);
  const json& split = list[0];
  if (type_of(split, "pre_tokenizer[0]") != "Split") fail("tokenizer.json: pre_tokenizer[0] must be Split");
  const json& pattern = member(split, "pattern", "pre_tokenizer[0]");
  const json& regex = member(pattern, "Regex", "pre_tokenizer[0].pattern");
  if (!regex.is_string() || regex.get_ref<const std::string&>() != tok::kQwen2SplitPattern) {
    fail("tokenizer.json: pre_tokenizer[0].pattern.Regex must be the Qwen2 pattern ", tok::kQwen2SplitPattern,
         ", found ", regex.dump().substr(0, 300));
  }
  const json& behavior = member(split, "behavior", "pre_tokenizer[0]");
  if (!behavior.is_string() || behavior.get_ref<const std::string&>() != "Isolated") {
    fail("tokenizer.json: pre_tokenizer[0].behavior must be \"Isolated\", found ", behavior.dump());
  }
  if (flag(split, "invert", false, "pre_tokenizer[0]")) fail("tokenizer.json: pre_tokenizer[0].invert=true is unsupported");
  check_byte_level(list[1], "pre_tokenizer[1]");
  if (flag(list[1], "use_regex", true, "pre_tokenizer[1]")) {
    fail("tokenizer.json: pre_tokenizer[1].use_regex must be false (the GPT-2 regex is not implemented)");
  }
}

// model.vocab and model.merges (~150K entries each) are collected during parsing instead of being
// built as a DOM (a std::map node per vocab entry, a json array per merge): 5x faster loading.
struct BigParts {
  std::vector<std::pair<std::string, int64_t>> vocab;
  std::vector<std::pair<std::string, std::string>> merges;
  std::string error;  // first structural problem seen while collecting
  // Where the parser is, from the keys at depths 1 and 2 (kept as flags: the callback runs for
  // every token of the file, and comparing path strings there cost ~5 % of the load).
  bool in_model = false;                     // under the top-level "model"
  bool in_vocab = false, in_merges = false;  // under model.vocab / model.merges
  bool in_merge_pair = false;
  int pair_items = 0;

  void note(std::string msg) {
    if (error.empty()) error = std::move(msg);
  }

  // nlohmann parser callback: returns false for what must not go into the DOM.
  bool operator()(int depth, json::parse_event_t event, json& parsed) {
    using E = json::parse_event_t;
    if (event == E::key && depth >= 1 && depth <= 2) {
      const std::string& key = parsed.get_ref<const std::string&>();
      if (depth == 1) in_model = key == "model";
      in_vocab = in_model && depth == 2 && key == "vocab";
      in_merges = in_model && depth == 2 && key == "merges";
      return true;
    }
    if (depth < 3 || !in_model) return true;
    if (in_vocab) {
      if (event == E::key) {
        if (depth == 3) vocab.emplace_back(std::move(parsed.get_ref<std::string&>()), -1);  // parsed is discarded
        return depth != 3;  // keep no DOM entry for it
      }
      if (event == E::value && depth == 3) {
        if (vocab.empty()) return false;  // a value without a key: vocab is not an object
        if (!parsed.is_number_integer()) {
          note(cat("model.vocab[\"", vocab.back().first, "\"] must be an integer id, found ", parsed.dump()));
        } else {
          vocab.back().second = parsed.get<int64_t>();
        }
        return false;
      }
      return depth > 3 ? (note("model.vocab values must be integer ids, found a nested value"), false) : false;
    }
    if (in_merges) {
      if (depth == 3 && event == E::value) {  // "left right"
        if (!parsed.is_string()) {
          note(cat("model.merges[", merges.size(), "] must be a string or a pair of strings, found ", parsed.dump()));
          return false;
        }
        const std::string& m = parsed.get_ref<const std::string&>();
        const size_t sp = m.find(' ');
        if (sp == std::string::npos || m.find(' ', sp + 1) != std::string::npos) {
          note(cat("model.merges[", merges.size(), "] must be \"left right\", found \"", m, "\""));
          return false;
        }
        merges.emplace_back(m.substr(0, sp), m.substr(sp + 1));
        return false;
      }
      if (depth == 3 && event == E::array_start) {
        in_merge_pair = true;
        pair_items = 0;
        merges.emplace_back();
        return true;
      }
      if (depth == 3 && event == E::array_end) {
        if (pair_items != 2) note(cat("model.merges[", merges.size() - 1, "] must be a pair of strings"));
        in_merge_pair = false;
        return false;
      }
      if (depth == 4 && event == E::value && in_merge_pair) {
        if (!parsed.is_string() || pair_items >= 2) {
          note(cat("model.merges[", merges.size() - 1, "] must be a pair of strings, found ", parsed.dump()));
        } else {
          (pair_items == 0 ? merges.back().first : merges.back().second) = std::move(parsed.get_ref<std::string&>());
        }
        ++pair_items;
        return false;
      }
      if (depth == 3 && event == E::object_start) note(cat("model.merges[", merges.size(), "] must be a string or a pair of strings, found an object"));
      return false;
    }
    return true;
  }
};

// The merges as (left id, right id) -> (rank, merged id). Three index lookups and one map insert
// per merge (~450K and 151K for Qwen's merges), each a cache miss in a table of megabytes: a batch
// is hashed and prefetched before it is probed, then its map slots before they are filled, so the
// misses overlap (before: ~25 % of the load's time, in TokenIndex::find and MergeMap::insert).
tok::MergeMap resolve_merges(const std::vector<std::pair<std::string, std::string>>& merges, const tok::TokenIndex& vocab) {
  constexpr size_t kBatch = 32;
  struct Keys {
    std::string joined;
    uint64_t h_left = 0, h_right = 0, h_joined = 0;
    int32_t left = -1, right = -1, joined_id = -1;
  };
  std::vector<Keys> batch(kBatch);
  tok::MergeMap map;
  map.reserve(merges.size());
  for (size_t b0 = 0; b0 < merges.size(); b0 += kBatch) {
    const size_t n = std::min(kBatch, merges.size() - b0);
    for (size_t i = 0; i < n; ++i) {  // hash, prefetch the index slots
      const auto& [left, right] = merges[b0 + i];
      Keys& k = batch[i];
      k.joined.assign(left).append(right);
      k.h_left = tok::TokenIndex::hash(left);
      k.h_right = tok::TokenIndex::hash(right);
      k.h_joined = tok::TokenIndex::hash(k.joined);
      vocab.prefetch(k.h_left);
      vocab.prefetch(k.h_right);
      vocab.prefetch(k.h_joined);
    }
    for (size_t i = 0; i < n; ++i) {  // probe, prefetch the map slot
      const size_t rank = b0 + i;
      const auto& [left, right] = merges[rank];
      Keys& k = batch[i];
      k.left = vocab.find(left, k.h_left);
      k.right = vocab.find(right, k.h_right);
      k.joined_id = vocab.find(k.joined, k.h_joined);
      if (k.left < 0 || k.right < 0)
        fail("tokenizer.json: model.merges[", rank, "] uses a token not in the vocab: \"", k.left < 0 ? left : right, "\"");
      if (k.joined_id < 0)
        fail("tokenizer.json: model.merges[", rank, "] makes \"", k.joined, "\", which is not in the vocab");
      map.prefetch(k.left, k.right);
    }
    for (size_t i = 0; i < n; ++i) {  // insert, in rank order
      const Keys& k = batch[i];
      map.insert(k.left, k.right, {static_cast<uint32_t>(b0 + i), k.joined_id});
    }
  }
  return map;
}

tok::TokenizerSpec parse(const json& root, BigParts& big) {
  if (!root.is_object()) fail("tokenizer.json: expected a JSON object at the top, found ", root.type_name());
  tok::TokenizerSpec spec;
  spec.nfc = parse_normalizer(root);
  check_pre_tokenizer(root);
  const json& decoder = member(root, "decoder", "root");
  check_byte_level(decoder, "decoder");

  const json& model = member(root, "model", "root");
  if (!model.is_object()) fail("tokenizer.json: model must be an object, found ", model.type_name());
  if (model.contains("type") && type_of(model, "model") != "BPE") {
    fail("tokenizer.json: model.type must be \"BPE\", found \"", type_of(model, "model"), "\"");
  }
  auto dropout = model.find("dropout");
  if (dropout != model.end() && !dropout->is_null()) fail("tokenizer.json: model.dropout must be null (unsupported)");
  expect_empty_string(model, "continuing_subword_prefix", "model");
  expect_empty_string(model, "end_of_word_suffix", "model");
  if (flag(model, "fuse_unk", false, "model")) fail("tokenizer.json: model.fuse_unk=true is unsupported");
  if (flag(model, "byte_fallback", false, "model")) fail("tokenizer.json: model.byte_fallback=true is unsupported");
  spec.ignore_merges = flag(model, "ignore_merges", false, "model");

  const json& vocab = member(model, "vocab", "model");
  if (!vocab.is_object()) fail("tokenizer.json: model.vocab must be an object, found ", vocab.type_name());
  if (!big.error.empty()) fail("tokenizer.json: ", big.error);
  int64_t max_id = -1;
  for (const auto& [key, id] : big.vocab) {
    if (id < 0 || id >= kMaxTokenId) fail("tokenizer.json: model.vocab[\"", key, "\"] = ", id, " is out of range [0, ", kMaxTokenId, ")");
    max_id = std::max(max_id, id);
  }
  // Vocab strings, dense by id (HF's vocab_r). Capacity for the added tokens up front: the index
  // below holds views into these strings, so the vector must not reallocate.
  const size_t n_added_max = root.contains("added_tokens") && root["added_tokens"].is_array() ? root["added_tokens"].size() : 0;
  std::vector<std::string>& id_to_token = spec.id_to_token;
  id_to_token.reserve(static_cast<size_t>(max_id + 1) + n_added_max);
  id_to_token.resize(static_cast<size_t>(max_id + 1));
  std::vector<char>& has = spec.has_token;
  has.assign(id_to_token.size(), 0);
  for (auto& [key, id] : big.vocab) {
    id_to_token[static_cast<size_t>(id)] = std::move(key);
    has[static_cast<size_t>(id)] = 1;
  }
  // The index holds a pointer to id_to_token: it is built where the strings will stay (in the
  // BpeTokenizer); here a local copy of the pointer serves the merges and added tokens.
  tok::TokenIndex vocab_ids;
  vocab_ids.build(&id_to_token, has);
  const size_t model_vocab_size = big.vocab.size();
  big.vocab = {};
  auto vocab_id = [&](std::string_view s) -> int32_t { return vocab_ids.find(s); };

  std::vector<int32_t> byte_ids(256, -1);  // the vocab id of each byte's ByteLevel string
  for (int b = 0; b < 256; ++b) {
    const char c = static_cast<char>(b);
    byte_ids[static_cast<size_t>(b)] = vocab_id(tok::byte_level_encode(std::string_view(&c, 1)));
  }
  int32_t unk_id = -1;
  auto unk = model.find("unk_token");
  if (unk != model.end() && !unk->is_null()) {
    if (!unk->is_string()) fail("tokenizer.json: model.unk_token must be a string or null, found ", unk->type_name());
    unk_id = vocab_id(unk->get<std::string>());
  }

  const json& merges = member(model, "merges", "model");
  if (!merges.is_array()) fail("tokenizer.json: model.merges must be an array, found ", merges.type_name());
  tok::MergeMap map = resolve_merges(big.merges, vocab_ids);
  big.merges = {};

  // Added tokens, ids as HF's AddedVocabulary::add_tokens assigns them.
  auto added_it = root.find("added_tokens");
  std::unordered_map<std::string, int32_t> added_ids;
  int64_t max_added = -1;
  if (added_it != root.end() && !added_it->is_null()) {
    if (!added_it->is_array()) fail("tokenizer.json: added_tokens must be an array, found ", added_it->type_name());
    for (size_t i = 0; i < added_it->size(); ++i) {
      const json& a = (*added_it)[i];
      const std::string where = cat("added_tokens[", i, "]");
      const json& content = member(a, "content", where.c_str());
      if (!content.is_string()) fail("tokenizer.json: ", where, ".content must be a string, found ", content.type_name());
      AddedToken t;
      t.content = content.get<std::string>();
      t.special = flag(a, "special", false, where.c_str());
      t.single_word = flag(a, "single_word", false, where.c_str());
      t.lstrip = flag(a, "lstrip", false, where.c_str());
      t.rstrip = flag(a, "rstrip", false, where.c_str());
      t.normalized = flag(a, "normalized", !t.special, where.c_str());
      if (t.content.empty()) continue;
      int64_t id;
      if (auto f = added_ids.find(t.content); f != added_ids.end()) {
        continue;  // HF: the first registration of a content wins
      } else if (int32_t v = vocab_id(t.content); v >= 0) {
        id = v;
      } else {
        id = max_added < 0 ? static_cast<int64_t>(model_vocab_size)
                           : (max_added >= static_cast<int64_t>(model_vocab_size) ? max_added + 1
                                                                                : static_cast<int64_t>(model_vocab_size));
      }
      if (id >= kMaxTokenId) fail("tokenizer.json: too many added tokens");
      max_added = std::max(max_added, id);
      t.id = static_cast<int32_t>(id);
      added_ids[t.content] = t.id;
      spec.added.push_back(std::move(t));
    }
  }
  for (const AddedToken& t : spec.added) {
    const auto id = static_cast<size_t>(t.id);
    if (id >= id_to_token.size()) {  // bounded: every added id is < kMaxTokenId (checked above)
      id_to_token.resize(id + 1);
      has.resize(id + 1, 0);
    }
    id_to_token[id] = t.content;
    has[id] = 1;
  }
  spec.model = std::make_unique<tok::BpeModel>(std::move(byte_ids), std::move(map), unk_id);
  return spec;
}

}  // namespace

tok::TokenizerSpec tok::parse_tokenizer_json(std::string_view json_text) {
  BigParts big;
  json root = json::parse(json_text.begin(), json_text.end(), std::ref(big), /*allow_exceptions=*/false);
  if (root.is_discarded()) fail("tokenizer.json: not valid JSON (or not valid UTF-8)");
  try {
    return parse(root, big);
  } catch (const json::exception& e) {  // a type check missed above: still the user's file
    fail("tokenizer.json: unexpected structure (", e.what(), ")");
  }
}

std::unique_ptr<Tokenizer> Tokenizer::load_json(std::string_view json_text) {
  return std::make_unique<tok::BpeTokenizer>(tok::parse_tokenizer_json(json_text));
}

}  // namespace lastrank
