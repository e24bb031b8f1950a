// BPE merge loops (see bpe_model.h): a rank-array scan for short words, a binary heap over a
// linked list of symbols for long ones (O(n log n): a 100 KB run of one letter stays fast).
#include "tokenizer/bpe_model.h"

#include <algorithm>
#include <queue>

#include "core/error.h"

namespace lastrank::tok {

void MergeMap::reserve(size_t n) {
  size_t cap = 16;
  int bits = 4;
  while (cap < 2 * n + 2) {
    cap <<= 1;
    ++bits;
  }
  slots_.assign(cap, Slot{});
  mask_ = cap - 1;
  shift_ = 64 - bits;
  size_ = 0;
}

void MergeMap::insert(int32_t left, int32_t right, Value v) {
  if (2 * (size_ + 1) > slots_.size()) {  // grow
    std::vector<Slot> old = std::move(slots_);
    reserve(std::max<size_t>(2 * size_ + 2, 8));
    for (const Slot& s : old) {
      if (s.key != kEmpty) insert(static_cast<int32_t>(s.key >> 32), static_cast<int32_t>(s.key & 0xFFFFFFFF), s.value);
    }
  }
  const uint64_t key = pack(left, right);
  size_t i = hash(key);
  while (slots_[i].key != kEmpty) {
    if (slots_[i].key == key) {
      slots_[i].value = v;  // HF builds its merge map with HashMap::collect: the last one wins
      return;
    }
    i = (i + 1) & mask_;
  }
  slots_[i].key = key;
  slots_[i].value = v;
  ++size_;
}

BpeModel::BpeModel(std::vector<int32_t> byte_ids, MergeMap merges, int32_t unk_id)
    : byte_ids_(std::move(byte_ids)), merges_(std::move(merges)), unk_id_(unk_id) {
  LR_CHECK(byte_ids_.size() == 256);
}

void BpeModel::initial_symbols(std::string_view word, std::vector<int32_t>& syms) const {
  syms.clear();
  for (unsigned char b : word) {
    const int32_t id = byte_ids_[b];
    if (id >= 0) {
      syms.push_back(id);
    } else if (unk_id_ >= 0) {
      syms.push_back(unk_id_);
    }
  }
}

void BpeModel::encode_word_reference(std::string_view word, std::vector<int32_t>& out) const {
  std::vector<int32_t> syms;
  initial_symbols(word, syms);
  while (syms.size() > 1) {
    uint32_t best = MergeMap::kNoRank;
    size_t at = 0;
    int32_t id = -1;
    for (size_t i = 0; i + 1 < syms.size(); ++i) {
      const MergeMap::Value v = merges_.find(syms[i], syms[i + 1]);
      if (v.rank < best) {
        best = v.rank;
        at = i;
        id = v.id;
      }
    }
    if (best == MergeMap::kNoRank) break;
    syms[at] = id;
    syms.erase(syms.begin() + static_cast<ptrdiff_t>(at) + 1);
  }
  out.insert(out.end(), syms.begin(), syms.end());
}

namespace {
constexpr size_t kSmallWord = 64;  // up to this many symbols the O(n^2) rank scan is fastest
}

void BpeModel::encode_word(std::string_view word, std::vector<int32_t>& out) const {
  thread_local std::vector<int32_t> syms;
  initial_symbols(word, syms);
  if (syms.size() <= kSmallWord) {
    merge_small(syms);
  } else {
    merge_heap(syms);
  }
  out.insert(out.end(), syms.begin(), syms.end());
}

void BpeModel::merge_small(std::vector<int32_t>& syms) const {
  size_t n = syms.size();
  if (n < 2) return;
  uint32_t ranks[kSmallWord];
  int32_t ids[kSmallWord];
  for (size_t i = 0; i + 1 < n; ++i) {
    const MergeMap::Value v = merges_.find(syms[i], syms[i + 1]);
    ranks[i] = v.rank;
    ids[i] = v.id;
  }
  while (n > 1) {
    size_t at = 0;
    for (size_t i = 1; i + 1 < n; ++i) {
      if (ranks[i] < ranks[at]) at = i;
    }
    if (ranks[at] == MergeMap::kNoRank) break;
    syms[at] = ids[at];
    // Remove symbol at+1 and pair at+1 (pairs: i covers syms[i], syms[i+1]).
    for (size_t i = at + 1; i + 1 < n; ++i) syms[i] = syms[i + 1];
    for (size_t i = at + 1; i + 2 < n; ++i) {
      ranks[i] = ranks[i + 1];
      ids[i] = ids[i + 1];
    }
    --n;
    if (at > 0) {
      const MergeMap::Value v = merges_.find(syms[at - 1], syms[at]);
      ranks[at - 1] = v.rank;
      ids[at - 1] = v.id;
    }
    if (at + 1 < n) {
      const MergeMap::Value v = merges_.find(syms[at], syms[at + 1]);
      ranks[at] = v.rank;
      ids[at] = v.id;
    }
  }
  syms.resize(n);
}

void BpeModel::merge_heap(std::vector<int32_t>& syms) const {
  const size_t n = syms.size();
  std::vector<int32_t> prev(n), next(n);
  std::vector<char> alive(n, 1);
  for (size_t i = 0; i < n; ++i) {
    prev[i] = static_cast<int32_t>(i) - 1;
    next[i] = i + 1 < n ? static_cast<int32_t>(i + 1) : -1;
  }
  struct Entry {
    uint32_t rank;
    uint32_t pos;
    int32_t id;
    bool operator>(const Entry& o) const { return rank != o.rank ? rank > o.rank : pos > o.pos; }
  };
  std::priority_queue<Entry, std::vector<Entry>, std::greater<Entry>> heap;
  for (size_t i = 0; i + 1 < n; ++i) {
    const MergeMap::Value v = merges_.find(syms[i], syms[i + 1]);
    if (v.rank != MergeMap::kNoRank) heap.push({v.rank, static_cast<uint32_t>(i), v.id});
  }
  while (!heap.empty()) {
    const Entry top = heap.top();
    heap.pop();
    const size_t p = top.pos;
    if (!alive[p] || next[p] < 0) continue;
    const size_t q = static_cast<size_t>(next[p]);
    const MergeMap::Value cur = merges_.find(syms[p], syms[q]);
    if (cur.rank != top.rank || cur.id != top.id) continue;  // stale entry
    syms[p] = top.id;
    alive[q] = 0;
    next[p] = next[q];
    if (next[q] >= 0) prev[static_cast<size_t>(next[q])] = static_cast<int32_t>(p);
    if (prev[p] >= 0) {
      const size_t l = static_cast<size_t>(prev[p]);
      const MergeMap::Value v = merges_.find(syms[l], syms[p]);
      if (v.rank != MergeMap::kNoRank) heap.push({v.rank, static_cast<uint32_t>(l), v.id});
    }
    if (next[p] >= 0) {
      const MergeMap::Value v = merges_.find(syms[p], syms[static_cast<size_t>(next[p])]);
      if (v.rank != MergeMap::kNoRank) heap.push({v.rank, static_cast<uint32_t>(p), v.id});
    }
  }
  size_t w = 0;
  for (size_t i = 0; i < n; ++i) {
    if (alive[i]) syms[w++] = syms[i];
  }
  syms.resize(w);
}

}  // namespace lastrank::tok
