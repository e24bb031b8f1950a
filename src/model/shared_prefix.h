// K/V of a token prefix that many forwards share (the reranker's fixed system prompt: 95 tokens,
// about a third of a small request), computed once per model and reused (docs/perf.md, "Shared
// prompt prefix"). A forward whose ids start with the prefix always computes the prefix rows as a
// pass of their own (or takes their K/V from here) and the other rows as a second pass, so its
// results depend only on the prefix that is set, never on whether the K/V were already kept.
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "backend/backend.h"

namespace lastrank {

class SharedPrefix {
 public:
  explicit SharedPrefix(Backend& be) : be_(be) {}

  // The prefix token ids (empty: none) for a model of `layers` layers; forgets kept K/V.
  void set(std::vector<int32_t> ids, int64_t layers);
  // How many leading rows of a forward over `ids` the prefix covers: its length when ids start
  // with it and the first readout row lies past it, else 0.
  int64_t rows_for(const std::vector<int32_t>& ids, int64_t first_readout) const;
  const std::vector<int32_t>& ids() const { return ids_; }

  // Whether every layer's K/V are kept (set by mark_ready after the prefix pass).
  bool ready() const { return ready_; }
  void mark_ready() { ready_ = true; }

  // Keep rows [0, rows()) of a layer's k and v [.., cols] (backend memory), or write them back.
  void save(int64_t layer, const float* k, const float* v, int64_t cols);
  void restore(int64_t layer, float* k, float* v, int64_t cols) const;

  // A layer's kept K/V as host arrays [rows(), cols] (what model/prefix_cache.h stores), and back.
  void download(int64_t layer, int64_t cols, float* k, float* v) const;
  void upload(int64_t layer, int64_t cols, const float* k, const float* v);

  int64_t rows() const { return int64_t(ids_.size()); }
  int64_t layers() const { return int64_t(k_.size()); }

 private:
  Backend& be_;
  std::vector<int32_t> ids_;
  std::vector<int64_t> row_index_;  // 0 .. rows()-1: gather_rows' host index list
  std::vector<std::unique_ptr<Buffer>> k_, v_;  // per layer [rows(), cols]
  bool ready_ = false;
};

}  // namespace lastrank
