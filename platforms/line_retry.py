"""The one place where LINE calls are attempted, retried, logged and turned into typed errors.

5xx, timeouts and connection errors are retried with exponential backoff and jitter, within a
bounded number of attempts and total time. On the retry-key endpoints a 409 means an earlier
attempt was accepted: that is success. 429 and other 4xx are never retried here.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
from linebot.v3.insight import ApiException as InsightApiException
from linebot.v3.messaging import ApiException as MessagingApiException

from app.privacy import mask_ids_in
from platforms.line_errors import LineApiError, LineUnavailable, client_error, error_body

log = logging.getLogger("platforms.line_api")

# Each SDK API family has its own ApiException class.
API_EXCEPTIONS = (MessagingApiException, InsightApiException)
RETRYABLE_ERRORS = (TimeoutError, aiohttp.ClientConnectionError, aiohttp.ClientPayloadError)


@dataclass(frozen=True)
class RetryPolicy:
    """`attempts` in all (first try included); no retry starts later than `total_seconds` after the first."""

    attempts: int = 4
    base_delay: float = 0.5
    max_delay: float = 8.0
    total_seconds: float = 30.0

    def delay(self, retry: int, rand: float) -> float:
        """Seconds to wait before the `retry`-th retry (1-based); `rand` in [0, 1) gives the jitter.

        Exponential growth capped at `max_delay`, then "equal jitter": between half and all of it.
        """
        ceiling = min(self.max_delay, self.base_delay * 2.0 ** (retry - 1))
        return ceiling * (0.5 + rand / 2)


@dataclass(frozen=True)
class Answer:
    """A successful call: the SDK's data, the request ID, and whether it was a 409 retry-key repeat."""

    status: int
    request_id: str | None
    data: Any = None
    accepted_before: bool = False
    body: dict[str, Any] | None = None


class _Retryable(Exception):
    def __init__(self, cause: str, status: int | None, request_id: str | None) -> None:
        super().__init__(cause)
        self.status = status
        self.request_id = request_id


async def call(
    endpoint: str,
    fn: Callable[[], Awaitable[Any]],
    policy: RetryPolicy,
    *,
    retry_key: str | None = None,
    context: dict[str, Any] | None = None,
) -> Answer:
    """Run `fn` (an SDK `*_with_http_info` call) under the retry policy."""
    start = time.monotonic()
    failures = 0
    while True:
        try:
            return await _attempt(endpoint, fn, retry_key, failures, context or {})
        except _Retryable as exc:
            failures += 1
            delay = policy.delay(failures, random.random())
            if failures >= policy.attempts or time.monotonic() - start + delay > policy.total_seconds:
                raise LineUnavailable(
                    f"LINE {endpoint}: {exc} (gave up after {failures} attempt(s))",
                    attempts=failures,
                    endpoint=endpoint,
                    status=exc.status,
                    request_id=exc.request_id,
                ) from None
            await asyncio.sleep(delay)


async def _attempt(
    endpoint: str,
    fn: Callable[[], Awaitable[Any]],
    retry_key: str | None,
    failures: int,
    context: dict[str, Any],
) -> Answer:
    began = time.perf_counter()

    def note(level: int, status: int | None, request_id: str | None, outcome: str) -> None:
        extra: dict[str, Any] = {"line_endpoint": endpoint, "status": status, "line_request_id": request_id}
        extra |= {"attempt": failures + 1, "outcome": outcome, **context}
        extra["duration_ms"] = round((time.perf_counter() - began) * 1000, 1)
        log.log(level, "LINE %s %s %s", endpoint, status or "-", outcome, extra=extra)

    try:
        response = await fn()
    except API_EXCEPTIONS as exc:
        status, headers = int(exc.status or 0), exc.headers or {}
        request_id = headers.get("x-line-request-id")
        if status == 409 and retry_key is not None:
            accepted = headers.get("x-line-accepted-request-id")
            note(logging.INFO, status, accepted, "already accepted")
            return Answer(status, accepted, accepted_before=True, body=error_body(exc.body))
        if status >= 500:
            note(logging.WARNING, status, request_id, "server error")
            raise _Retryable(f"HTTP {status}", status, request_id) from None
        note(logging.WARNING, status, request_id, "refused")
        raise client_error(endpoint, status, exc.body, headers, earlier_failures=failures > 0) from None
    except RETRYABLE_ERRORS as exc:
        note(logging.WARNING, None, None, type(exc).__name__)
        raise _Retryable(f"{type(exc).__name__} {exc}".strip(), None, None) from None
    except ValueError as exc:  # the SDK could not build the request or read the answer
        note(logging.ERROR, None, None, "invalid")
        raise LineApiError(
            f"LINE {endpoint}: unexpected data ({mask_ids_in(str(exc))})", endpoint=endpoint
        ) from None
    request_id = response.headers.get("x-line-request-id") if response.headers else None
    note(logging.INFO, response.status_code, request_id, "ok")
    return Answer(response.status_code, request_id, response.data)
