"""The process's one SudachiPy dictionary (sudachidict-small), shared by masking (`app.privacy_names`)
and the FAQ matcher (`faq.tokenize`): its mapped pages would count twice in a process holding two."""

from __future__ import annotations

import threading
from typing import Any

_lock = threading.Lock()
_loaded: list[Any] = []


def dictionary() -> Any:
    """The dictionary, loaded on first use, once per process (thread-safe). Tokenizers made from it
    are not to be shared between threads."""
    with _lock:
        if not _loaded:
            from sudachipy import Dictionary

            _loaded.append(Dictionary(dict="small"))
        return _loaded[0]
