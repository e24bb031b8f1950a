#!/usr/bin/env python3
"""Bounded load run against `lastrank serve` on loopback (bench/results/server.md).

Starts the server (--quiet, --max-queue Q), warms it up, then runs C client threads (C > Q, so
the queue overflows and 429s are expected) for --duration seconds, rotating over /v1/rerank,
/v2/rerank and TEI /rerank with seeded random documents. Reports status counts, p50/p99 latency
of 200s, throughput, RSS of the server before/after (and max), and the exit status after SIGTERM.
--slow-clients N adds N slow connections for the whole run (each sends a partial header, then one
header line every 2 s, and reconnects when the server closes it) and a /health probe every second
(its worst latency is reported). Stdlib only. Example:
  python3 bench/server_load.py --bin build/lastrank --model build/test-models/tiny-gqa2 --duration 120
"""
import argparse
import http.client
import json
import os
import random
import resource
import socket
import signal
import statistics
import sys
import tempfile
import threading
import time

import lastrank_server

WORDS = ("paris france capital tower river museum city europe history art berlin tokyo japan "
         "green tea health study coffee science data model rank search query document passage").split()


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


def make_body(rng, route, docs, words):
    query = " ".join(rng.choice(WORDS) for _ in range(6))
    texts = [" ".join(rng.choice(WORDS) for _ in range(words)) for _ in range(docs)]
    if route == "/rerank":
        return {"query": query, "texts": texts, "return_text": False}
    body = {"query": query, "documents": texts, "top_n": 5}
    if route == "/v2/rerank":
        body["model"] = "jina-reranker-v3"
    return body


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--duration", type=float, default=120)
    ap.add_argument("--concurrency", type=int, default=24)
    ap.add_argument("--max-queue", type=int, default=8)
    ap.add_argument("--docs", type=int, default=8)
    ap.add_argument("--doc-words", type=int, default=30)
    ap.add_argument("--threads", type=int, default=0, help="server compute threads (0 = all)")
    ap.add_argument("--request-timeout", type=float, default=60)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--slow-clients", type=int, default=0, help="slow-header connections during the run")
    ap.add_argument("--server-args", default="", help="extra `lastrank serve` arguments (space-separated)")
    args = ap.parse_args()

    srv, port, _ = lastrank_server.start_server(
        args.bin, args.model, ["--max-queue", str(args.max_queue), "--threads", str(args.threads),
                               "--request-timeout", str(args.request_timeout)] + args.server_args.split(),
        tempfile.mkdtemp(prefix="lastrank-load-"))

    routes = ["/v1/rerank", "/v2/rerank", "/rerank"]
    warm = random.Random(0)
    for i in range(6):
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
        c.request("POST", routes[i % 3], json.dumps(make_body(warm, routes[i % 3], args.docs, args.doc_words)),
                  {"Content-Type": "application/json"})
        r = c.getresponse()
        r.read()
        assert r.status == 200, r.status
    rss_before = rss_kb(srv.pid)

    lock = threading.Lock()
    statuses, latencies, errors = {}, [], []
    rss_max = [rss_before]
    rss_timeline = []  # (seconds into the run, kB) every 10 s
    stop_at = time.monotonic() + args.duration

    def worker(k):
        rng = random.Random(args.seed * 1000 + k)
        conn = None
        n = 0
        while time.monotonic() < stop_at:
            route = routes[(k + n) % 3]
            n += 1
            body = json.dumps(make_body(rng, route, args.docs, args.doc_words))
            t0 = time.monotonic()
            try:
                if conn is None:
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
                conn.request("POST", route, body, {"Content-Type": "application/json"})
                r = conn.getresponse()
                r.read()
                status = r.status
                if r.getheader("Connection", "").lower() == "close":
                    conn.close()
                    conn = None
            except Exception as e:  # connection-level failure
                status = -1
                with lock:
                    errors.append(repr(e))
                if conn is not None:
                    conn.close()
                conn = None
            dt = time.monotonic() - t0
            with lock:
                statuses[status] = statuses.get(status, 0) + 1
                if status == 200:
                    latencies.append(dt)
            if status == 429:
                time.sleep(0.05)  # keep the pressure on without a busy loop

    slow_stats = {"reconnects": 0, "health_max_ms": 0.0, "health_failures": 0}

    def slow_open():
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        s.sendall(b"POST /v1/rerank HTTP/1.1\r\nHost: slow\r\n")
        return s

    def slow_clients():
        socks = [slow_open() for _ in range(args.slow_clients)]
        line = 0
        while time.monotonic() < stop_at:
            time.sleep(2)
            line += 1
            for i, s in enumerate(socks):
                try:
                    s.sendall(b"X-Slow-%d: 1\r\n" % line)
                except OSError:  # closed by the server's request deadline: come back
                    s.close()
                    slow_stats["reconnects"] += 1
                    try:
                        socks[i] = slow_open()
                    except OSError:
                        pass
        for s in socks:
            s.close()

    def health_probe():
        while time.monotonic() < stop_at:
            t0 = time.monotonic()
            try:
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                c.request("GET", "/health")
                ok = c.getresponse().status == 200
                c.close()
            except Exception:
                ok = False
            if not ok:
                slow_stats["health_failures"] += 1
            slow_stats["health_max_ms"] = max(slow_stats["health_max_ms"], (time.monotonic() - t0) * 1000)
            time.sleep(1)

    def sampler():
        t0 = time.monotonic()
        while time.monotonic() < stop_at:
            time.sleep(1)
            if srv.poll() is None:
                kb = rss_kb(srv.pid)
                rss_max[0] = max(rss_max[0], kb)
                if int(time.monotonic() - t0) % 10 == 0:
                    rss_timeline.append((int(time.monotonic() - t0), kb))

    t_start = time.monotonic()
    threads = [threading.Thread(target=worker, args=(k,)) for k in range(args.concurrency)]
    threads.append(threading.Thread(target=sampler))
    if args.slow_clients:
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 2 * args.slow_clients + 256)), hard))
        threads += [threading.Thread(target=slow_clients), threading.Thread(target=health_probe)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - t_start
    alive = srv.poll() is None
    rss_after = rss_kb(srv.pid) if alive else -1
    metrics = ""
    if alive:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        c.request("GET", "/metrics")
        metrics = c.getresponse().read().decode()
        srv.send_signal(signal.SIGTERM)
    rc = srv.wait(timeout=120)
    lat = sorted(latencies)
    q = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))] * 1000 if lat else float("nan")
    ok = statuses.get(200, 0)
    five = {s: v for s, v in statuses.items() if s >= 500}
    out = {
        "duration_s": round(elapsed, 1), "concurrency": args.concurrency, "max_queue": args.max_queue,
        "docs_per_request": args.docs, "words_per_doc": args.doc_words, "model": args.model,
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "5xx_other_than_503": sum(v for s, v in five.items() if s != 503),
        "connection_errors": len(errors), "first_errors": errors[:3],
        "ok_per_s": round(ok / elapsed, 2), "docs_per_s": round(ok * args.docs / elapsed, 1),
        "latency_ms_200": {"p50": round(q(0.50), 1), "p90": round(q(0.90), 1), "p99": round(q(0.99), 1),
                           "mean": round(statistics.mean(lat) * 1000, 1) if lat else None},
        "rss_kb": {"after_warmup": rss_before, "end": rss_after, "max": rss_max[0], "every_10s": rss_timeline},
        "server_alive_at_end": alive, "exit_status_after_sigterm": rc,
        "queue_depth_at_end": next((l.split()[1] for l in metrics.splitlines() if l.startswith("lastrank_queue_depth ")), None),
        "load_avg_at_end": os.getloadavg(),
        "slow_clients": args.slow_clients, "slow": slow_stats if args.slow_clients else None,
    }
    print(json.dumps(out, indent=1))
    return 0 if alive and rc == 0 and out["5xx_other_than_503"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
