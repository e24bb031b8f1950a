// A model-free RerankEngine for the server tests: whitespace "tokens", a deterministic score
// (share of query words found in the document), and a gate that holds rerank() calls until the
// test releases them, so queueing, 429, deadlines and draining can be provoked deterministically.
// Like the real engine it honours its CancelToken: a call waiting at the gate or in its delay
// throws Cancelled within a few milliseconds of the token being cancelled.
#pragma once
#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "core/cancel.h"
#include "core/error.h"
#include "server/engine.h"
#include "tokenizer/tokenizer.h"
#include "../word_tokens.h"

namespace lastrank::server::testing {

inline std::vector<std::string> words(std::string_view text) {
  std::vector<std::string> out;
  std::istringstream is{std::string(text)};
  for (std::string w; is >> w;) out.push_back(w);
  return out;
}

// A byte tokenizer for /tokenize and /detokenize: id b (0..255) is byte b, id 256 is the special
// token "<s>" (matched whole in the text). Thread-safe (stateless).
class ByteTokenizer final : public Tokenizer {
 public:
  static constexpr int32_t kSpecial = 256;
  std::vector<int32_t> encode(std::string_view text) const override {
    std::vector<int32_t> ids;
    for (size_t i = 0; i < text.size();) {
      if (text.substr(i).starts_with("<s>")) {
        ids.push_back(kSpecial);
        i += 3;
      } else {
        ids.push_back(static_cast<unsigned char>(text[i++]));
      }
    }
    return ids;
  }
  std::string decode(const std::vector<int32_t>& ids) const override {
    std::string out;
    for (int32_t id : ids) out += token_bytes(id);
    return out;
  }
  std::optional<int32_t> token_to_id(std::string_view token) const override {
    if (token == "<s>") return kSpecial;
    if (token.size() == 1) return static_cast<unsigned char>(token[0]);
    return std::nullopt;
  }
  std::optional<std::string> id_to_token(int32_t id) const override {
    if (id < 0 || id > kSpecial) return std::nullopt;
    return token_bytes(id);
  }
  int32_t vocab_size() const override { return kSpecial + 1; }
  bool is_special(int32_t id) const override { return id == kSpecial; }
  std::string token_bytes(int32_t id) const override {
    if (id == kSpecial) return "<s>";
    return id >= 0 && id < kSpecial ? std::string(1, char(id)) : std::string();
  }
};

class FakeEngine : public RerankEngine {
 public:
  static constexpr std::chrono::milliseconds kCancelPoll{2};

  FakeEngine() {
    info_.model_name = "fake-reranker";
    info_.precision = "fake";
    info_.kernel_set = "fake-kernels";
    info_.threads = 1;
    info_.hidden_size = 8;
    info_.num_layers = 1;
    info_.projector_dim = 4;
    info_.vocab_size = 100;
    info_.max_query_tokens = 16;
    info_.max_doc_tokens = 32;
    info_.block_size = 125;
  }
  const EngineInfo& info() const override { return info_; }
  const Tokenizer& tokenizer() const override { return tokenizer_; }

  size_t count_tokens(std::string_view text, size_t limit) const override {
    return std::min(words(text).size(), limit + 1);
  }
  std::string truncate(std::string_view text, size_t max_tokens, TruncationSide side) const override {
    auto w = words(text);
    if (w.size() < max_tokens) return std::string(text);
    std::vector<std::string> keep = side == TruncationSide::right
                                        ? std::vector<std::string>(w.begin(), w.begin() + std::ptrdiff_t(max_tokens))
                                        : std::vector<std::string>(w.end() - std::ptrdiff_t(max_tokens), w.end());
    std::string out;
    for (size_t i = 0; i < keep.size(); ++i) out += (i ? " " : "") + keep[i];
    return out;
  }
  // Each whitespace word is one token; every token ends a piece.
  std::vector<TokenEnd> token_ends(std::string_view text, size_t max_tokens) const override {
    return whitespace_token_ends(text, max_tokens);
  }

  // Score of one document against a query: |query words in doc| / |query words|.
  static float score(const std::string& query, const std::string& doc) {
    auto q = words(query);
    auto d = words(doc);
    std::set<std::string> ds(d.begin(), d.end());
    size_t hit = 0;
    for (const auto& w : q) hit += ds.count(w);
    return q.empty() ? 0.f : float(hit) / float(q.size());
  }

  RerankResponse rerank(const RerankRequest& req, const CancelToken& cancel) override {
    {
      std::unique_lock lock(mu_);
      ++entered_;
      cv_.notify_all();
      while (!cv_.wait_for(lock, kCancelPoll, [&] { return open_ || permits_ > 0; })) stop_if(cancel);
      if (!open_) --permits_;
      order_.push_back(req.query);
    }
    // The query "hang" stands for a long request: it computes for a minute unless cancelled.
    const int delay_ms = req.query == "hang" ? 60000 : delay_ms_.load();
    const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(delay_ms);
    while (std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(kCancelPoll);
      std::unique_lock lock(mu_);
      stop_if(cancel);
    }
    if (req.query == "throw-error") fail("fake engine rejects this query");
    if (req.query == "throw-runtime") throw std::runtime_error("fake engine crashed");
    return scored(req);
  }

  // The response itself: every document scored (the query "nan-score" gives NaN scores, an engine
  // failure), sorted by score, cut to top_n.
  static RerankResponse scored(const RerankRequest& req) {
    RerankResponse r;
    r.blocks = 1;
    r.total_tokens = int64_t(words(req.query).size());
    for (size_t i = 0; i < req.documents.size(); ++i) {
      r.total_tokens += int64_t(words(req.documents[i]).size());
      RerankItem it;
      it.index = i;
      it.relevance_score = req.query == "nan-score" ? std::numeric_limits<float>::quiet_NaN()
                                                    : score(req.query, req.documents[i]);
      if (req.return_embeddings) it.embedding = {it.relevance_score, 1.f};
      r.results.push_back(it);
    }
    std::stable_sort(r.results.begin(), r.results.end(),
                     [](const RerankItem& a, const RerankItem& b) { return a.relevance_score > b.relevance_score; });
    if (req.top_n && *req.top_n < r.results.size()) r.results.resize(*req.top_n);
    return r;
  }

  // Gate control: close() holds every later rerank() until release(n) or open().
  void close() {
    std::lock_guard lock(mu_);
    open_ = false;
    permits_ = 0;
  }
  void release(int n = 1) {
    std::lock_guard lock(mu_);
    permits_ += n;
    cv_.notify_all();
  }
  void open() {
    std::lock_guard lock(mu_);
    open_ = true;
    cv_.notify_all();
  }
  // Waits until n rerank() calls have started (entered the gate).
  bool wait_entered(int n, std::chrono::milliseconds timeout = std::chrono::milliseconds(5000)) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return entered_ >= n; });
  }
  std::vector<std::string> order() {
    std::lock_guard lock(mu_);
    return order_;
  }
  void set_delay_ms(int ms) { delay_ms_ = ms; }
  // rerank() calls that threw Cancelled.
  int stopped() {
    std::lock_guard lock(mu_);
    return stopped_;
  }

 private:
  // With mu_ held: throws Cancelled (and counts it) if the token is cancelled.
  void stop_if(const CancelToken& cancel) {
    if (!cancel.cancelled()) return;
    ++stopped_;
    cv_.notify_all();
    throw Cancelled(cancel.reason());
  }

  EngineInfo info_;
  ByteTokenizer tokenizer_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = true;
  int permits_ = 0;
  int entered_ = 0;
  std::vector<std::string> order_;
  int stopped_ = 0;
  std::atomic<int> delay_ms_{0};
};

}  // namespace lastrank::server::testing
