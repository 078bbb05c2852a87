"""A fixed-window request counter the SNS fakes use to answer with rate-limit headers and 429s."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass


@dataclass
class Window:
    """Allows `limit` calls per `seconds`; `hit()` answers (allowed, remaining, reset epoch seconds)."""

    limit: int = 10_000
    seconds: float = 900.0

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._start = time.time()
        self._used = 0

    def hit(self) -> tuple[bool, int, int]:
        with self._lock:
            now = time.time()
            if now >= self._start + self.seconds:
                self._start, self._used = now, 0
            reset = int(self._start + self.seconds) + 1
            if self._used >= self.limit:
                return False, 0, reset
            self._used += 1
            return True, self.limit - self._used, reset

    def set(self, limit: int, seconds: float) -> None:
        """Change the limit and start a fresh window."""
        with self._lock:
            self.limit, self.seconds = limit, seconds
            self._start, self._used = time.time(), 0
