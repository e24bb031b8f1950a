#!/usr/bin/env python3
"""Writes a seeded Jina /v1/rerank request for bench/run_bench.sh's realistic workloads: a query and DOCS
documents of about WORDS words each, drawn from common English words (about one token per word with the
Qwen3 tokenizer; lastrank reports the exact prompt tokens as usage.total_tokens). Standard library only.
  bench/make_workload.py --docs 20 --words 250 --seed 1 --out /tmp/a.json
"""
import argparse
import json
import random

WORDS = ("the of and to in is was for on are with as by that it from at be this have or which an not but had "
         "they were their has been more one all also new other can would after first two its when who time into "
         "year city people may state world country use some then there over most only during between many part "
         "such these where system three under later known since against government music film series season "
         "river water energy market health study science data model search query document answer research "
         "history museum tower capital europe green tea coffee food school student language computer network "
         "power light sound image video price company service product team game player club league match "
         "record album song band island north south east west church war army battle king queen family "
         "house road bridge station train car engine ship plane air sea mountain forest animal plant bird "
         "fish tree flower weather rain snow summer winter spring early late long short small large high low "
         "great good best old young public private local national social human natural physical chemical").split()


def text(rng, n):
    return " ".join(rng.choice(WORDS) for _ in range(n))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--docs", type=int, required=True)
    ap.add_argument("--words", type=int, required=True, help="words per document (~ tokens)")
    ap.add_argument("--query-words", type=int, default=12)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    if a.docs < 1 or a.words < 1:
        ap.error("--docs and --words must be >= 1")
    rng = random.Random(a.seed)
    req = {"model": "jina-reranker-v3", "query": text(rng, a.query_words),
           "documents": [text(rng, a.words) for _ in range(a.docs)], "top_n": 5, "return_documents": False}
    with open(a.out, "w") as f:
        json.dump(req, f)


if __name__ == "__main__":
    main()
