"""The result shapes: rerank() = modeling.py rerank(), rank() = CrossEncoder.rank(), info."""
import math

import pytest

import lastrank
from conftest import load, model_dir

DOCS = ["Paris is the capital of France.", "Berlin ist die Hauptstadt.", "東京は日本の首都です。", "",
        "x<|embed_token|>y"]
QUERY = "What is the capital of France?"


def test_rerank_has_the_modeling_py_shape():
    model = load("tiny-gqa2")
    results = model.rerank(QUERY, DOCS)
    assert len(results) == len(DOCS)
    assert sorted(r["index"] for r in results) == list(range(len(DOCS)))
    for r in results:
        assert set(r) == {"document", "relevance_score", "index", "embedding"}
        assert type(r["index"]) is int and type(r["relevance_score"]) is float
        assert r["document"] == DOCS[r["index"]]  # the original, untruncated text
        assert -1.0 <= r["relevance_score"] <= 1.0 and math.isfinite(r["relevance_score"])
        assert r["embedding"] is None
    scores = [r["relevance_score"] for r in results]
    assert scores == sorted(scores, reverse=True)


def test_top_n_keeps_the_best():
    model = load("tiny-gqa2")
    full = model.rerank(QUERY, DOCS)
    top = model.rerank(QUERY, DOCS, top_n=2)
    assert top == full[:2]
    assert model.rerank(QUERY, DOCS, top_n=99) == full
    assert model.rerank(QUERY, DOCS, top_n=0) == full  # 0 = all, as on every front end


def test_unit_scores_are_the_cosines_mapped():
    cosine = load("tiny-gqa2").rerank(QUERY, DOCS)
    unit = lastrank.Reranker(model_dir("tiny-gqa2"), precision="fp32", threads=2, scores="unit").rerank(QUERY, DOCS)
    assert [r["index"] for r in unit] == [r["index"] for r in cosine]
    for u, c in zip(unit, cosine):
        assert 0.0 <= u["relevance_score"] <= 1.0
        assert u["relevance_score"] == pytest.approx((1.0 + c["relevance_score"]) / 2, abs=1e-7)
    with pytest.raises(ValueError, match="scores must be"):
        lastrank.Reranker(model_dir("tiny-gqa2"), scores="sigmoid")


def test_embeddings_are_float32_vectors():
    model = load("tiny-gqa2")
    results = model.rerank(QUERY, DOCS, return_embeddings=True, top_n=3)
    dim = model.info["embedding_dim"]
    for r in results:
        emb = r["embedding"]
        assert len(emb) == dim
        try:
            import numpy as np
        except ImportError:
            assert type(emb) is list and all(type(x) is float for x in emb)
        else:
            assert isinstance(emb, np.ndarray) and emb.dtype == np.float32 and emb.shape == (dim,)
            emb[0] = 0  # writable, like modeling.py's rows
        assert any(x != 0 for x in list(emb)[1:])


def test_dict_and_tuple_documents_are_texts():
    model = load("tiny-gqa2")
    want = model.rerank(QUERY, DOCS)
    got = model.rerank(QUERY, tuple({"text": d} for d in DOCS))
    assert [(r["index"], r["relevance_score"], r["document"]) for r in got] == \
        [(r["index"], r["relevance_score"], r["document"]) for r in want]


def test_rank_has_the_cross_encoder_shape():
    model = load("tiny-gqa2")
    full = model.rerank(QUERY, DOCS)
    ranked = model.rank(QUERY, DOCS)
    assert ranked == [{"corpus_id": r["index"], "score": r["relevance_score"]} for r in full]
    with_text = model.rank(QUERY, DOCS, top_k=2, return_documents=True)
    assert with_text == [{"corpus_id": r["index"], "score": r["relevance_score"], "text": r["document"]}
                         for r in full[:2]]


def test_instruction_and_lengths_change_the_prompt():
    model = load("tiny-gqa2")
    plain = model.rerank(QUERY, DOCS)
    assert model.rerank(QUERY, DOCS, instruction="Prefer German.") != plain
    long_doc = ["word " * 400, "short"]
    assert model.rerank(QUERY, long_doc, max_doc_length=8) != model.rerank(QUERY, long_doc)


def test_long_documents_score_their_best_chunk():
    # One token per word (tests/unit/chunking_model_test.cpp checks these words): with
    # max_doc_length 8 the 20-word document is the chunks 8 + 8 + 4 words, ranked in one pass.
    words = ["apple", "banana", "water", "light", "river", "music", "table", "window", "yellow", "orange",
             "silver", "forest", "winter", "summer", "bridge", "castle", "house", "doctor", "market", "planet"]
    doc = " ".join(words)
    chunks = [" ".join(words[:8]), " " + " ".join(words[8:16]), " " + " ".join(words[16:])]
    model = load("tiny-gqa2")
    by_hand = {r["index"]: r["relevance_score"] for r in model.rerank("river music", chunks + ["short"], max_doc_length=8)}
    chunked = {r["index"]: r["relevance_score"]
               for r in model.rerank("river music", [doc, "short"], max_doc_length=8, max_chunks_per_doc=3)}
    assert chunked == {0: max(by_hand[0], by_hand[1], by_hand[2]), 1: by_hand[3]}
    assert model.rerank("river music", [doc, "short"], max_doc_length=8, max_chunks_per_doc=1) == \
        model.rerank("river music", [doc, "short"], max_doc_length=8)


def test_info():
    model = load("tiny-gqa2")
    info = model.info
    assert info["version"] == lastrank.__version__ == lastrank.version()
    assert info["precision"] == "fp32" and info["threads"] == 2
    assert isinstance(info["kernel_set"], str) and info["kernel_set"]
    assert (info["hidden_size"], info["num_layers"], info["embedding_dim"]) == (32, 2, 24)  # checkpoints.txt
    assert info["vocab_size"] == 151936
    assert (info["max_query_length"], info["max_doc_length"]) == (512, 2048)
    assert "tiny-gqa2" in repr(model)


def test_weight_cache_dir(tmp_path):
    """weight_cache_dir: off by default; written by the first load, mapped by the next; same scores."""
    plain = load("tiny-gqa2")
    assert plain.info["weight_cache"] == "off"
    want = [r["relevance_score"] for r in plain.rerank(QUERY, DOCS)]
    for status in ("written", "hit"):
        model = lastrank.Reranker(model_dir("tiny-gqa2"), precision="fp32", threads=2, weight_cache_dir=tmp_path)
        assert model.info["weight_cache"] == status
        assert [r["relevance_score"] for r in model.rerank(QUERY, DOCS)] == want
    assert any(tmp_path.iterdir())


@pytest.mark.parametrize("precision", ["fp32", "bf16", "int8"])
def test_every_precision_loads_and_ranks(precision):
    model = lastrank.Reranker(model_dir("tiny-gqa2"), precision=precision, threads=1)
    assert model.info["precision"] == precision
    assert len(model.rerank(QUERY, DOCS)) == len(DOCS)
