#!/usr/bin/env python3
"""Times one rerank request (bench/make_workload.py) the two ways a user runs lastrank:

  --mode serve  a warm `lastrank serve` (model loaded, one untimed warm-up request: the same one, or with
                --warmup small its first document only, for requests that take minutes), then RUNS timed
                POST /v1/rerank on one keep-alive connection; wall time at the client, loopback.
  --mode cli    RUNS one-shot `lastrank rerank --input REQ` processes (load + tokenize + forward + exit),
                after one untimed run that warms the page cache and writes the cache directory's files
                (the same request, or with --warmup small its first document only: the process reads
                the same files either way); wall time of the process.

Prints one JSON line in bench_e2e's schema (engine lastrank, mode serve|cli, tokens = usage.total_tokens,
documents, median_s, tok_per_s, runs[], warmup, peak_rss_mb of the server / CLI process). Stdlib only.
  bench/bench_workload.py --bin build/lastrank --model DIR --request req.json --mode serve --precision bf16
"""
import argparse
import http.client
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time

import lastrank_server


def post(conn, body):
    conn.request("POST", "/v1/rerank", body, {"Content-Type": "application/json"})
    r = conn.getresponse()
    data = r.read()
    if r.status != 200:
        raise SystemExit(f"bench_workload: HTTP {r.status}: {data[:300]!r}")
    return json.loads(data)


def hwm_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        return next(int(l.split()[1]) for l in f if l.startswith("VmHWM:")) / 1024.0


def start_server(a, tmp):
    return lastrank_server.start_server(a.bin, a.model, ["--precision", a.precision, "--threads", str(a.threads),
                                                         "--request-timeout", "3600"], tmp)


def warmup_body(a, body):
    """The untimed warm-up request: the timed one, or (small) its query with the first document only."""
    if a.warmup == "full":
        return body
    req = json.loads(body)
    req["documents"] = req["documents"][:1]
    return json.dumps(req).encode()


def time_serve(a, body):
    with tempfile.TemporaryDirectory(prefix="lastrank-workload-") as tmp:
        srv, port, load_s = start_server(a, tmp)
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=3600)
            post(conn, warmup_body(a, body))
            runs = []
            for i in range(a.runs):
                t = time.perf_counter()
                resp = post(conn, body)
                runs.append(time.perf_counter() - t)
                print(f"serve {a.precision} run {i}: {runs[-1]:.3f} s", file=sys.stderr, flush=True)
            rss = hwm_mb(srv.pid)
        finally:
            srv.send_signal(signal.SIGTERM)
            srv.wait(timeout=60)
    return runs, resp["usage"]["total_tokens"], rss, load_s


def time_cli(a, body):
    runs, rss, tokens = [], 0.0, None
    with tempfile.TemporaryDirectory(prefix="lastrank-workload-") as tmp:
        out = os.path.join(tmp, "resp.json")
        warmup_request = os.path.join(tmp, "warmup.json")
        with open(warmup_request, "wb") as f:
            f.write(warmup_body(a, body))
        for i in range(1 + a.runs):  # the first run warms the page cache, untimed
            cmd = [a.bin, "rerank", "--model", a.model, "--input", warmup_request if i == 0 else a.request,
                   "--output", out, "--precision", a.precision, "--threads", str(a.threads)]
            t = time.perf_counter()
            p = subprocess.Popen(cmd)
            _, status, ru = os.wait4(p.pid, 0)
            dt = time.perf_counter() - t
            if os.waitstatus_to_exitcode(status) != 0:
                raise SystemExit(f"bench_workload: {' '.join(cmd)} failed ({status})")
            if i > 0:
                tokens = json.load(open(out))["usage"]["total_tokens"]
                runs.append(dt)
                rss = max(rss, ru.ru_maxrss / 1024.0)
            print(f"cli {a.precision} run {i} ({'warm-up' if i == 0 else 'timed'}): {dt:.3f} s", file=sys.stderr, flush=True)
    return runs, tokens, rss


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--request", required=True)
    ap.add_argument("--mode", choices=["serve", "cli"], required=True)
    ap.add_argument("--precision", default="bf16")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--warmup", choices=["full", "small"], default="full",
                    help="the untimed warm-up request (serve) or process (cli) runs the timed request (full) or its first document (small)")
    a = ap.parse_args()
    body = open(a.request, "rb").read()
    docs = len(json.loads(body)["documents"])
    if a.mode == "serve":
        runs, tokens, rss, load_s = time_serve(a, body)
    else:
        (runs, tokens, rss), load_s = time_cli(a, body), None
    med = statistics.median(runs)
    print(json.dumps({"engine": "lastrank", "mode": a.mode, "precision": a.precision, "threads": a.threads,
                      "tokens": tokens, "documents": docs, "median_s": med, "tok_per_s": tokens / med, "runs": runs,
                      "warmup": 1 if a.warmup == "full" else "small", "peak_rss_mb": round(rss, 1), "load_s": load_s}), flush=True)


if __name__ == "__main__":
    main()
