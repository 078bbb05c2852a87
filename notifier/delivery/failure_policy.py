"""What happens to a delivery after a failed call (pure functions; the engine applies the result).

| error        | keyed channel (LINE, Mastodon, Bluesky)   | X, Facebook                                   |
|--------------|-------------------------------------------|-----------------------------------------------|
| Rejected     | failed                                    | failed                                        |
| RateLimited  | retry at the reset time (or backoff)      | same                                          |
| Retryable    | retry with backoff                        | same                                          |
| ServerError  | retry with the same key                   | look in recent posts: found → sent, else retry |
|              | (out of attempts: failed)                 | (out of attempts: failed)                     |
| Ambiguous    | retry with the same key while the         | look in recent posts: found → sent,            |
|              | platform remembers it, else unknown       | else unknown (a person checks)                 |

Out of attempts after timeouts: unknown (a call may have published the post); otherwise failed.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from dataclasses import dataclass

from platforms.call_errors import Ambiguous, ChannelError, RateLimited, Rejected, ServerError

MAX_BACKOFF = 900.0
UNKNOWN_HINT = (
    "結果が不明です。アカウントを確認して「投稿を確認した」「再送する」「失敗とする」から選んでください / "
    "outcome unclear: check the account and resolve (sent / resend / failed)"
)


@dataclass(frozen=True)
class NextStep:
    """The delivery's next state, the attempt's outcome, and when to try again."""

    state: str  # pending | sent | failed | unknown
    outcome: str
    error: str | None = None
    run_at: dt.datetime | None = None
    lookup: bool = False  # look for the post on the platform first, then call `after_lookup`


def backoff(
    attempts: int, base: float, now: dt.datetime, rng: Callable[[], float] = random.random
) -> dt.datetime:
    """Exponential backoff with ±20 % jitter, capped at 15 minutes."""
    delay = min(base * 2 ** max(attempts - 1, 0), MAX_BACKOFF) * (0.8 + 0.4 * rng())
    return now + dt.timedelta(seconds=delay)


def decide(
    error: ChannelError,
    *,
    idempotent: bool,
    key_expired: bool,
    attempts: int,
    max_attempts: int,
    now: dt.datetime,
    base: float,
) -> NextStep:
    """The decision after `error` on the `attempts`-th call."""
    reason = error.reason
    if isinstance(error, Rejected):
        return NextStep("failed", "rejected", reason)
    if isinstance(error, RateLimited):
        run_at = error.retry_at if error.retry_at and error.retry_at > now else backoff(attempts, base, now)
        return NextStep("pending", "rate_limited", reason, run_at)
    ambiguous = isinstance(error, Ambiguous)
    outcome = "server_error" if isinstance(error, ServerError) else ("ambiguous" if ambiguous else "retry")
    if ambiguous and not idempotent:
        return NextStep("pending", outcome, reason, lookup=True)
    if ambiguous and key_expired:
        return NextStep("unknown", outcome, f"{reason}; idempotency key expired; {UNKNOWN_HINT}")
    if attempts >= max_attempts:
        # a last call under the same key answered with an error: the platform does not have the post
        unclear = ambiguous and not isinstance(error, ServerError)
        hint = f"; {UNKNOWN_HINT}" if unclear else ""
        return NextStep(
            "unknown" if unclear else "failed", outcome, f"gave up after {attempts} attempts: {reason}{hint}"
        )
    return NextStep("pending", outcome, reason, backoff(attempts, base, now))


def after_lookup(
    found: str | None,
    error: ChannelError,
    *,
    attempts: int,
    max_attempts: int,
    now: dt.datetime,
    base: float,
) -> NextStep:
    """X / Facebook after an unclear call: the recent-posts lookup decides."""
    if found is not None:
        return NextStep("sent", "reconciled", None)
    if isinstance(error, ServerError):  # it answered with an error and the post is not there
        if attempts < max_attempts:
            return NextStep("pending", "server_error", error.reason, backoff(attempts, base, now))
        reason = f"gave up after {attempts} attempts: {error.reason}; not found in recent posts"
        return NextStep("failed", "server_error", reason)
    return NextStep("unknown", "ambiguous", f"{error.reason}; not found in recent posts; {UNKNOWN_HINT}")
