// The listwise pipeline of jina-reranker-v3's modeling.py rerank(): truncate → split into
// blocks → one prompt + forward per block → readout rows → projector → block scores and
// weights → weighted mean of block query vectors → final cosine → sort → top_n.
#include "rerank/reranker.h"

#include <algorithm>
#include <fstream>
#include <future>
#include <numeric>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "io/hf_cache.h"
#include "model/config.h"
#include "model/weights.h"
#include "rerank/blocks.h"
#include "rerank/prompt.h"
#include "rerank/scoring.h"
#include "rerank/truncation.h"
#include "tokenizer/tokenizer_cache.h"

namespace lastrank {
namespace {

// tokenizer_config.json's model_max_length (the capacity rule's max_length), if readable.
size_t read_model_max_length(const std::string& dir, size_t fallback) {
  std::ifstream f(dir + "/tokenizer_config.json");
  if (!f) return fallback;
  std::stringstream ss;
  ss << f.rdbuf();
  auto j = nlohmann::json::parse(ss.str(), nullptr, /*allow_exceptions=*/false);
  if (j.is_object() && j.contains("model_max_length") && j["model_max_length"].is_number_unsigned()) {
    auto v = j["model_max_length"].get<uint64_t>();
    if (v > 0 && v <= (uint64_t(1) << 24)) return size_t(v);
  }
  return fallback;
}

// tokenizer.json, through the tokenizer cache in the weight cache directory, with the cache's log
// kept for the loading thread to replay (the engine's log is called from that thread only).
struct LoadedTokenizer {
  std::unique_ptr<Tokenizer> tokenizer;
  std::vector<std::pair<std::string, std::string>> cache_log;  // status, detail
};

LoadedTokenizer load_tokenizer(const std::string& path, const std::string& cache_dir) {
  LoadedTokenizer t;
  t.tokenizer = load_tokenizer_file(path, cache_dir, [&t](const std::string& status, const std::string& detail) {
    t.cache_log.emplace_back(status, detail);
  });
  return t;
}

}  // namespace

std::unique_ptr<Reranker> Reranker::load(const std::string& dir_or_id, const EngineOptions& engine, const RerankOptions& opts) {
  PhaseClock clock;
  const std::string dir = locate_model(dir_or_id).dir;
  ModelConfig cfg = load_model_config(dir + "/config.json");
  clock.lap("config");
  // tokenizer.json (~0.25 s on one core for the full vocabulary, a few ms from the tokenizer cache)
  // loads on a thread of its own while the weights are opened and prepared; phase "tokenizer" is
  // what is left of it afterwards.
  auto tok_loading = std::async(std::launch::async, [path = dir + "/tokenizer.json", cache = engine.weight_cache_dir] {
    return load_tokenizer(path, cache);
  });
  std::unique_ptr<Qwen3Model> model;
  try {
    ModelWeights weights = load_model_weights(dir, cfg);
    clock.lap("weights_open");
    model = std::make_unique<Qwen3Model>(std::move(cfg), std::move(weights), engine);
    clock.lap("weights_prepare");
  } catch (...) {
    tok_loading.get();  // a broken tokenizer.json is reported first, as when it loaded first
    throw;
  }
  LoadedTokenizer tok = tok_loading.get();
  if (engine.weight_cache_log)
    for (const auto& [status, detail] : tok.cache_log) engine.weight_cache_log(CacheFileKind::tokenizer, status, detail);
  clock.lap("tokenizer");
  RerankOptions o = opts;
  if (o.max_length == 0) o.max_length = read_model_max_length(dir, 131072);
  auto r = std::make_unique<Reranker>(std::move(tok.tokenizer), std::move(model), o);
  clock.lap("finish");
  r->load_phases_ = clock.phases();
  return r;
}

Reranker::Reranker(std::unique_ptr<Tokenizer> tok, std::unique_ptr<Qwen3Model> model, const RerankOptions& opts)
    : tok_(std::move(tok)), model_(std::move(model)) {
  opts_.max_length = 131072;
  set_options(opts);
  auto e = tok_->token_to_id(kEmbedToken), r = tok_->token_to_id(kRerankToken);
  if (!e || !r) fail("tokenizer.json has no ", kEmbedToken, " / ", kRerankToken, " added tokens: not a jina-reranker-v3 tokenizer");
  embed_token_id_ = *e;
  rerank_token_id_ = *r;
  if (int64_t(std::max(*e, *r)) >= model_->config().vocab_size)
    fail("readout token id ", std::max(*e, *r), " is outside the embedding table (vocab_size ", model_->config().vocab_size, ")");
  // Every block prompt starts with these tokens (the pre-tokenizer splits before " <count>"; a
  // prompt whose tokens differ there just computes every row).
  model_->set_shared_prefix(tok_->encode(block_prompt_prefix()));
}

Reranker::~Reranker() = default;

void Reranker::set_options(const RerankOptions& opts) {
  if (opts.max_query_tokens == 0 || opts.max_doc_tokens == 0 || opts.block_size == 0)
    fail("rerank options: max_query_tokens, max_doc_tokens and block_size must be positive");
  const size_t max_length = opts.max_length == 0 ? opts_.max_length : opts.max_length;
  opts_ = opts;
  opts_.max_length = max_length;
}

RerankResponse Reranker::rerank(const RerankRequest& req, const CancelToken* cancel) {
  if (req.documents.empty()) fail("\"documents\" must not be empty");
  if (req.instruction) check_instruction(*req.instruction);

  const TruncatedText query = truncate_text(*tok_, req.query, opts_.max_query_tokens);
  std::vector<TruncatedText> docs;
  docs.reserve(req.documents.size());
  std::vector<size_t> lens;
  for (const auto& d : req.documents) {
    docs.push_back(truncate_text(*tok_, d, opts_.max_doc_tokens));
    lens.push_back(docs.back().tokens);
  }
  const auto blocks = plan_blocks(lens, query.tokens, opts_.block_size, opts_.max_length, opts_.max_doc_tokens);

  const int64_t hidden = model_->config().hidden_size, dim = model_->projector_dim();
  RerankResponse resp;
  std::vector<std::vector<float>> doc_vecs(req.documents.size());
  std::vector<BlockQuery> block_queries;
  for (const auto& [b, e] : blocks) {
    check_cancel(cancel);
    std::vector<std::string_view> texts;
    for (size_t i = b; i < e; ++i) texts.push_back(docs[i].text);
    const std::vector<int32_t> ids = tok_->encode(build_block_prompt(query.text, texts, req.instruction));
    resp.total_tokens += int64_t(ids.size());

    std::vector<int64_t> readout;
    int64_t query_pos = -1;
    for (size_t p = 0; p < ids.size(); ++p) {
      if (ids[p] == embed_token_id_) readout.push_back(int64_t(p));
      if (ids[p] == rerank_token_id_) {
        LR_CHECK(query_pos < 0, "two query readout tokens in one prompt");
        query_pos = int64_t(p);
      }
    }
    LR_CHECK(readout.size() == e - b && query_pos > (readout.empty() ? -1 : readout.back()),
             "prompt has ", readout.size(), " document readouts for ", e - b, " documents");
    readout.push_back(query_pos);

    const size_t rows = readout.size();
    std::vector<float> h(rows * size_t(hidden)), v(rows * size_t(dim));
    model_->forward(ids, readout, h.data(), trace_, cancel);
    model_->project(h.data(), int64_t(rows), v.data());

    const float* q = v.data() + (rows - 1) * size_t(dim);
    BlockQuery bq;
    bq.query.assign(q, q + dim);
    bq.weight = -1.f;
    for (size_t i = 0; i < rows - 1; ++i) {
      const float* d = v.data() + i * size_t(dim);
      bq.weight = std::max(bq.weight, (1.f + cosine_torch(q, d, size_t(dim))) / 2.f);
      doc_vecs[b + i].assign(d, d + dim);
    }
    block_queries.push_back(std::move(bq));
  }
  resp.blocks = blocks.size();

  const std::vector<float> qbar = merge_block_queries(block_queries);
  std::vector<RerankItem> items(req.documents.size());
  for (size_t j = 0; j < items.size(); ++j) {
    items[j].index = j;
    items[j].relevance_score = cosine_plain(doc_vecs[j].data(), qbar.data(), size_t(dim));
    if (req.return_embeddings) items[j].embedding = doc_vecs[j];
  }
  // Descending by score; ties keep input order (the reference leaves tie order unspecified).
  std::stable_sort(items.begin(), items.end(),
                   [](const RerankItem& a, const RerankItem& b) { return a.relevance_score > b.relevance_score; });
  if (req.top_n && *req.top_n < items.size()) items.resize(*req.top_n);
  resp.results = std::move(items);
  return resp;
}

}  // namespace lastrank
