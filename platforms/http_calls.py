"""Shared helpers of the channel modules: reading rate-limit headers and sorting transport errors into
"certainly not sent" and "may have been sent"."""

from __future__ import annotations

import asyncio
import datetime as dt
import email.utils
import functools
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import httpx
import requests

from platforms.call_errors import Ambiguous, ChannelError, RateInfo, Retryable

# An epoch value below this is a delta in seconds (Retry-After style), above it a timestamp.
_EPOCH_FLOOR = 10**9
T = TypeVar("T")
_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


async def in_thread(fn: Callable[..., T], *args: Any) -> T:
    """Run a blocking SDK call in the channels' own thread pool (not the loop's small default one,
    which would cap concurrent sends at cpu_count + 4)."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=64, thread_name_prefix="sdk")
    return await asyncio.get_running_loop().run_in_executor(_pool, functools.partial(fn, *args))


def parse_reset(value: str | None, now: dt.datetime | None = None) -> dt.datetime | None:
    """A reset header as an aware UTC time: epoch seconds, seconds from now, ISO 8601 or HTTP date."""
    if value is None or not value.strip():
        return None
    now = now or dt.datetime.now(dt.UTC)
    text = value.strip()
    try:
        number = float(text)
    except ValueError:
        return _parse_date(text)
    if number >= _EPOCH_FLOOR:
        return dt.datetime.fromtimestamp(number, dt.UTC)
    return now + dt.timedelta(seconds=max(number, 0.0))


def _parse_date(text: str) -> dt.datetime | None:
    try:
        parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        try:
            parsed = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError):
            return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def rate_info(headers: Mapping[str, str], remaining: str, reset: str) -> RateInfo | None:
    """`RateInfo` from the named headers (case-insensitive), or None when absent."""
    lower = {k.lower(): v for k, v in headers.items()}
    if remaining.lower() not in lower and reset.lower() not in lower:
        return None
    left = lower.get(remaining.lower())
    return RateInfo(
        remaining=int(left) if left is not None and left.strip().lstrip("-").isdigit() else None,
        reset_at=parse_reset(lower.get(reset.lower())),
    )


def from_requests(exc: requests.RequestException, what: str) -> ChannelError:
    """Connection refused or a connect timeout never reached the platform; anything later may have."""
    if isinstance(exc, requests.ConnectTimeout) or (
        isinstance(exc, requests.ConnectionError)
        and not isinstance(exc, requests.ReadTimeout)
        and _refused(exc)
    ):
        return Retryable(f"{what}: cannot connect ({type(exc).__name__})")
    return Ambiguous(f"{what}: no answer after sending ({type(exc).__name__})")


def _refused(exc: BaseException) -> bool:
    text = repr(exc)
    return any(s in text for s in ("NewConnectionError", "Connection refused", "NameResolutionError"))


def from_httpx(exc: BaseException, what: str) -> ChannelError:
    """The same split for httpx transport errors."""
    if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout):
        return Retryable(f"{what}: cannot connect ({type(exc).__name__})")
    return Ambiguous(f"{what}: no answer after sending ({type(exc).__name__})")


def short(text: object, limit: int = 300) -> str:
    """An error text cut to a storable length."""
    value = str(text).strip().replace("\n", " ")
    return value if len(value) <= limit else value[: limit - 1] + "…"
