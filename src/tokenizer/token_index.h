// Flat open-addressing index from token strings to ids (vocab strings and added contents). The
// strings live in the caller's id -> string table; the index stores only (hash, id) pairs, so
// building and probing it at load time (~450K lookups for the merges) is cache friendly.
#pragma once
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace lastrank::tok {

class TokenIndex {
 public:
  // strings[id] for every id; the vector must outlive the index and not change under it.
  void build(const std::vector<std::string>* strings, const std::vector<char>& present) {
    strings_ = strings;
    size_t n = 0;
    for (char p : present) n += p != 0;
    size_t cap = 16;
    while (cap < 2 * n + 2) cap <<= 1;
    slots_.assign(cap, Slot{0, -1});
    mask_ = cap - 1;
    // In batches: hash, prefetch the slots, then insert, so the (random) slot misses overlap.
    constexpr size_t kBatch = 32;
    uint64_t hashes[kBatch];
    for (size_t b0 = 0; b0 < present.size(); b0 += kBatch) {
      const size_t n_batch = std::min(kBatch, present.size() - b0);
      for (size_t i = 0; i < n_batch; ++i) {
        hashes[i] = present[b0 + i] ? hash((*strings)[b0 + i]) : 0;
        prefetch(hashes[i]);
      }
      for (size_t i = 0; i < n_batch; ++i) {
        if (present[b0 + i]) insert(static_cast<int32_t>(b0 + i), hashes[i]);
      }
    }
  }
  // Adds (or re-points) strings[id] -> id.
  void insert(int32_t id) { insert(id, hash((*strings_)[static_cast<size_t>(id)])); }
  // insert() with h = hash(strings[id]) taken by the caller.
  void insert(int32_t id, uint64_t h) {
    if (2 * (size_ + 1) > slots_.size()) grow();
    const std::string& s = (*strings_)[static_cast<size_t>(id)];
    size_t i = h & mask_;
    while (slots_[i].id >= 0) {
      if (slots_[i].hash == h && (*strings_)[static_cast<size_t>(slots_[i].id)] == s) return;  // first id wins
      i = (i + 1) & mask_;
    }
    slots_[i] = {h, id};
    ++size_;
  }
  // Re-points an existing key to another id (added tokens override vocab entries).
  void assign(std::string_view s, int32_t id) {
    const uint64_t h = hash(s);
    for (size_t i = h & mask_; slots_[i].id >= 0; i = (i + 1) & mask_) {
      if (slots_[i].hash == h && (*strings_)[static_cast<size_t>(slots_[i].id)] == s) {
        slots_[i].id = id;
        return;
      }
    }
    insert(id);
  }
  int32_t find(std::string_view s) const { return find(s, hash(s)); }
  // find() with h = hash(s) taken by the caller: a caller with many keys (the merges at load time)
  // hashes a batch and prefetch()es its slots before probing, so the cache misses overlap.
  int32_t find(std::string_view s, uint64_t h) const {
    if (slots_.empty()) return -1;
    for (size_t i = h & mask_; slots_[i].id >= 0; i = (i + 1) & mask_) {
      if (slots_[i].hash == h && (*strings_)[static_cast<size_t>(slots_[i].id)] == s) return slots_[i].id;
    }
    return -1;
  }
  void prefetch(uint64_t h) const {
    if (!slots_.empty()) __builtin_prefetch(&slots_[h & mask_]);
  }

  static uint64_t hash(std::string_view s) {
    uint64_t h = 0x9E3779B97F4A7C15ull ^ s.size();
    size_t i = 0;
    for (; i + 8 <= s.size(); i += 8) {
      uint64_t w;
      std::memcpy(&w, s.data() + i, 8);
      h = (h ^ w) * 0xFF51AFD7ED558CCDull;
      h ^= h >> 32;
    }
    uint64_t tail = 0;
    std::memcpy(&tail, s.data() + i, s.size() - i);
    h = (h ^ tail) * 0xC4CEB9FE1A85EC53ull;
    h ^= h >> 29;
    return h;
  }

 private:
  struct Slot {
    uint64_t hash;
    int32_t id;
  };
  void grow() {
    std::vector<Slot> old = std::move(slots_);
    slots_.assign(old.size() * 2, Slot{0, -1});
    mask_ = slots_.size() - 1;
    for (const Slot& s : old) {
      if (s.id < 0) continue;
      size_t i = s.hash & mask_;
      while (slots_[i].id >= 0) i = (i + 1) & mask_;
      slots_[i] = s;
    }
  }
  const std::vector<std::string>* strings_ = nullptr;
  std::vector<Slot> slots_;
  size_t mask_ = 0;
  size_t size_ = 0;
};

}  // namespace lastrank::tok
