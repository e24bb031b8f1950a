// Byte-level BPE model (HF models.BPE without dropout/byte_fallback): the initial symbols of a
// word are its bytes; the adjacent pair with the lowest merge rank (leftmost on ties) is merged
// until no pair has a rank. Merge ranks live in an open-addressing hash map keyed by id pairs.
// Immutable after construction, so encode_word() is safe to call from many threads.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace lastrank::tok {

// (left id, right id) -> (rank, merged id); open addressing with linear probing.
class MergeMap {
 public:
  struct Value {
    uint32_t rank;
    int32_t id;
  };
  void reserve(size_t n);
  // A pair inserted twice keeps the last value (HF collects its merge map into a HashMap).
  void insert(int32_t left, int32_t right, Value v);
  // Rank and id of the pair, or rank == kNoRank.
  Value find(int32_t left, int32_t right) const {
    const uint64_t key = pack(left, right);
    size_t i = hash(key);
    while (true) {
      const Slot& s = slots_[i];
      if (s.key == key) return s.value;
      if (s.key == kEmpty) return {kNoRank, -1};
      i = (i + 1) & mask_;
    }
  }
  // A hint before insert() or find() of the pair (load time: merges in batches, misses overlapped).
  void prefetch(int32_t left, int32_t right) const { __builtin_prefetch(&slots_[hash(pack(left, right))]); }
  size_t size() const { return size_; }
  // f(left, right, value) for every pair, in slot order (the tokenizer cache writes them out).
  template <typename F>
  void for_each(F&& f) const {
    for (const Slot& s : slots_)
      if (s.key != kEmpty) f(static_cast<int32_t>(s.key >> 32), static_cast<int32_t>(s.key & 0xFFFFFFFF), s.value);
  }
  static constexpr uint32_t kNoRank = UINT32_MAX;

 private:
  static constexpr uint64_t kEmpty = ~uint64_t{0};
  struct Slot {
    uint64_t key = kEmpty;
    Value value{kNoRank, -1};
  };
  static uint64_t pack(int32_t a, int32_t b) {
    return (uint64_t{static_cast<uint32_t>(a)} << 32) | static_cast<uint32_t>(b);
  }
  size_t hash(uint64_t key) const { return static_cast<size_t>((key * 0x9E3779B97F4A7C15ull) >> shift_); }
  std::vector<Slot> slots_ = std::vector<Slot>(1);
  size_t mask_ = 0;
  int shift_ = 63;
  size_t size_ = 0;
};

class BpeModel {
 public:
  // byte_ids[b]: id of the one-byte token for byte b, or -1 (then the byte is dropped, as HF
  // does with no unk_token, or mapped to unk_id when unk_id >= 0).
  BpeModel(std::vector<int32_t> byte_ids, MergeMap merges, int32_t unk_id);

  // Appends the ids of one pre-tokenized word (raw bytes) to out.
  void encode_word(std::string_view word, std::vector<int32_t>& out) const;
  // Reference merge loop (O(n^2), the definition); tests compare encode_word() against it.
  void encode_word_reference(std::string_view word, std::vector<int32_t>& out) const;

  const MergeMap& merges() const { return merges_; }
  const std::vector<int32_t>& byte_ids() const { return byte_ids_; }
  int32_t unk_id() const { return unk_id_; }

 private:
  void initial_symbols(std::string_view word, std::vector<int32_t>& syms) const;
  void merge_small(std::vector<int32_t>& syms) const;
  void merge_heap(std::vector<int32_t>& syms) const;

  std::vector<int32_t> byte_ids_;
  MergeMap merges_;
  int32_t unk_id_;
};

}  // namespace lastrank::tok
