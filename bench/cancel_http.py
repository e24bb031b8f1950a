#!/usr/bin/env python3
"""Cancellation through HTTP on the full-size model (bench/results/server.md, docs/server.md).

bench/cancel_latency.sh measures the engine alone (cancel() -> forward stops). This measures the
whole path a user sees: a client sends an ~8K-token /v1/rerank to `lastrank serve`, hangs up after
--cancel-after seconds, and at once sends a one-document request on a new connection. The compute
thread is free when that small request is answered; its own cost (measured on the idle server
first) is subtracted. The lastrank_requests_cancelled_total counter must grow by one per hang-up.
Loopback only, bounded: --runs hang-ups, each request capped by the server's own timeout.

  python3 bench/cancel_http.py --bin build/lastrank --model /var/tmp/lastrank-bench/full
Stdlib only. Prints one JSON line, then a summary line.
"""
import argparse
import http.client
import json
import random
import re
import socket
import statistics
import sys
import tempfile
import time

import lastrank_server

WORDS = ("paris france capital tower river museum city europe history art berlin tokyo japan green tea "
         "health study coffee science data model rank search query document passage").split()


def start_server(args):
    srv, port, _ = lastrank_server.start_server(
        args.bin, args.model, ["--precision", args.precision, "--threads", str(args.threads), "--request-timeout", "600",
                               "--no-weight-cache"], tempfile.mkdtemp(prefix="lastrank-cancel-"))
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:  # /health is 503 until the model is loaded and warmed
        status, _ = call(port, "GET", "/health", None)
        if status == 200:
            return srv, port
        time.sleep(0.2)
    sys.exit("server did not become healthy")


def call(port, method, path, body):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=900)
    c.request(method, path, json.dumps(body) if body is not None else None, {"Content-Type": "application/json"})
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, data


def long_body(rng, docs, words):
    return {"query": "which city has the tower", "return_documents": False,
            "documents": [" ".join(rng.choice(WORDS) for _ in range(words)) for _ in range(docs)]}


def cancelled_total(port):
    _, text = call(port, "GET", "/metrics", None)
    return sum(float(m) for m in re.findall(r"^lastrank_requests_cancelled_total\{[^}]*\} (\S+)$",
                                             text.decode(), re.M))


def hang_up_after(port, body, seconds):
    raw = json.dumps(body).encode()
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"POST /v1/rerank HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
              b"Content-Length: %d\r\n\r\n" % len(raw) + raw)
    time.sleep(seconds)
    s.close()
    return time.monotonic()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--precision", default="bf16")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--docs", type=int, default=8)
    ap.add_argument("--doc-words", type=int, default=1000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--cancel-after", type=float, default=1.0)
    args = ap.parse_args()

    srv, port = start_server(args)
    try:
        small = {"query": "tower", "documents": ["the tower is in paris"]}
        small_s = []
        for _ in range(5):
            t0 = time.monotonic()
            assert call(port, "POST", "/v1/rerank", small)[0] == 200
            small_s.append(time.monotonic() - t0)
        small_median = statistics.median(small_s)
        body = long_body(random.Random(1), args.docs, args.doc_words)
        t0 = time.monotonic()
        status, data = call(port, "POST", "/v1/rerank", body)
        full_s = time.monotonic() - t0
        assert status == 200, data
        tokens = json.loads(data)["usage"]["total_tokens"]

        busy, at = [], []
        for k in range(args.runs):
            before = cancelled_total(port)
            after_s = args.cancel_after + 0.37 * k  # land at different points of a layer
            t_close = hang_up_after(port, body, after_s)
            assert call(port, "POST", "/v1/rerank", small)[0] == 200
            busy.append(time.monotonic() - t_close - small_median)
            at.append(after_s)
            if cancelled_total(port) != before + 1:
                sys.exit("the hang-up was not counted as a cancelled request (did the request finish first?)")
        print(json.dumps({"precision": args.precision, "threads": args.threads, "tokens": tokens,
                          "full_request_s": full_s, "small_request_s": small_median, "hang_up_at_s": at,
                          "busy_after_hang_up_s": busy}))
        print("%s, %d tokens, %d threads: full request %.1f s; after the hang-up the compute thread was busy "
              "median %.3f s, max %.3f s (%d hang-ups at %s s; small request %.3f s subtracted)"
              % (args.precision, tokens, args.threads, full_s, statistics.median(busy), max(busy), len(busy),
                 ", ".join("%.2f" % a for a in at), small_median))
    finally:
        srv.terminate()
        srv.wait(timeout=60)


if __name__ == "__main__":
    main()
