#!/usr/bin/env python3
"""Bounded closed-loop load for deploy/haproxy/failover.sh: C threads, each with one keep-alive
connection, POST /v1/rerank until --duration seconds have passed (or --max-requests in total).
Every request is counted: one line per request in --out (start epoch, latency s, HTTP status or
the exception's name). Stdlib only.
  load_client.py --url http://127.0.0.1:PORT --duration 120 --concurrency 8 --out requests.tsv
summarize(): throughput and latency per phase, from that file and failover.sh's events file.
"""
import argparse
import http.client
import json
import random
import sys
import threading
import time
import urllib.parse

WORDS = ("paris france capital tower river museum city europe history art berlin tokyo japan "
         "green tea health study coffee science data model rank search query document passage").split()


def body(rng, docs, words):
    return json.dumps({"query": " ".join(rng.choice(WORDS) for _ in range(6)),
                       "documents": [" ".join(rng.choice(WORDS) for _ in range(words)) for _ in range(docs)],
                       "top_n": 3, "return_documents": False}).encode()


def worker(idx, url, deadline, budget, args, out, lock):
    rng = random.Random(idx)
    conn = None
    while time.time() < deadline:
        with lock:
            if budget[0] <= 0:
                return
            budget[0] -= 1
        payload = body(rng, args.docs, args.doc_words)
        start = time.time()
        try:
            if conn is None:
                conn = http.client.HTTPConnection(url.hostname, url.port, timeout=args.timeout)
            conn.request("POST", "/v1/rerank", payload, {"Content-Type": "application/json"})
            resp = conn.getresponse()
            data = resp.read()
            status = str(resp.status)
            if resp.status == 200 and len(json.loads(data)["results"]) != min(3, args.docs):
                status = "bad-body"
        except Exception as e:  # every failure is counted, none retried by the client
            status = type(e).__name__
            if conn is not None:
                conn.close()
            conn = None
        with lock:
            out.append((start, time.time() - start, status))


def run(args):
    url = urllib.parse.urlparse(args.url)
    out, lock, budget = [], threading.Lock(), [args.max_requests]
    deadline = time.time() + args.duration
    threads = [threading.Thread(target=worker, args=(i, url, deadline, budget, args, out, lock)) for i in range(args.concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with open(args.out, "w") as f:
        for start, lat, status in sorted(out):
            f.write(f"{start:.6f}\t{lat:.6f}\t{status}\n")
    failed = sum(1 for r in out if r[2] != "200")
    print(f"load_client: {len(out)} requests, {failed} failed")
    return 0


def pct(values, p):
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(p / 100 * len(values)))]


def summarize(args):
    rows = [l.rstrip("\n").split("\t") for l in open(args.requests)]
    rows = [(float(a), float(b), c) for a, b, c in rows]
    events = [l.rstrip("\n").split("\t", 1) for l in open(args.events)]
    events = [(float(t), what) for t, what in events]
    t0 = min(r[0] for r in rows)
    first_event, last_event = events[0][0], events[-1][0]
    phases = [("before", t0, first_event), ("during", first_event, last_event + args.settle),
              ("after", last_event + args.settle, max(r[0] for r in rows) + 1e-9)]
    print("| phase | window (s) | requests | failed | req/s | p50 ms | p90 ms | p99 ms | max ms |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for name, a, b in phases:
        sel = [r for r in rows if a <= r[0] < b]
        lat = [r[1] * 1000 for r in sel if r[2] == "200"]
        failed = sum(1 for r in sel if r[2] != "200")
        span = max(b - a, 1e-9)
        print(f"| {name} | {a - t0:.0f}-{b - t0:.0f} | {len(sel)} | {failed} | {len(sel) / span:.1f} | "
              f"{pct(lat, 50):.1f} | {pct(lat, 90):.1f} | {pct(lat, 99):.1f} | {max(lat, default=float('nan')):.1f} |")
    statuses = {}
    for r in rows:
        statuses[r[2]] = statuses.get(r[2], 0) + 1
    print(f"\ntotal {len(rows)} requests, statuses {json.dumps(statuses, sort_keys=True)}")
    print("events (s after the first request): " + "; ".join(f"{t - t0:.1f} {what}" for t, what in events))
    return 0 if set(statuses) == {"200"} else 1


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    r.add_argument("--url", required=True)
    r.add_argument("--duration", type=float, default=120)
    r.add_argument("--max-requests", type=int, default=1_000_000)
    r.add_argument("--concurrency", type=int, default=8)
    r.add_argument("--docs", type=int, default=8)
    r.add_argument("--doc-words", type=int, default=30)
    r.add_argument("--timeout", type=float, default=60)
    r.add_argument("--out", required=True)
    s = sub.add_parser("summarize")
    s.add_argument("--requests", required=True)
    s.add_argument("--events", required=True)
    s.add_argument("--settle", type=float, default=10, help="seconds after the last event still counted as 'during'")
    args = ap.parse_args()
    return run(args) if args.cmd == "run" else summarize(args)


if __name__ == "__main__":
    sys.exit(main())
