// libFuzzer target: the request module's paths that run the real Qwen3 + jina tokenizer
// (real_tokenizer.h), which fuzz_api_request (whitespace tokens) does not reach: chunking
// (src/api/chunking.h) through the server's own path (validate, apply_truncation, the fold and
// the response's chunk spans) and the TEI /tokenize and /detokenize answers (src/api/tokenize.h).
// Byte 0: tokens per chunk (1..16); byte 1: chunks per document (1..8), bit 7 truncation off;
// the rest: up to 4 documents separated by NUL bytes (also the /tokenize inputs, and 4-byte ids
// for /detokenize).
// Checks:
//  chunk_bytes: 1..N chunks that tile the text in order from byte 0, each but the last non-empty,
//    every cut on a code point boundary of valid UTF-8;
//  apply_truncation: ApiError only input_too_long / too_many_documents; a plan whose chunk texts
//    and code point spans are the document's bytes at chunk_bytes' cuts; the rerank response has
//    one result per document and each "chunk" names a chunk of that document inside its text;
//  /tokenize: one list per input, ids in range, start/stop consecutive byte spans of the decoded
//    text (null for special tokens) whose token texts give back the input when it is NFC;
//  /detokenize: one valid UTF-8 string per id list.
// Seeds: tests/fuzz/seeds/fuzz_api_tokenizer/.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "api/chunking.h"
#include "api/request.h"
#include "api/response.h"
#include "api/tokenize.h"
#include "api/truncation.h"
#include "real_tokenizer.h"
#include "tokenizer/normalizer.h"
#include "tokenizer/utf8.h"

namespace {

using namespace lastrank;
using nlohmann::json;

constexpr size_t kMaxDocuments = 4;

void check(bool ok, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "fuzz_api_tokenizer: %s\n", what);
  std::abort();
}

const Tokenizer& tokenizer() { return fuzz::real_tokenizer("fuzz_api_tokenizer"); }

bool valid_utf8(std::string_view s) { return tok::utf8_valid_prefix(s) == s.size(); }
bool continuation(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

size_t code_points(std::string_view s) {
  size_t n = 0;
  for (char c : s) n += !continuation(c);
  return n;
}

std::vector<std::string> documents_of(std::string_view rest) {
  std::vector<std::string> docs;
  while (docs.size() + 1 < kMaxDocuments) {
    const size_t nul = rest.find('\0');
    if (nul == std::string_view::npos) break;
    docs.emplace_back(rest.substr(0, nul));
    rest.remove_prefix(nul + 1);
  }
  docs.emplace_back(rest);
  return docs;
}

std::vector<std::pair<size_t, size_t>> checked_cuts(const std::string& text, const api::TextTokens& tokens,
                                                    size_t max_tokens, size_t max_chunks) {
  const auto cuts = api::chunk_bytes(text, tokens, max_tokens, max_chunks);
  check(!cuts.empty() && cuts.size() <= max_chunks, "chunk count outside 1..max_chunks");
  check(cuts.front().first == 0 && cuts.back().first <= cuts.back().second && cuts.back().second <= text.size(),
        "chunks do not start at 0 or end past the text");
  for (size_t c = 0; c + 1 < cuts.size(); ++c) {
    check(cuts[c].first < cuts[c].second && cuts[c].second == cuts[c + 1].first, "chunks do not tile the text");
    check(!valid_utf8(text) || !continuation(text[cuts[c].second]), "a cut inside a code point");
  }
  return cuts;
}

// The server's path: validate, chunk (apply_truncation), fake scores, the response.
void check_chunked_request(const std::vector<std::string>& docs, const api::TextTokens& tokens, size_t max_tokens,
                           size_t max_chunks, bool truncate) {
  api::RequestLimits limits;
  limits.max_documents = 16;
  limits.auto_truncate = truncate;
  api::RerankArgs args;
  args.query = "what is chunked";
  args.documents = docs;
  args.max_tokens_per_doc = int64_t(max_tokens);
  args.max_chunks_per_doc = int64_t(max_chunks);
  api::ApiRequest req;
  try {
    req = api::validate_rerank_args(args, limits);  // rejects invalid UTF-8 and empty lists
  } catch (const api::ApiError&) {
    return;
  }
  try {
    api::apply_truncation(req, tokens, {512, 2048}, limits);
  } catch (const api::ApiError& e) {
    check(e.kind() == api::ErrorKind::input_too_long || e.kind() == api::ErrorKind::too_many_documents,
          "chunking failed with an unexpected error kind");
    return;
  }
  const api::ChunkPlan& plan = req.chunks;
  const size_t engine_docs = req.request.documents.size();
  if (plan.active()) {
    check(plan.chunks.size() == engine_docs && plan.chunk_counts.size() == docs.size(), "plan sizes");
    size_t c = 0;
    for (size_t d = 0; d < docs.size(); ++d) {
      const auto cuts = api::chunk_bytes(docs[d], tokens, max_tokens, max_chunks);
      check(plan.chunk_counts[d] == cuts.size(), "plan's chunk count differs from chunk_bytes");
      for (size_t k = 0; k < cuts.size(); ++k, ++c) {
        const api::Chunk& ch = plan.chunks[c];
        check(ch.document == d && ch.index == k, "plan's chunks out of order");
        const auto [b, e] = cuts[k];
        check(ch.start == code_points(std::string_view(docs[d]).substr(0, b)) &&
                  ch.end == code_points(std::string_view(docs[d]).substr(0, e)),
              "a chunk's code point span does not match its bytes");
      }
    }
  } else {
    check(engine_docs == docs.size(), "documents changed without a chunk plan");
  }
  RerankResponse resp;
  for (size_t i = 0; i < engine_docs; ++i)
    resp.results.push_back({i, float(req.request.documents[i].size() % 7) / 7.f, {}});
  const json out = api::make_rerank_response(req, resp, "fuzz", "id");
  check(out["results"].size() == docs.size(), "one result per document");
  for (const json& r : out["results"]) {
    const size_t d = r["index"].get<size_t>();
    check(d < docs.size(), "result index out of range");
    if (!r.contains("chunk")) continue;
    const json& ch = r["chunk"];
    check(plan.active() && ch["index"].get<size_t>() < plan.chunk_counts[d], "chunk index outside the document");
    check(ch["start"].get<size_t>() < ch["end"].get<size_t>() && ch["end"].get<size_t>() <= code_points(docs[d]),
          "chunk span outside the document");
  }
}

void check_tokenize(const std::vector<std::string>& docs, const Tokenizer& tok) {
  api::TokenizeRequest req;
  req.inputs = docs;
  const json out = api::tokenize_response(req, tok);
  check(out.size() == docs.size(), "one token list per input");
  for (size_t i = 0; i < docs.size(); ++i) {
    std::string joined;
    for (const json& t : out[i]) {
      const int32_t id = t["id"].get<int32_t>();
      check(id >= 0 && id < tok.vocab_size(), "token id out of range");
      const std::string bytes = tok.token_bytes(id);
      if (t["special"].get<bool>()) {
        check(t["start"].is_null() && t["stop"].is_null(), "a special token with offsets");
      } else {
        check(t["start"].get<size_t>() == joined.size() && t["stop"].get<size_t>() == joined.size() + bytes.size(),
              "token offsets are not consecutive byte spans");
      }
      joined += bytes;
    }
    std::string buf;
    if (valid_utf8(docs[i]) && tok::nfc(docs[i], buf) == docs[i])
      check(joined == docs[i], "token texts do not give back an NFC input");
  }
}

void check_detokenize(std::string_view bytes, bool skip_special, const Tokenizer& tok) {
  api::DetokenizeRequest req;
  req.skip_special_tokens = skip_special;
  req.ids.emplace_back();
  for (size_t i = 0; i + 4 <= bytes.size() && req.ids.back().size() < 256; i += 4) {
    uint32_t v;
    __builtin_memcpy(&v, bytes.data() + i, 4);
    req.ids.back().push_back(int32_t(v % uint32_t(tok.vocab_size())));
  }
  const json out = api::detokenize_response(req, tok);
  check(out.size() == 1 && out[0].is_string(), "one string per id list");
  check(valid_utf8(out[0].get<std::string>()), "detokenize returned invalid UTF-8");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const Tokenizer& tok = tokenizer();
  const api::TokenizerTextTokens tokens(tok);
  const size_t max_tokens = 1 + data[0] % 16;
  const size_t max_chunks = 1 + (data[1] & 0x7F) % 8;
  const bool truncate = !(data[1] & 0x80);
  const std::string_view rest(reinterpret_cast<const char*>(data) + 2, size - 2);
  const std::vector<std::string> docs = documents_of(rest);
  for (const std::string& d : docs) checked_cuts(d, tokens, max_tokens, max_chunks);
  check_chunked_request(docs, tokens, max_tokens, max_chunks, truncate);
  check_tokenize(docs, tok);
  check_detokenize(rest, data[0] & 0x80, tok);
  return 0;
}
