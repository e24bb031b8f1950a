"""Starting a `lastrank serve` for the bench scripts (bench_workload.py, cancel_http.py, server_load.py):
on 127.0.0.1, an ephemeral port read from --port-file, stderr in a log file. Stdlib only.

    from lastrank_server import start_server
    srv, port, seconds = start_server("build/lastrank", model_dir, ["--precision", "bf16"], log_dir)
"""
import os
import subprocess
import time


def start_server(binary, model, extra_args, log_dir, timeout_s=600):
    """Starts the server and waits until it listens; returns (process, port, seconds to listen).

    The server answers /health with 503 until its model is loaded; callers that need it loaded
    poll /health themselves. Exits the script with the log's tail if the server dies first.
    """
    port_file = os.path.join(log_dir, "port")
    log_path = os.path.join(log_dir, "server.log")
    cmd = [binary, "serve", "--model", model, "--host", "127.0.0.1", "--port", "0", "--port-file", port_file,
           "--quiet"] + list(extra_args)
    t0 = time.perf_counter()
    srv = subprocess.Popen(cmd, stderr=open(log_path, "w"))
    while not os.path.exists(port_file) or not open(port_file).read().strip():
        if srv.poll() is not None:
            raise SystemExit(f"lastrank serve exited {srv.returncode}: {open(log_path).read()[-500:]}")
        if time.perf_counter() - t0 > timeout_s:
            srv.kill()
            raise SystemExit(f"lastrank serve did not listen within {timeout_s} s")
        time.sleep(0.02)
    return srv, int(open(port_file).read()), time.perf_counter() - t0
