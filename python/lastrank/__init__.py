"""lastrank: jina-reranker-v3 inference on CPU, from Python.

    import lastrank
    model = lastrank.Reranker("path/to/jina-reranker-v3")          # precision="bf16"
    model.rerank("green tea", ["Green tea has catechins.", "Stocks rose."])
    # [{"document": "Green tea has catechins.", "relevance_score": 0.29, "index": 0, "embedding": None}, ...]

rerank() returns what the published modeling.py rerank() returns; rank() has the shape of
sentence-transformers' CrossEncoder.rank(). The full contract (errors, threads, memory) is
docs/library.md in the lastrank repository.

Threads: one Reranker may be used from several Python threads. Calls on one model run one at a
time (a mutex inside); the GIL is released while the engine computes, so other Python threads run
meanwhile. Each call uses the model's own compute threads (``threads`` at load).

Errors: a request argument of the wrong type raises TypeError, a bad value ValueError, with the
message the ``lastrank`` CLI prints for the same JSON request; a missing or malformed model raises
lastrank.ModelError naming the file.
"""

from __future__ import annotations

import array
import os
from typing import Any, Dict, List, Optional, Sequence, Union

from ._lastrank import ModelError, _Engine, version

try:  # embeddings are numpy arrays when numpy is importable, lists of float otherwise
    import numpy as _np
except ImportError:  # pragma: no cover - depends on the interpreter
    _np = None

__all__ = ["Reranker", "ModelError", "version", "__version__"]
__version__: str = version()

Document = Union[str, Dict[str, str]]


def _document_text(document: Document) -> str:
    return document if isinstance(document, str) else document["text"]


def _embedding_rows(data: Optional[bytes], count: int, dim: int) -> Optional[List[Any]]:
    """Row i of the [count, dim] float32 matrix in data, as a numpy array or a list of float."""
    if data is None:
        return None
    if _np is not None:
        matrix = _np.frombuffer(data, dtype=_np.float32).reshape(count, dim).copy()
        return [matrix[i] for i in range(count)]
    values = array.array("f")
    values.frombytes(data)
    return [values[i * dim:(i + 1) * dim].tolist() for i in range(count)]


class Reranker:
    """A loaded jina-reranker-v3 model.

    Args:
        model_path: a Hugging Face model directory (config.json, model.safetensors or shards,
            tokenizer.json, tokenizer_config.json).
        precision: "fp32" (exact), "bf16" (default; bf16 products with fp32 sums where the CPU has
            AVX512_BF16) or "int8".
        threads: compute threads; None or 0 = all cores.
        scores: "cosine" (default; the reference's cosine similarity in [-1, 1]) or "unit"
            ((1 + cosine) / 2 in [0, 1]; the order is the same).
        weight_cache_dir: a directory for the packed-weight cache: the first load saves the
            packed weights there and later loads of the same checkpoint, precision and CPU map them
            instead of packing again (a stale or corrupt file is detected and rewritten); info()
            ["weight_cache"] says what happened ("hit", "written", "disabled"). None (default): no
            cache ("off").

    Raises:
        lastrank.ModelError: the directory or one of its files is missing or malformed.
        ValueError: an unknown precision or scores, or a thread count outside 0..1024.
    """

    def __init__(self, model_path: Union[str, "os.PathLike[str]"], precision: str = "bf16",
                 threads: Optional[int] = None, scores: str = "cosine",
                 weight_cache_dir: Optional[Union[str, "os.PathLike[str]"]] = None) -> None:
        cache = "" if weight_cache_dir is None else os.fspath(weight_cache_dir)
        self._engine = _Engine(os.fspath(model_path), precision, 0 if threads is None else threads, scores, cache)
        self._path = os.fspath(model_path)

    def rerank(self, query: str, documents: Sequence[Document], top_n: Optional[int] = None,
               return_embeddings: bool = False, max_query_length: int = 512, max_doc_length: int = 2048,
               instruction: Optional[str] = None, max_chunks_per_doc: int = 1) -> List[Dict[str, Any]]:
        """Scores documents against query, best first: the contract of modeling.py rerank().

        Args:
            query: the query text.
            documents: a list (or tuple) of texts; a {"text": str} dict also counts as a text.
            top_n: return only the best top_n documents; None or 0 = all.
            return_embeddings: also return each document's projected vector.
            max_query_length: tokens the query is truncated to.
            max_doc_length: tokens each document is truncated to.
            instruction: an optional instruction placed in the prompt's <instruct> block.
            max_chunks_per_doc: a document longer than max_doc_length is split into up to this
                many chunks of max_doc_length tokens and scored by its best chunk (1 = truncated,
                the reference); the embedding is the best chunk's.

        Returns:
            One dict per returned document, sorted by relevance_score descending (ties keep input
            order): {"document": the input text, "relevance_score": float (a cosine in [-1, 1],
            or (1 + cosine) / 2 with scores="unit"),
            "index": its position in documents, "embedding": a float32 numpy array (a list of
            float without numpy) if return_embeddings, else None}.

        Raises:
            TypeError: an argument of the wrong type (e.g. a document that is not a str).
            ValueError: a bad value (empty query, no documents, top_n < 0, ...).
        """
        scores, order, embeddings, dim, _ = self._engine.rerank(
            query, documents, top_n, return_embeddings, max_query_length, max_doc_length, instruction,
            max_chunks_per_doc)
        rows = _embedding_rows(embeddings, len(scores), dim)
        return [{"document": _document_text(documents[i]), "relevance_score": scores[i], "index": i,
                 "embedding": rows[i] if rows is not None else None} for i in order]

    def rank(self, query: str, documents: Sequence[Document], top_k: Optional[int] = None,
             return_documents: bool = False) -> List[Dict[str, Any]]:
        """Ranks documents for query in the shape of sentence-transformers' CrossEncoder.rank().

        Returns:
            [{"corpus_id": index in documents, "score": float, "text": str (only with
            return_documents)}], best first, at most top_k entries (None = all).
        """
        results = self.rerank(query, documents, top_n=top_k)
        ranked = []
        for r in results:
            entry: Dict[str, Any] = {"corpus_id": r["index"], "score": r["relevance_score"]}
            if return_documents:
                entry["text"] = r["document"]
            ranked.append(entry)
        return ranked

    @property
    def info(self) -> Dict[str, Any]:
        """What the model runs with: version, precision, kernel_set (the kernel set in use),
        threads, hidden_size, num_layers, embedding_dim, vocab_size, max_query_length,
        max_doc_length."""
        return self._engine.info()

    def __repr__(self) -> str:
        info = self._engine.info()
        return f"lastrank.Reranker({self._path!r}, precision={info['precision']!r}, threads={info['threads']})"
