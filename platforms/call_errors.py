"""What a failed call to a platform means for whoever made it, by what it may safely do next, and
what a response's rate-limit headers said (`RateInfo`). Raised by the notifier's channels; the
helpers of `platforms.http_calls` sort transport failures into these.

    ChannelError
    ├── Rejected      the platform refused the request (4xx): never retried
    ├── RateLimited   429 or quota: retry at `retry_at` (from the reset headers)
    ├── Retryable     the request certainly did not take effect (connection refused, ...): retry later
    └── Ambiguous     it may have taken effect (timeout or dropped connection after sending)
        └── ServerError   the platform answered 5xx (it probably, but not certainly, did nothing)
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any


class ChannelError(Exception):
    """Base of the errors `Channel.send` raises; `reason` is safe to store and show to staff."""

    def __init__(self, reason: str, *, http_status: int | None = None, request_id: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.http_status = http_status
        self.request_id = request_id


class Rejected(ChannelError):
    """Permanent refusal (validation, authentication, permission)."""


class Retryable(ChannelError):
    """Nothing was published; try again later."""


class Ambiguous(ChannelError):
    """The platform may have published the post."""


class ServerError(Ambiguous):
    """The platform answered with a 5xx status (it probably, but not certainly, published nothing)."""


class RateLimited(ChannelError):
    """Too many requests; try again at `retry_at` (None: use backoff)."""

    def __init__(self, reason: str, *, retry_at: dt.datetime | None = None, **kw: Any) -> None:
        super().__init__(reason, **kw)
        self.retry_at = retry_at


@dataclass(frozen=True)
class RateInfo:
    """What a response's rate-limit headers said: calls left and when the window resets."""

    remaining: int | None = None
    reset_at: dt.datetime | None = None
