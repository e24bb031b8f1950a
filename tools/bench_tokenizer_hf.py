#!/usr/bin/env python3
"""Tokenizer benchmark text + HF tokenizers baseline (runs in the reference chroot).

usage: bench_tokenizer_hf.py [--text build/bench_tokenizer.txt] [--runs 5] [--make-only]
Writes the benchmark text (seeded: the parity corpus strings, shuffled, packed into ~3 KB
documents until >= 10 MB; documents separated by NUL bytes) if missing, then times HF's
Tokenizer.encode(doc, add_special_tokens=False) over all documents on one thread.
bench/bench_tokenizer.cpp reads the same file.
"""
import argparse
import json
import os
import random
import statistics
import time

SEED = 20251125
TARGET_BYTES = 10 * 1024 * 1024
DOC_BYTES = 3000


def make_text(path):
    texts = []
    with open("tests/data/tokenizer/parity_corpus.jsonl", encoding="utf-8") as f:
        for line in f:
            rec = json.loads(line)
            if "text" in rec and "\0" not in rec["text"]:
                texts.append(rec["text"])
    rng = random.Random(SEED)
    docs, size = [], 0
    while size < TARGET_BYTES:
        parts, n = [], 0
        while n < DOC_BYTES:
            t = rng.choice(texts)
            parts.append(t)
            parts.append(rng.choice([" ", "\n", "\n\n", ". "]))
            n += len(t.encode("utf-8")) + 1
        doc = "".join(parts)
        docs.append(doc)
        size += len(doc.encode("utf-8"))
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with open(path, "wb") as f:
        f.write(b"\0".join(d.encode("utf-8") for d in docs))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--text", default="build/bench_tokenizer.txt")
    ap.add_argument("--tokenizer", default=".deps/tokenizer/tokenizer.json")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--make-only", action="store_true")
    args = ap.parse_args()
    if not os.path.exists(args.text):
        make_text(args.text)
    if args.make_only:
        return
    import tokenizers
    from tokenizers import Tokenizer
    data = open(args.text, "rb").read()
    docs = [d.decode("utf-8") for d in data.split(b"\0")]
    loads = []
    for _ in range(3):
        t0 = time.perf_counter()
        tok = Tokenizer.from_file(args.tokenizer)
        loads.append(time.perf_counter() - t0)
    times, tokens = [], 0
    for _ in range(args.runs):
        t0 = time.perf_counter()
        tokens = 0
        for d in docs:
            tokens += len(tok.encode(d, add_special_tokens=False).ids)
        times.append(time.perf_counter() - t0)
    med = statistics.median(times)
    print("hf tokenizers %s: %d docs, %.2f MB, %d tokens; load %.3f s (median of 3); encode median %.3f s "
          "over %d runs (min %.3f max %.3f) = %.2f MB/s on one thread" %
          (tokenizers.__version__, len(docs), len(data) / 1e6, tokens, statistics.median(loads), med, args.runs,
           min(times), max(times), len(data) / 1e6 / med))


if __name__ == "__main__":
    main()
