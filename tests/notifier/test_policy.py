"""The retry policy table (pure)."""

from __future__ import annotations

import datetime as dt
from functools import partial

import pytest

from notifier.delivery.failure_policy import after_lookup, backoff, decide
from platforms.call_errors import Ambiguous, ChannelError, RateLimited, Rejected, Retryable, ServerError

NOW = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
LATER = NOW + dt.timedelta(minutes=15)


@pytest.mark.parametrize(
    ("error", "idempotent", "expired", "attempts", "state", "lookup"),
    [
        (Rejected("400"), True, False, 1, "failed", False),
        (Rejected("400"), False, False, 1, "failed", False),
        (Retryable("refused"), False, False, 1, "pending", False),
        (Retryable("refused"), False, False, 5, "failed", False),
        (ServerError("503"), True, False, 1, "pending", False),
        (ServerError("503"), True, False, 5, "failed", False),
        (ServerError("503"), False, False, 1, "pending", True),
        (Ambiguous("timeout"), True, False, 1, "pending", False),
        (Ambiguous("timeout"), True, False, 5, "unknown", False),
        (Ambiguous("timeout"), True, True, 1, "unknown", False),
        (Ambiguous("timeout"), False, False, 1, "pending", True),
    ],
)
def test_decide(
    error: ChannelError, idempotent: bool, expired: bool, attempts: int, state: str, lookup: bool
) -> None:
    d = decide(
        error,
        idempotent=idempotent,
        key_expired=expired,
        attempts=attempts,
        max_attempts=5,
        now=NOW,
        base=1.0,
    )
    assert (d.state, d.lookup) == (state, lookup)
    assert d.error and error.reason in d.error
    assert (d.run_at is not None) == (state == "pending" and not lookup)


def test_rate_limit_waits_for_the_reset_time() -> None:
    d = decide(RateLimited("429", retry_at=LATER), idempotent=False, key_expired=False, attempts=1,
               max_attempts=5, now=NOW, base=1.0)  # fmt: skip
    assert (d.state, d.run_at, d.outcome) == ("pending", LATER, "rate_limited")
    d = decide(
        RateLimited("429"), idempotent=False, key_expired=False, attempts=1, max_attempts=5, now=NOW, base=1.0
    )
    assert d.run_at is not None and NOW < d.run_at < NOW + dt.timedelta(seconds=2)


@pytest.mark.parametrize(
    ("found", "error", "attempts", "state"),
    [
        ("123", Ambiguous("timeout"), 1, "sent"),
        (None, Ambiguous("timeout"), 1, "unknown"),
        ("123", ServerError("500"), 1, "sent"),
        (None, ServerError("500"), 1, "pending"),
        (None, ServerError("500"), 5, "failed"),
    ],
)
def test_after_lookup(found: str | None, error: ChannelError, attempts: int, state: str) -> None:
    assert after_lookup(found, error, attempts=attempts, max_attempts=5, now=NOW, base=1.0).state == state


@pytest.mark.parametrize(("attempts", "low", "high"), [(1, 1.6, 2.4), (3, 6.4, 9.6), (30, 720, 1080)])
def test_backoff_doubles_with_jitter_and_a_cap(attempts: int, low: float, high: float) -> None:
    for r in (0.0, 0.5, 0.999):  # every random draw is r
        delay = (backoff(attempts, 2.0, NOW, rng=partial(float, r)) - NOW).total_seconds()
        assert low <= delay <= high
