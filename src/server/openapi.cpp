// GET /openapi.json: an OpenAPI 3.0 description of the server's routes and schemas (kept in
// step with src/api/request.cpp / response.cpp; tests/server check it lists every route).
#include <nlohmann/json.hpp>

#include "server/router.h"

namespace lastrank::server {
namespace {

using nlohmann::json;

json ref(const char* name) { return {{"$ref", std::string("#/components/schemas/") + name}}; }

json json_body(const json& schema) { return {{"content", {{"application/json", {{"schema", schema}}}}}}; }

json error_responses() {
  json r;
  for (const char* code : {"400", "401", "413", "422", "429", "503"})
    r[code] = {{"description", "error (see docs/server.md)"}, {"content", {{"application/json", {{"schema", ref("Error")}}}}}};
  return r;
}

json post(const char* summary, const char* req, const json& ok_schema, const char* ok = "ranked results") {
  json responses = error_responses();
  responses["200"] = {{"description", ok}, {"content", {{"application/json", {{"schema", ok_schema}}}}}};
  return {{"post", {{"summary", summary}, {"requestBody", json_body(ref(req))}, {"responses", responses}}}};
}

json get(const char* summary, const char* type) {
  return {{"get", {{"summary", summary}, {"responses", {{"200", {{"description", "ok"}, {"content", {{type, json::object()}}}}}}}}}};
}

}  // namespace

json openapi_document(const std::string& version) {
  const json str = {{"type", "string"}};
  const json pos_int = {{"type", "integer"}, {"minimum", 1}};
  const json top_n = {{"type", "integer"}, {"minimum", 0}, {"description", "0 = all documents"}};
  const json boolean = {{"type", "boolean"}};
  // The best chunk of a chunked document (docs/server.md "Chunking"): code point span [start, end).
  const json integer = {{"type", "integer"}};
  const json chunk = {{"type", "object"},
                      {"description", "only when the document was chunked (max_chunks_per_doc)"},
                      {"properties", {{"index", integer}, {"start", integer}, {"end", integer}}}};
  const json document = {{"oneOf", {str, {{"type", "object"}, {"required", {"text"}},
                                          {"properties", {{"text", str}}}, {"additionalProperties", true}}}}};
  json schemas;
  schemas["RerankRequest"] = {
      {"type", "object"},
      {"required", {"query", "documents"}},
      {"properties",
       {{"model", str},
        {"query", str},
        {"documents", {{"type", "array"}, {"minItems", 1}, {"items", document}}},
        {"top_n", top_n},
        {"return_documents", boolean},
        {"return_embeddings", boolean},
        {"rank_fields", {{"type", "array"}, {"items", str}}},
        {"max_chunks_per_doc", pos_int},
        {"max_tokens_per_doc", pos_int},
        {"max_tokens_per_query", pos_int},
        {"priority", {{"type", "integer"}}},
        {"instruction", str},
        {"chat_template_kwargs",
         {{"type", "object"}, {"description", "vLLM: \"instruction\" is the instruction (not with \"instruction\" too)"},
          {"properties", {{"instruction", str}}}}}}}};
  schemas["TeiRerankRequest"] = {
      {"type", "object"},
      {"required", {"query", "texts"}},
      {"properties",
       {{"query", str},
        {"texts", {{"type", "array"}, {"minItems", 1}, {"items", str}}},
        {"truncate", boolean},
        {"truncation_direction", {{"type", "string"}, {"enum", {"right", "left"}}}},
        {"raw_scores", boolean},
        {"return_text", boolean}}}};
  schemas["RerankResponse"] = {
      {"type", "object"},
      {"properties",
       {{"id", str},
        {"model", str},
        {"usage", {{"type", "object"}, {"properties", {{"prompt_tokens", {{"type", "integer"}}}, {"total_tokens", {{"type", "integer"}}}}}}},
        {"results",
         {{"type", "array"},
          {"items",
           {{"type", "object"},
            {"properties", {{"index", {{"type", "integer"}}}, {"relevance_score", {{"type", "number"}}},
                            {"document", {{"type", "object"}}}, {"chunk", chunk}}}}}}},
        {"meta", {{"type", "object"}}}}}};
  schemas["TeiRank"] = {{"type", "array"},
                        {"items", {{"type", "object"}, {"properties", {{"index", {{"type", "integer"}}}, {"score", {{"type", "number"}}}, {"text", str}, {"chunk", chunk}}}}}};
  const json ids = {{"type", "array"}, {"items", {{"type", "integer"}, {"minimum", 0}}}};
  schemas["TokenizeRequest"] = {
      {"type", "object"},
      {"required", {"inputs"}},
      {"properties",
       {{"inputs", {{"oneOf", {str, {{"type", "array"}, {"minItems", 1}, {"items", str}}}}}},
        {"add_special_tokens", boolean}}}};
  schemas["Tokens"] = {
      {"type", "array"},
      {"items",
       {{"type", "array"},
        {"items",
         {{"type", "object"},
          {"properties", {{"id", {{"type", "integer"}}}, {"text", str}, {"special", boolean},
                          {"start", {{"type", "integer"}, {"nullable", true}}},
                          {"stop", {{"type", "integer"}, {"nullable", true}}}}}}}}}};
  schemas["DetokenizeRequest"] = {
      {"type", "object"},
      {"required", {"ids"}},
      {"properties", {{"ids", {{"oneOf", {ids, {{"type", "array"}, {"minItems", 1}, {"items", ids}}}}}},
                      {"skip_special_tokens", boolean}}}};
  schemas["Texts"] = {{"type", "array"}, {"items", str}};
  schemas["ModelList"] = {
      {"type", "object"},
      {"properties",
       {{"object", str},
        {"data", {{"type", "array"},
                  {"items", {{"type", "object"}, {"properties", {{"id", str}, {"object", str},
                                                                 {"created", {{"type", "integer"}}}, {"owned_by", str}}}}}}}}}};
  schemas["Error"] = {{"type", "object"},
                      {"properties", {{"message", str}, {"detail", str}, {"error", {}}, {"error_type", str}, {"request_id", str}}}};
  json paths;
  paths["/v1/rerank"] = post("Jina /v1/rerank (also Cohere v1 fields)", "RerankRequest", ref("RerankResponse"));
  paths["/v2/rerank"] = post("Cohere v2 rerank", "RerankRequest", ref("RerankResponse"));
  paths["/rerank"] = post("TEI rerank when the body has \"texts\" (bare array), Jina otherwise", "TeiRerankRequest",
                          {{"oneOf", {ref("TeiRank"), ref("RerankResponse")}}});
  for (const char* llama : {"/reranking", "/v1/reranking"})
    paths[llama] = post("llama.cpp's path: as /rerank", "TeiRerankRequest", {{"oneOf", {ref("TeiRank"), ref("RerankResponse")}}});
  paths["/tokenize"] = post("TEI tokenize", "TokenizeRequest", ref("Tokens"), "tokens per input");
  paths["/detokenize"] = post("TEI decode", "DetokenizeRequest", ref("Texts"), "one text per id list");
  paths["/decode"] = paths["/detokenize"];
  paths["/v1/models"] = get("OpenAI model list: the served model", "application/json");
  paths["/health"] = get("readiness (no auth): 200 once the model is loaded and warmed up, 503 before", "application/json");
  paths["/ready"] = paths["/health"];
  paths["/live"] = get("liveness (no auth): 200 while the process serves", "application/json");
  paths["/info"] = get("model, dims, limits, version", "application/json");
  paths["/metrics"] = get("Prometheus metrics", "text/plain");
  paths["/openapi.json"] = get("this document", "application/json");
  return {{"openapi", "3.0.3"},
          {"info", {{"title", "lastrank reranking server"}, {"version", version}}},
          {"paths", paths},
          {"components", {{"schemas", schemas}, {"securitySchemes", {{"bearer", {{"type", "http"}, {"scheme", "bearer"}}}}}}},
          {"security", {{{"bearer", json::array()}}}}};
}

}  // namespace lastrank::server
