# Type stubs of the compiled module lastrank._lastrank (src/python/module.cpp). Use the lastrank
# package (lastrank.Reranker); _Engine is its private engine.
from typing import Any, Dict, List, Optional, Tuple

class ModelError(Exception):
    """A model directory or file is missing or malformed; the message names the file."""

def version() -> str: ...

class _Engine:
    def __init__(self, model_dir: str, precision: str, threads: int, scores: str,
                 weight_cache_dir: str = "") -> None: ...
    def rerank(self, query: Any, documents: Any, top_n: Any, return_embeddings: Any, max_query_length: Any,
               max_doc_length: Any, instruction: Any, max_chunks_per_doc: Any = None) -> Tuple[List[float], List[int], Optional[bytes], int, int]: ...
    def info(self) -> Dict[str, Any]: ...
