// `lastrank rerank`: one Jina /v1/rerank request (stdin or --input) -> one response, or with
// --jsonl one request per line -> one response (or error object) per line, the model loaded
// once. Requests go through src/api (the server's validation, truncation and response code).
#pragma once
#include <string>

#include "api/request.h"
#include "api/scores.h"
#include "io/hf_cache.h"
#include "model/qwen3.h"
#include "rerank/reranker.h"

namespace lastrank {

struct RerankCommand {
  ModelLocation model;   // --model (directory or HF repo id) resolved by locate_model
  std::string input;     // "" or "-" = stdin
  std::string output;    // "" or "-" = stdout
  std::string dump_dir;  // --dump-layers (one-shot only)
  EngineOptions engine;
  RerankOptions rerank;
  api::RequestLimits limits;
  api::ScoreScale scores = api::ScoreScale::cosine;  // --scores
  bool jsonl = false;
  bool verbose = false;  // JSON event lines on stderr: model_loaded (with load phases), request_done, batch totals
};

// Exit code: 0, or 1 when the request (one-shot) or any line (--jsonl) failed. One-shot errors
// and fatal batch errors (model, files) are thrown as exceptions for main to print.
int run_rerank(const RerankCommand& cmd);

}  // namespace lastrank
