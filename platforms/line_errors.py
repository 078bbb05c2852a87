"""The typed errors of the LINE API adapter, and how an SDK `ApiException` maps onto them.

LineApiError                 any failure of a LINE call (.endpoint, .status, .request_id)
├── LineRequestInvalid       refused before sending (too many messages, text too long, ...); also ValueError
├── LineClientError          a 4xx other than 429; never retried (.message, .details from LINE)
│   ├── ReplyTokenInvalid    reply token unknown, used or expired: push instead (.maybe_delivered)
│   ├── LineAuthError        401: the channel access token is wrong or revoked
│   └── LineNotFound         404: unknown user, rich menu, request ID
├── LineRateLimited          429; not retried here (.kind "rate_limit"/"monthly_limit", .retry_after)
└── LineUnavailable          5xx, timeouts or connection errors, still failing after the retries
"""

from __future__ import annotations

import datetime as dt
import json
from email.utils import parsedate_to_datetime
from typing import Any, Literal

from app.privacy import mask_ids_in

RateLimitKind = Literal["rate_limit", "monthly_limit"]


class LineApiError(Exception):
    """A LINE API call failed. The message never contains the access token."""

    def __init__(
        self, message: str, *, endpoint: str = "", status: int | None = None, request_id: str | None = None
    ) -> None:
        super().__init__(message)
        self.endpoint = endpoint
        self.status = status
        self.request_id = request_id


class LineRequestInvalid(LineApiError, ValueError):
    """The request breaks a LINE limit; nothing was sent."""


class LineClientError(LineApiError):
    """LINE refused the request (4xx other than 429). Retrying the same request cannot help."""

    def __init__(self, message: str, *, details: list[dict[str, Any]] | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.details = details or []


class ReplyTokenInvalid(LineClientError):
    """The reply token is unknown, used or expired. `maybe_delivered` is set when an earlier attempt
    of the same reply timed out or failed with 5xx: LINE may have delivered it and used the token."""

    def __init__(self, message: str, *, maybe_delivered: bool = False, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.maybe_delivered = maybe_delivered


class LineAuthError(LineClientError):
    """401: the channel access token is missing, wrong or revoked."""


class LineNotFound(LineClientError):
    """404: the user, rich menu or request does not exist (or the user blocked the account)."""


class LineRateLimited(LineApiError):
    """429. `kind` tells a rate limit (wait and retry) from the monthly message limit (wait for next
    month); `retry_after` is the server's hint in seconds when it sent one."""

    def __init__(
        self, message: str, *, kind: RateLimitKind, retry_after: float | None, **kwargs: Any
    ) -> None:
        super().__init__(message, **kwargs)
        self.kind = kind
        self.retry_after = retry_after


class LineUnavailable(LineApiError):
    """LINE did not answer usefully (5xx, timeout, connection error) after `attempts` attempts."""

    def __init__(self, message: str, *, attempts: int, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.attempts = attempts


def error_body(body: Any) -> dict[str, Any]:
    """LINE's JSON error body (`message`, `details`, `sentMessages`), or {} when it is not JSON."""
    try:
        parsed = json.loads(body) if body else {}
    except (TypeError, ValueError):
        return {}
    return parsed if isinstance(parsed, dict) else {}


def retry_after_seconds(value: str | None, now: dt.datetime | None = None) -> float | None:
    """A `Retry-After` header (seconds or an HTTP date) as seconds from now; None when absent/bad."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - (now or dt.datetime.now(dt.UTC))).total_seconds())


def client_error(
    endpoint: str, status: int, body: Any, headers: Any, *, earlier_failures: bool = False
) -> LineApiError:
    """The typed error for a non-retryable LINE answer (4xx)."""
    data = error_body(body)
    message = mask_ids_in(str(data.get("message") or f"HTTP {status}"))
    request_id = headers.get("x-line-request-id") if headers else None
    text = f"LINE {endpoint}: {status} {message}"
    common: dict[str, Any] = {"endpoint": endpoint, "status": status, "request_id": request_id}
    if status == 429:
        kind: RateLimitKind = "monthly_limit" if "monthly limit" in message.lower() else "rate_limit"
        after = retry_after_seconds(headers.get("retry-after") if headers else None)
        return LineRateLimited(text, kind=kind, retry_after=after, **common)
    details = [d for d in data.get("details") or [] if isinstance(d, dict)]
    if endpoint == "reply" and status == 400 and "reply token" in message.lower():
        return ReplyTokenInvalid(text, details=details, maybe_delivered=earlier_failures, **common)
    cls = {401: LineAuthError, 404: LineNotFound}.get(status, LineClientError)
    return cls(text, details=details, **common)
