// `lastrank rerank` (rerank_command.h): parses with api::parse_request_text, runs with
// api::run_request (truncation policy + pipeline) and renders with api::make_rerank_response,
// as the server's /v1/rerank does.
#include "cli/rerank_command.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "api/response.h"
#include "api/run.h"
#include "cli/layer_dumper.h"
#include "core/error.h"

namespace lastrank {
namespace {

using nlohmann::json;

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

// The loaded model and the name responses report when the request names none.
struct LoadedModel {
  std::unique_ptr<Reranker> reranker;
  std::string name;
};

LoadedModel load_model(const RerankCommand& cmd) {
  LoadedModel m;
  m.reranker = Reranker::load(cmd.model_dir, cmd.engine, cmd.rerank);
  m.name = std::filesystem::path(cmd.model_dir).lexically_normal().filename().string();
  if (m.name.empty()) m.name = "jina-reranker-v3";
  return m;
}

// Truncation policy, engine, response body: the server's handler without HTTP.
json answer(LoadedModel& m, api::ApiRequest& req, const RerankCommand& cmd) {
  const RerankResponse resp = api::run_request(*m.reranker, req, cmd.limits);
  return api::make_rerank_response(req, resp, m.name, /*request_id=*/"");
}

std::string read_all(std::istream& in) {
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::ifstream open_input(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) fail("cannot open --input file ", path);
  return f;
}

bool is_stdio(const std::string& path) { return path.empty() || path == "-"; }

// Writes to --output (or stdout); a failed write is an error, not a silent short file.
class Output {
 public:
  explicit Output(const std::string& path) {
    if (is_stdio(path)) return;
    file_.open(path, std::ios::binary | std::ios::trunc);
    if (!file_) fail("cannot create --output file ", path);
  }
  void line(const std::string& text) {
    std::ostream& os = file_.is_open() ? static_cast<std::ostream&>(file_) : std::cout;
    os << text << '\n';
    os.flush();
    if (!os) fail("cannot write the output");
  }

 private:
  std::ofstream file_;
};

int run_one(const RerankCommand& cmd) {
  std::string text;
  if (is_stdio(cmd.input)) {
    text = read_all(std::cin);
  } else {
    std::ifstream f = open_input(cmd.input);
    text = read_all(f);
  }
  api::ApiRequest req = api::parse_request_text(api::Dialect::jina_v1, text, cmd.limits);  // before the slow load
  Output out(cmd.output);
  LoadedModel m = load_model(cmd);
  json response;
  if (!cmd.dump_dir.empty()) {
    LayerDumper dumper(cmd.dump_dir);
    TraceFn trace = [&](const std::string& n, int l, const float* d, int64_t r, int64_t c) { dumper(n, l, d, r, c); };
    m.reranker->set_trace(&trace);
    response = answer(m, req, cmd);
    m.reranker->set_trace(nullptr);
    dumper.finish();
  } else {
    response = answer(m, req, cmd);
  }
  out.line(dump(response));
  return 0;
}

}  // namespace

int run_rerank(const RerankCommand& cmd) { return run_one(cmd); }

}  // namespace lastrank
