"""Without numpy, embeddings are lists of float with the same values as the numpy arrays."""
import os
import subprocess
import sys

from conftest import model_dir

SCRIPT = r"""
import sys
sys.modules["numpy"] = None  # makes `import numpy` raise ImportError
import lastrank
model = lastrank.Reranker(sys.argv[1], precision="fp32", threads=1)
for r in model.rerank("capital", ["Paris is the capital.", "Berlin"], return_embeddings=True):
    assert type(r["embedding"]) is list and all(type(x) is float for x in r["embedding"]), r
    print(r["index"], repr(r["relevance_score"]), " ".join(repr(x) for x in r["embedding"]))
"""


def test_embeddings_without_numpy():
    path = model_dir("tiny-gqa2")
    p = subprocess.run([sys.executable, "-c", SCRIPT, path], capture_output=True, text=True, env=os.environ,
                       check=False)
    assert p.returncode == 0, p.stderr
    import lastrank
    model = lastrank.Reranker(path, precision="fp32", threads=1)
    want = model.rerank("capital", ["Paris is the capital.", "Berlin"], return_embeddings=True)
    lines = p.stdout.strip().split("\n")
    assert len(lines) == len(want)
    for line, r in zip(lines, want):
        index, score, *emb = line.split()
        assert int(index) == r["index"] and float(score) == r["relevance_score"]
        assert [float(x) for x in emb] == [float(x) for x in r["embedding"]]
