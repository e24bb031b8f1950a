// `lastrank rerank`: one Jina /v1/rerank request (stdin or --input) -> one response. Requests
// go through src/api (the server's validation, truncation and response code).
#pragma once
#include <string>

#include "api/request.h"
#include "model/qwen3.h"
#include "rerank/reranker.h"

namespace lastrank {

struct RerankCommand {
  std::string model_dir;
  std::string input;     // "" or "-" = stdin
  std::string output;    // "" or "-" = stdout
  std::string dump_dir;  // --dump-layers (one-shot only)
  EngineOptions engine;
  RerankOptions rerank;
  api::RequestLimits limits;
};

// Exit code 0; errors are thrown as exceptions for main to print.
int run_rerank(const RerankCommand& cmd);

}  // namespace lastrank
