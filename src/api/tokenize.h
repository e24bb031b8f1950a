// POST /tokenize and POST /detokenize in text-embeddings-inference's shapes (docs/server.md),
// parsed and answered here so that their limits and errors are the rerank routes' (TEI error
// bodies, RequestLimits::max_documents as the batch limit). Throws ApiError (src/api/error.h).
//   /tokenize   {"inputs": str | [str], "add_special_tokens"?: bool}
//               -> [[{"id", "text", "special", "start", "stop"}]] (one list per input)
//   /detokenize {"ids": [int] | [[int]], "skip_special_tokens"?: bool (default true)}
//               -> [str] (one string per id list)
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/request.h"
#include "tokenizer/tokenizer.h"

namespace lastrank::api {

struct TokenizeRequest {
  std::vector<std::string> inputs;
  bool add_special_tokens = true;  // accepted; the model's tokenizer adds no special tokens
};

struct DetokenizeRequest {
  std::vector<std::vector<int32_t>> ids;  // each id checked against the vocabulary
  bool skip_special_tokens = true;        // TEI's default: drop special added tokens
};

TokenizeRequest parse_tokenize_request(nlohmann::json&& body, const RequestLimits& limits);
DetokenizeRequest parse_detokenize_request(nlohmann::json&& body, const RequestLimits& limits, int32_t vocab_size);

// Tokens of every input: id, its text (bytes made valid UTF-8), whether it is a special added
// token, and its byte span [start, stop) in the text the tokens decode to (the input itself
// when it is NFC; null for special tokens, as TEI). A tokenizer failure -> ErrorKind::tokenizer.
nlohmann::json tokenize_response(const TokenizeRequest& req, const Tokenizer& tokenizer);
nlohmann::json detokenize_response(const DetokenizeRequest& req, const Tokenizer& tokenizer);

}  // namespace lastrank::api
