"""`import lastrank` and one rerank under a given interpreter (ctest runs it with the python3 that
was on PATH at configure time; pytest runs under Debian's /usr/bin/python3).
Usage: python3 import_smoke.py MODEL_DIR"""
import sys

import lastrank

model = lastrank.Reranker(sys.argv[1], precision="fp32", threads=1)
results = model.rerank("capital", ["Paris is the capital.", "Berlin", "Tokyo"], top_n=2, return_embeddings=True)
assert [set(r) for r in results] == [{"document", "relevance_score", "index", "embedding"}] * 2, results
assert results[0]["relevance_score"] >= results[1]["relevance_score"]
dim = model.info["embedding_dim"]
try:
    import numpy  # noqa: F401
    kind = "numpy"
except ImportError:
    kind = "list"
    assert all(type(r["embedding"]) is list and len(r["embedding"]) == dim for r in results)
print(f"lastrank {lastrank.__version__} on Python {sys.version.split()[0]} ({sys.executable}): "
      f"{len(results)} results, embeddings as {kind}, module {lastrank._lastrank.__file__}")
