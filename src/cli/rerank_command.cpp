// `lastrank rerank` one-shot and --jsonl batch mode (rerank_command.h). Both parse with
// api::parse_request_text, run with api::run_request (truncation policy + pipeline) and render
// with api::make_rerank_response, as the server's /v1/rerank does.
#include "cli/rerank_command.h"

#include <sys/stat.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>

#include "api/response.h"
#include "api/run.h"
#include "cli/batch_progress.h"
#include "cli/layer_dumper.h"
#include "core/error.h"
#include "core/phase_clock.h"

namespace lastrank {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

// The loaded model and the name responses report when the request names none.
struct LoadedModel {
  std::unique_ptr<Reranker> reranker;
  std::string name;
};

// The start-up cache's report (packed weights, prefix K/V): a problem (ignored, disabled) is one
// stderr line at once; every status goes into the --verbose model_loaded event.
EngineOptions with_cache_log(const RerankCommand& cmd, const std::shared_ptr<json>& status) {
  EngineOptions e = cmd.engine;
  e.weight_cache_log = [status](CacheFileKind kind, const std::string& what, const std::string& detail) {
    if (what == "ignored" || what == "disabled")
      std::fprintf(stderr, "lastrank: weight cache %s: %s%s\n", what.c_str(), detail.c_str(),
                   what == "disabled" ? " (--no-weight-cache or LASTRANK_WEIGHT_CACHE=off turn it off)" : "");
    status->push_back({{"file", cache_file_kind_name(kind)}, {"status", what}, {"detail", detail}});
  };
  return e;
}

LoadedModel load_model(const RerankCommand& cmd) {
  const auto start = Clock::now();
  LoadedModel m;
  auto cache_status = std::make_shared<json>(json::array());
  m.reranker = Reranker::load(cmd.model.dir, with_cache_log(cmd, cache_status), cmd.rerank);
  m.name = cmd.model.name.empty() ? "jina-reranker-v3" : cmd.model.name;
  if (cmd.verbose) {  // one line per load (tests/cli/batch.sh counts them)
    json phases = json::array();
    for (const PhaseTime& p : m.reranker->load_phases())
      phases.push_back({{"phase", p.name}, {"seconds", p.wall_s}, {"cpu_seconds", p.cpu_s}});
    std::fprintf(stderr, "%s\n",
                 dump({{"event", "model_loaded"},
                       {"model", cmd.model.dir},
                       {"seconds", std::chrono::duration<double>(Clock::now() - start).count()},
                       {"phases", phases},
                       {"weight_cache", cmd.engine.weight_cache_dir.empty() ? json("off") : *cache_status}})
                     .c_str());
  }
  return m;
}

// Truncation policy, engine, response body: the server's handler without HTTP.
json answer(LoadedModel& m, api::ApiRequest& req, const RerankCommand& cmd, int64_t* tokens = nullptr) {
  RerankResponse resp = api::run_request(*m.reranker, req, cmd.limits);
  api::apply_score_scale(resp, cmd.scores);
  if (tokens) *tokens += resp.total_tokens;
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

bool is_blank(const std::string& line) { return line.find_first_not_of(" \t\r") == std::string::npos; }

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
    PhaseClock clock;
    int64_t tokens = 0;
    response = answer(m, req, cmd, &tokens);
    clock.lap("rerank");
    if (cmd.verbose)
      std::fprintf(stderr, "%s\n",
                   dump({{"event", "request_done"},
                         {"tokens", tokens},
                         {"seconds", clock.phases()[0].wall_s},
                         {"cpu_seconds", clock.phases()[0].cpu_s}})
                       .c_str());
  }
  out.line(dump(response));
  return 0;
}

// The number of non-blank lines of a regular file (the progress line's total), else nullopt.
std::optional<size_t> count_requests(const std::string& path) {
  struct stat st {};
  if (is_stdio(path) || stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return std::nullopt;
  std::ifstream f = open_input(path);
  size_t n = 0;
  for (std::string line; std::getline(f, line);) n += !is_blank(line);
  return n;
}

// {"error": {"line", "message", "type", "code"}}: the one-shot CLI's message, the server's type/status.
json error_line(size_t lineno, const std::exception& e) {
  const api::ErrorKind kind = api::error_kind_of(e);
  return {{"error",
           {{"line", lineno}, {"message", e.what()}, {"type", api::error_type(kind)}, {"code", api::http_status(kind)}}}};
}

int run_batch(const RerankCommand& cmd) {
  if (!cmd.dump_dir.empty()) fail("--dump-layers works on one request, not with --jsonl");
  std::ifstream file;
  if (!is_stdio(cmd.input)) file = open_input(cmd.input);
  std::istream& in = file.is_open() ? static_cast<std::istream&>(file) : std::cin;
  Output out(cmd.output);
  BatchProgress progress(isatty(2) == 1 ? count_requests(cmd.input) : std::nullopt);
  LoadedModel m = load_model(cmd);
  const auto start = Clock::now();
  size_t lineno = 0, done = 0, failed = 0;
  int64_t tokens = 0;
  for (std::string line; std::getline(in, line);) {
    ++lineno;
    if (is_blank(line)) continue;  // no request, no output line (README.md)
    try {
      api::ApiRequest req = api::parse_request_text(api::Dialect::jina_v1, line, cmd.limits);
      out.line(dump(answer(m, req, cmd, &tokens)));
    } catch (const std::exception& e) {
      ++failed;
      out.line(dump(error_line(lineno, e)));
    }
    progress.update(++done, tokens);
  }
  if (in.bad()) fail("cannot read the input");
  progress.update(done, tokens, /*final=*/true);
  if (cmd.verbose)
    std::fprintf(stderr, "%s\n",
                 dump({{"event", "batch_done"},
                       {"requests", done},
                       {"failed", failed},
                       {"tokens", tokens},
                       {"seconds", std::chrono::duration<double>(Clock::now() - start).count()}})
                     .c_str());
  return failed ? 1 : 0;
}

}  // namespace

int run_rerank(const RerankCommand& cmd) { return cmd.jsonl ? run_batch(cmd) : run_one(cmd); }

}  // namespace lastrank
