// Cancelling a rerank on a tiny checkpoint (model/qwen3.cpp, rerank/reranker.cpp): another thread
// cancels the token while the forward runs (at a trace event of the compute thread); the
// computation must stop at the very next layer, in-layer or block boundary (no later trace event),
// throw Cancelled, and leave the Reranker usable: the next request's results are bit-identical to
// the same request's results before any cancellation.
#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <future>
#include <optional>
#include <thread>

#include "core/cancel.h"
#include "rerank/reranker.h"
#include "test_paths.h"

namespace lastrank {
namespace {

const std::filesystem::path kModel = std::filesystem::path(LASTRANK_TEST_MODELS) / "tiny-gqa3";  // 3 layers

struct Event {
  std::string name;
  int layer;
};

struct CancelledRun {
  std::vector<Event> events;            // trace events in order
  size_t events_at_cancel = 0;          // events seen when the token was cancelled (0: never)
  std::optional<CancelReason> thrown;  // Cancelled's reason, if rerank threw it
};

// Reranks req with a trace whose first event matching `at` hands over to another thread, which
// cancels the token; the compute thread waits for that, then goes on.
CancelledRun rerank_cancelled_at(Reranker& rr, const RerankRequest& req, const std::function<bool(const Event&)>& at) {
  CancelToken token;
  CancelledRun run;
  std::promise<void> go;
  std::thread canceller([&, f = go.get_future()]() mutable {
    f.wait();
    token.cancel(CancelReason::client_gone);
  });
  bool fired = false;
  const TraceFn trace = [&](const std::string& name, int layer, const float*, int64_t, int64_t) {
    run.events.push_back({name, layer});
    if (fired || !at(run.events.back())) return;
    fired = true;
    run.events_at_cancel = run.events.size();
    go.set_value();
    while (!token.cancelled()) std::this_thread::yield();
  };
  rr.set_trace(&trace);
  try {
    rr.rerank(req, &token);
  } catch (const Cancelled& e) {
    run.thrown = e.reason();
  }
  rr.set_trace(nullptr);
  if (!fired) go.set_value();
  canceller.join();
  return run;
}

RerankRequest request(const std::string& query, size_t docs, size_t words) {
  RerankRequest r;
  r.query = query;
  for (size_t d = 0; d < docs; ++d) {
    std::string text = "document " + std::to_string(d) + ":";
    for (size_t w = 0; w < words; ++w) text += " word" + std::to_string((d * 7 + w * 3) % 50);
    r.documents.push_back(text);
  }
  r.return_embeddings = true;
  return r;
}

void expect_identical(const RerankResponse& a, const RerankResponse& b) {
  EXPECT_EQ(a.total_tokens, b.total_tokens);
  EXPECT_EQ(a.blocks, b.blocks);
  ASSERT_EQ(a.results.size(), b.results.size());
  for (size_t i = 0; i < a.results.size(); ++i) {
    EXPECT_EQ(a.results[i].index, b.results[i].index) << i;
    EXPECT_EQ(a.results[i].relevance_score, b.results[i].relevance_score) << i;  // bit-identical
    EXPECT_EQ(a.results[i].embedding, b.results[i].embedding) << i;
  }
}

class RerankCancel : public ::testing::TestWithParam<Precision> {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(kModel / "tokenizer.json"))
      GTEST_SKIP() << "fixture " << kModel << " has no tokenizer (run scripts/setup.sh)";
    EngineOptions eo;
    eo.precision = GetParam();
    eo.threads = 2;
    eo.attn_row_chunk = 16;  // several attention chunks per layer
    RerankOptions ro;
    ro.block_size = 2;  // 3 blocks for 5 documents
    rr_ = Reranker::load(kModel.string(), eo, ro);
  }
  std::unique_ptr<Reranker> rr_;
};

TEST_P(RerankCancel, StopsAtTheNextBoundaryAndLeavesTheModelReusable) {
  const RerankRequest ref_req = request("which words matter", 5, 12);
  const RerankResponse reference = rr_->rerank(ref_req);  // never cancelled
  ASSERT_EQ(reference.blocks, 3u);
  // A different, longer request is cancelled at each kind of boundary.
  const RerankRequest other = request("another query about words", 5, 30);
  struct Case {
    const char* what;
    std::function<bool(const Event&)> at;
  };
  const Case cases[] = {
      {"between layers (after layer 0)", [](const Event& e) { return e.name == "layer_out" && e.layer == 0; }},
      {"inside a layer (attention done, before the MLP)", [](const Event& e) { return e.name == "attn_out" && e.layer == 1; }},
      {"inside the last layer", [](const Event& e) { return e.name == "attn_out" && e.layer == 2; }},
      {"between blocks (after block 0)", [](const Event& e) { return e.name == "final_norm"; }},
      {"before the first layer", [](const Event& e) { return e.name == "embed"; }},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    const CancelledRun run = rerank_cancelled_at(*rr_, other, c.at);
    ASSERT_GT(run.events_at_cancel, 0u);
    ASSERT_TRUE(run.thrown.has_value()) << "rerank finished although cancelled";
    EXPECT_EQ(*run.thrown, CancelReason::client_gone);
    // Nothing computed after the boundary that followed the cancel: no later trace event.
    ASSERT_EQ(run.events.size(), run.events_at_cancel) << "next event: " << run.events[run.events_at_cancel].name
                                                       << " layer " << run.events[run.events_at_cancel].layer;
    expect_identical(rr_->rerank(ref_req), reference);
  }
}

TEST_P(RerankCancel, CancelledTokenStopsBeforeAnyWork) {
  CancelToken token;
  token.cancel(CancelReason::deadline);
  int events = 0;
  const TraceFn trace = [&](const std::string&, int, const float*, int64_t, int64_t) { ++events; };
  rr_->set_trace(&trace);
  try {
    rr_->rerank(request("q", 3, 5), &token);
    ADD_FAILURE() << "no Cancelled thrown";
  } catch (const Cancelled& e) {
    EXPECT_EQ(e.reason(), CancelReason::deadline);
  }
  rr_->set_trace(nullptr);
  EXPECT_EQ(events, 0);
}

INSTANTIATE_TEST_SUITE_P(Precisions, RerankCancel, ::testing::Values(Precision::fp32, Precision::bf16),
                         [](const auto& info) { return std::string(precision_name(info.param)); });

}  // namespace
}  // namespace lastrank
