"""How the bot's inbox worker paces itself (`Tuning`), yields to the webhook under a burst
(`Pressure`), and names itself in leases so a process of the same host can tell a dead owner."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import socket
import time
import uuid
from dataclasses import dataclass

from platforms.line_api import RetryPolicy


@dataclass(frozen=True)
class Tuning:
    """How the worker paces itself (tests shorten the delays)."""

    concurrency: int = 32  # chats handled at once by one process
    sweep_every: float = 2.0
    stale_after: float = 5.0  # seconds before the sweeper takes over an unfinished event
    lease: float = 60.0
    retry_delays: tuple[float, ...] = (5.0, 15.0, 60.0, 300.0, 900.0)
    keep_events: dt.timedelta = dt.timedelta(days=2)
    keep_dead_letters: dt.timedelta = dt.timedelta(days=30)
    purge_every: float = 3600.0
    line_retry: RetryPolicy | None = None  # the adapter's retries of 5xx and timeouts (None: its default)
    busy_webhooks: int = 8  # webhook requests in flight above which replies wait (acks come first) ...
    busy_rate: float = 500.0  # ... or webhooks per second arriving above which they wait ...
    max_defer: float = 0.5  # ... but at most this long per event, so replies always progress


class Pressure:
    """How busy this process is with webhooks right now. LINE gives a webhook 2 s and counts slow
    answers as errors, while a reply may take up to a minute: under a burst, the worker lets the
    acknowledgements go first.

    Two signals: requests in flight (a momentary count: it drops to zero whenever a group commit
    answers a batch of them) and the arrival rate over the last 0.1–0.2 s (steady during a burst)."""

    WINDOW = 0.1  # seconds

    def __init__(self) -> None:
        self.in_flight = 0
        self._window = -1.0  # when the current counting window started (monotonic)
        self._count = 0  # webhooks arrived in it
        self._previous = 0  # and in the window before (0 if that was not the one just before)

    def arrived(self) -> None:
        """Count a webhook request (called when it arrives, on the event loop)."""
        now = time.monotonic()
        if now - self._window >= self.WINDOW:
            self._previous = self._count if now - self._window < 2 * self.WINDOW else 0
            self._window, self._count = now, 0
        self._count += 1

    def busy(self, limit: int, rate: float) -> bool:
        """More than `limit` webhooks in flight, or more than `rate` a second arriving lately."""
        if self.in_flight > limit:
            return True
        if time.monotonic() - self._window >= 2 * self.WINDOW:
            return False
        return max(self._count, self._previous) > rate * self.WINDOW

    async def calm(self, limit: int, max_wait: float, rate: float = float("inf")) -> None:
        """Wait while `busy(limit, rate)`, at most `max_wait` seconds."""
        waited = 0.0
        while self.busy(limit, rate) and waited < max_wait:
            await asyncio.sleep(0.01)
            waited += 0.01


def owner_name() -> str:
    """`host:pid:random`: unique per process, and telling which processes of this host are gone."""
    return f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def owner_is_dead(owner: str) -> bool:
    """True only when `owner` ran on this host and its process no longer exists."""
    host, _, rest = owner.partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname()[:30] or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, owned by another user
        return False
    return False
