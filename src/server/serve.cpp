// `lastrank serve`: flags (CLI11), model loading, signal handling (SIGTERM/SIGINT -> graceful
// drain, a second signal exits at once) and the server's lifetime.
#include "server/serve.h"

#include <CLI/CLI.hpp>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <pthread.h>
#include <thread>

#include "backend/precision.h"
#include "core/error.h"
#include "io/hf_cache.h"
#include "server/http_server.h"

namespace lastrank::server {

int serve_main(int argc, char** argv) {
  CLI::App app{"lastrank serve: reranking HTTP server (Jina /v1/rerank, Cohere /v2/rerank, TEI /rerank)", "lastrank serve"};
  std::string model_dir, revision, model_name, precision = "bf16", port_file;
  int threads = 0;
  bool no_auto_truncate = false, quiet = false;
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
  app.add_flag("--no-auto-truncate", no_auto_truncate, "Reject (422) queries/documents over the token limits instead of truncating");
  app.add_option("--max-queue", so.scheduler.max_queue, "Requests waiting for the compute thread; more get 429")->check(CLI::Range(size_t(1), size_t(100000)))
      ->envname("LASTRANK_MAX_QUEUE")->capture_default_str();
  app.add_option("--request-timeout", so.request_timeout_s, "Seconds from arrival to answer; later -> 503")->check(CLI::Range(0.001, 86400.0))->capture_default_str();
  app.add_option("--http-threads", so.http_threads, "Connections served at once (raised to max-queue + 8 if lower)")->check(CLI::Range(1, 4096))->capture_default_str();
  app.add_option("--read-timeout", so.read_timeout_s, "Seconds a socket read may stall (slow clients)")->check(CLI::Range(1, 3600))->capture_default_str();
  app.add_flag("--quiet,-q", quiet, "No per-request log lines")->envname("LASTRANK_QUIET");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  so.limits.auto_truncate = !no_auto_truncate;
  so.log_requests = !quiet;
  so.http_threads = std::max(so.http_threads, int(so.scheduler.max_queue) + 8);

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
    const ModelLocation model = locate_model(model_dir, revision);
    if (model_name.empty()) model_name = model.name;
    EngineInfo info;
    info.model_name = model_name;
    info.precision = precision;
    auto reranker = Reranker::load(model.dir, eo, ro);
    info.threads = reranker->model().threads();
    auto engine = make_reranker_engine(std::move(reranker), info);

    HttpServer server(*engine, so);
    const int port = server.bind();
    if (!port_file.empty()) {
      const std::string tmp = port_file + ".tmp";
      std::ofstream(tmp) << port << "\n";
      std::filesystem::rename(tmp, port_file);
    }
    std::fprintf(stderr, "{\"event\":\"listening\",\"host\":\"%s\",\"port\":%d,\"model\":\"%s\",\"auth\":%s}\n",
                 so.host.c_str(), port, model_name.c_str(), so.api_key.empty() ? "false" : "true");

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
    finished = true;
    pthread_kill(signals.native_handle(), SIGTERM);  // wake the sigwait thread
    signals.join();
    std::fprintf(stderr, "{\"event\":\"stopped\"}\n");
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "lastrank serve: %s\n", e.what());
    return 1;
  }
}

}  // namespace lastrank::server
