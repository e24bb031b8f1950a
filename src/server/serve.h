// Entry point of `lastrank serve`: the reranking HTTP server (docs/server.md). The CLI's main()
// dispatches `lastrank serve ARGS...` here with argv[0] = "serve".
#pragma once

namespace lastrank::server {

// Parses the serve flags (CLI11), loads the model, serves until SIGTERM/SIGINT, drains in-flight
// requests and returns the process exit status (0 after a clean shutdown, 1 on a startup error,
// 2 on bad flags; `--help` returns 0).
int serve_main(int argc, char** argv);

}  // namespace lastrank::server
