// `lastrank serve`: flags (CLI11), signal handling (SIGTERM/SIGINT -> graceful drain, a second
// signal exits at once) and the server's lifetime. The server binds first and answers /live at
// once; the model loads and runs a warm-up forward in the background (EngineSlot), and only then
// do /health and /ready answer 200 and --port-file appear (docs/server.md "Health").
#include "server/serve.h"

#include <CLI/CLI.hpp>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <pthread.h>
#include <sys/resource.h>
#include <thread>

#include <nlohmann/json.hpp>

#include "backend/precision.h"
#include "core/error.h"
#include "api/scores.h"
#include "io/hf_cache.h"
#include "io/weight_cache_dir.h"
#include "server/cors.h"
#include "server/engine_slot.h"
#include "server/http_server.h"

namespace lastrank::server {
namespace {

// Each connection is a file descriptor: lift the soft limit (often 1024) to the hard one.
void raise_open_file_limit() {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= rl.rlim_max) return;
  rl.rlim_cur = rl.rlim_max;
  setrlimit(RLIMIT_NOFILE, &rl);
}

}  // namespace

int serve_main(int argc, char** argv) {
  CLI::App app{"lastrank serve: reranking HTTP server (Jina /v1/rerank, Cohere /v2/rerank, TEI /rerank)", "lastrank serve"};
  std::string model_dir, revision, model_name, precision = "bf16", port_file, scores = "cosine";
  int threads = 0;
  bool no_auto_truncate = false, quiet = false, no_weight_cache = false;
  std::string weight_cache;
  RerankOptions ro;
  ServerOptions so;
  // Every option that a container sets has an environment fallback LASTRANK_<NAME> (a flag wins).
  app.add_option("--model,-m", model_dir,
                 "Model directory (config.json, model.safetensors, tokenizer.json) or Hugging Face repo id "
                 "(e.g. jinaai/jina-reranker-v3, read offline from the local HF cache)")
      ->envname("LASTRANK_MODEL")->required();
  app.add_option("--revision", revision, "Revision of a repo id: branch, tag or commit sha (default: main)")
      ->envname("LASTRANK_REVISION");
  app.add_option("--model-name", model_name, "Name reported as \"model\" (default: the repo's or directory's name)")
      ->envname("LASTRANK_MODEL_NAME");
  app.add_option("--host", so.host, "Address to bind")->envname("LASTRANK_HOST")->capture_default_str();
  app.add_option("--port", so.port, "Port (0 = any free port; see --port-file)")->check(CLI::Range(0, 65535))
      ->envname("LASTRANK_PORT")->capture_default_str();
  app.add_option("--port-file", port_file, "Write the bound port to this file once listening");
  app.add_option("--api-key", so.api_key, "Require \"Authorization: Bearer KEY\" on every route but /health")
      ->envname("LASTRANK_API_KEY");
  app.add_option("--precision", precision, "fp32 (exact) | bf16 | int8 (docs/perf.md)")->check(CLI::IsMember(precision_names()))
      ->envname("LASTRANK_PRECISION")->capture_default_str();
  app.add_option("--threads,-t", threads, "Compute threads (0 = all cores)")->check(CLI::Range(0, 1024))
      ->envname("LASTRANK_THREADS");
  app.add_option("--max-body-bytes", so.max_body_bytes, "Larger request bodies get 413")->check(CLI::Range(size_t(1024), size_t(1) << 30))->capture_default_str();
  app.add_option("--max-documents", so.limits.max_documents, "More documents per request get 422")->check(CLI::Range(size_t(1), size_t(1) << 20))->capture_default_str();
  app.add_option("--max-query-tokens", ro.max_query_tokens, "Query truncation limit (reference: 512)")->check(CLI::Range(1, 1 << 20))->capture_default_str();
  app.add_option("--max-doc-tokens", ro.max_doc_tokens, "Document truncation limit (reference: 2048)")->check(CLI::Range(1, 1 << 20))->capture_default_str();
  app.add_option("--max-chunks-per-doc", so.limits.max_chunks_per_doc,
                 "Default max_chunks_per_doc: split longer documents into up to N chunks of --max-doc-tokens, "
                 "score = best chunk (1 = truncate, the reference)")
      ->check(CLI::Range(size_t(1), size_t(1) << 20))->capture_default_str();
  app.add_flag("--no-auto-truncate", no_auto_truncate, "Reject (422) queries/documents over the token limits instead of truncating");
  app.add_option("--max-queue", so.scheduler.max_queue, "Requests waiting for the compute thread; more get 429")->check(CLI::Range(size_t(1), size_t(100000)))
      ->envname("LASTRANK_MAX_QUEUE")->capture_default_str();
  app.add_option("--request-timeout", so.request_timeout_s, "Seconds from arrival to answer; later -> 503")->check(CLI::Range(0.001, 86400.0))->capture_default_str();
  app.add_option("--io-threads", so.io_threads, "Threads running the event loop (accept, read, write)")->check(CLI::Range(1, 64))->capture_default_str();
  app.add_option("--http-threads,--workers", so.http_threads, "Worker threads that parse, tokenize and wait for the compute thread (raised to max-queue + 8 if lower)")->check(CLI::Range(1, 4096))->capture_default_str();
  app.add_option("--max-connections", so.max_connections, "Open connections; more are answered 503 and closed")->check(CLI::Range(size_t(1), size_t(1) << 20))->capture_default_str();
  app.add_option("--max-header-bytes", so.max_header_bytes, "Larger request line + headers get 431")->check(CLI::Range(size_t(1024), size_t(1) << 20))->capture_default_str();
  app.add_option("--read-timeout", so.read_timeout_s, "Seconds to receive a whole request (header + body, one deadline); slower clients are disconnected")->check(CLI::Range(1, 3600))->capture_default_str();
  app.add_option("--write-timeout", so.write_timeout_s, "Seconds to send a response")->check(CLI::Range(1, 3600))->capture_default_str();
  app.add_option("--keep-alive-timeout", so.keep_alive_timeout_s, "Seconds an idle connection waits for its next request")->check(CLI::Range(1, 3600))->capture_default_str();
  app.add_option("--weight-cache", weight_cache,
                 "Directory of the packed-weight cache (default: $LASTRANK_WEIGHT_CACHE, else $XDG_CACHE_HOME/lastrank "
                 "or ~/.cache/lastrank; docs/model-files.md)");
  app.add_flag("--no-weight-cache", no_weight_cache, "Pack the weights at load; read and write no cache");
  app.add_flag("--quiet,-q", quiet, "No per-request log lines")->envname("LASTRANK_QUIET");
  app.add_option("--scores", scores, "Score scale: cosine (the reference's, in [-1, 1]) | unit ((1 + cosine) / 2, in [0, 1])")
      ->check(CLI::IsMember({"cosine", "unit"}))->envname("LASTRANK_SCORES")->capture_default_str();
  app.add_flag("--public-metrics", so.public_metrics, "Serve /metrics without the API key (other routes still need it)")
      ->envname("LASTRANK_PUBLIC_METRICS");
  app.add_option("--cors-allow-origin", so.cors.allowed_origins,
                 "Answer browser (CORS) requests from this origin (https://app.example, or * for any); repeatable")
      ->check([](const std::string& origin) {
        try {
          check_cors_origin(origin);
        } catch (const std::exception& e) {
          return std::string(e.what());
        }
        return std::string();
      });
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  so.limits.auto_truncate = !no_auto_truncate;
  so.scores = api::parse_score_scale(scores);
  so.log_requests = !quiet;
  so.http_threads = std::max(so.http_threads, int(so.scheduler.max_queue) + 8);
  raise_open_file_limit();

  // Signals are taken by one sigwait thread; block them before any other thread exists.
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGTERM);
  sigaddset(&sigs, SIGINT);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);

  try {
    EngineOptions eo;
    eo.precision = parse_precision(precision);
    eo.threads = threads;
    eo.weight_cache_dir = resolve_weight_cache_dir(weight_cache, no_weight_cache);
    eo.weight_cache_log = [](CacheFileKind kind, const std::string& status, const std::string& detail) {
      std::fprintf(stderr, "%s\n",
                   nlohmann::json({{"event", "weight_cache"},
                                   {"file", cache_file_kind_name(kind)},
                                   {"status", status},
                                   {"detail", detail}})
                       .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)
                       .c_str());
    };
    const ModelLocation model = locate_model(model_dir, revision);
    if (model_name.empty()) model_name = model.name;
    EngineInfo info;
    info.model_name = model_name;
    info.precision = precision;

    EngineSlot engine;  // 503 "model is loading" until the loader thread fills it
    HttpServer server(engine, so);
    const int port = server.bind();
    std::fprintf(stderr, "{\"event\":\"listening\",\"host\":\"%s\",\"port\":%d,\"model\":\"%s\",\"auth\":%s}\n",
                 so.host.c_str(), port, model_name.c_str(), so.api_key.empty() ? "false" : "true");

    std::atomic<bool> load_failed{false};
    std::thread loader([&] {
      try {
        const auto start = std::chrono::steady_clock::now();
        auto reranker = Reranker::load(model.dir, eo, ro);
        info.threads = reranker->model().threads();
        auto loaded = make_reranker_engine(std::move(reranker), info);
        warm_up(*loaded);
        engine.set(std::move(loaded));
        if (!port_file.empty()) {  // written once the server answers requests (scripts wait for it)
          const std::string tmp = port_file + ".tmp";
          std::ofstream(tmp) << port << "\n";
          std::filesystem::rename(tmp, port_file);
        }
        std::fprintf(stderr, "{\"event\":\"ready\",\"seconds\":%.3f}\n",
                     std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
      } catch (const std::exception& e) {
        std::fprintf(stderr, "lastrank serve: %s\n", e.what());
        load_failed = true;
        server.shutdown();
      }
    });

    std::atomic<bool> finished{false};
    std::thread signals([&] {
      int sig = 0;
      sigwait(&sigs, &sig);
      if (finished) return;
      std::fprintf(stderr, "{\"event\":\"draining\",\"signal\":%d}\n", sig);
      server.shutdown();
      sigwait(&sigs, &sig);  // a second signal: exit without waiting
      if (finished) return;
      std::fprintf(stderr, "{\"event\":\"forced_exit\",\"signal\":%d}\n", sig);
      std::_Exit(1);
    });
    server.run();
    loader.join();  // a signal during loading: the load (not interruptible) finishes first
    finished = true;
    pthread_kill(signals.native_handle(), SIGTERM);  // wake the sigwait thread
    signals.join();
    if (load_failed) return 1;
    std::fprintf(stderr, "{\"event\":\"stopped\"}\n");
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "lastrank serve: %s\n", e.what());
    return 1;
  }
}

}  // namespace lastrank::server
