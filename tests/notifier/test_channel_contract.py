"""The contract every channel keeps, checked with the real SDK clients against the fakes over HTTP:
what is published, and which `ChannelError` each failure becomes (the engine relies on these)."""

from __future__ import annotations

import datetime as dt
import socket
import time
from typing import Any

import pytest

from app.settings import Settings
from notifier.channels.channel_base import Channel, Outgoing
from notifier.channels.channel_registry import CHANNELS, build
from notifier.channels.line_channel import LineChannel
from platforms.call_errors import Ambiguous, ChannelError, RateLimited, Rejected, Retryable, ServerError
from platforms.line_api import RetryPolicy
from tests.conftest import make_settings
from tests.notifier.conftest import CHANNEL_NAMES, Fakes, run_async

TEXT = "吹田市からのお知らせです。 https://www.city.suita.osaka.jp/"
PATHS = {
    "line": "/v2/bot/message/broadcast",
    "x": "/2/tweets",
    "facebook": "/feed",
    "mastodon": "/api/v1/statuses",
    "bluesky": "/xrpc/com.atproto.repo.createRecord",
}
FOLLOWER_PATHS = {
    "line": "/insight/followers",
    "x": "/2/users/me",
    "facebook": "/100200300400500$",
    "mastodon": "/verify_credentials",
    "bluesky": "getProfile",
}
FB_USAGE = '{"call_count": 100, "estimated_time_to_regain_access": 2}'
FAST_LINE = RetryPolicy(attempts=2, base_delay=0.01, max_delay=0.02, total_seconds=5)


def reset_in(seconds: int) -> int:
    return int(time.time()) + seconds


def rate_limit_fault(name: str) -> dict[str, Any]:
    """A 429 as each platform sends it, resetting in about 120 seconds."""
    reset = reset_in(120)
    faults: dict[str, dict[str, Any]] = {
        "line": {"body": {"message": "The API rate limit has been exceeded. Try again later."},
                 "headers": {"Retry-After": "120"}},
        "x": {"body": {"title": "Too Many Requests", "status": 429},
              "headers": {"x-rate-limit-remaining": "0", "x-rate-limit-reset": str(reset)}},
        "facebook": {"body": {"error": {"message": "(#32) Page request limit reached", "code": 32}},
                     "headers": {"x-page-usage": FB_USAGE}},
        "mastodon": {"body": {"error": "Too many requests"},
                     "headers": {"X-RateLimit-Remaining": "0",
                                 "X-RateLimit-Reset": dt.datetime.fromtimestamp(reset, dt.UTC).isoformat()}},
        "bluesky": {"body": {"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"},
                    "headers": {"ratelimit-remaining": "0", "ratelimit-reset": str(reset)}},
    }  # fmt: skip
    return faults[name]


def make_channel(name: str, settings: Settings) -> Channel:
    return LineChannel(settings, retry=FAST_LINE) if name == "line" else build(name, settings)


@pytest.fixture(params=CHANNEL_NAMES)
def name(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def settings(fakes: Fakes) -> Settings:
    return make_settings(
        "sqlite://", **fakes.settings(), notifier_request_timeout=0.5, line_request_timeout=0.5
    )


@pytest.fixture
def channel(name: str, settings: Settings) -> Channel:
    return make_channel(name, settings)


def outgoing(channel: Channel, **changes: Any) -> Outgoing:
    base: dict[str, Any] = {
        "delivery_id": 1,
        "key": channel.new_key(),
        "texts": {"ja": [TEXT]},
        "link": "https://www.city.suita.osaka.jp/",
        "topic": None,
        "attempt": 1,
        "resumed": False,
    }
    base.update(changes)
    return Outgoing(**base)


def run(channel: Channel, *calls: Any) -> list[Any]:
    """Run coroutine factories, then close the channel, in one event loop (clients belong to it)."""

    async def go() -> list[Any]:
        try:
            return [await c(channel) for c in calls]
        finally:
            await channel.aclose()

    return run_async(go())


def send_outcome(channel: Channel, out: Outgoing) -> Any:
    """What `send` returns, or the exception it raises."""

    async def send(ch: Channel) -> Any:
        try:
            return await ch.send(out)
        except Exception as exc:
            return exc

    return run(channel, send)[0]


def test_declared_header(name: str) -> None:
    cls = CHANNELS[name]
    assert cls.name == name and cls.limit > 0 and cls.max_messages >= 1 and cls.credentials
    assert cls.idempotent == (name in ("line", "mastodon", "bluesky"))


def test_success_publishes_once(name: str, channel: Channel, fakes: Fakes) -> None:
    sent = send_outcome(channel, outgoing(channel))
    assert not isinstance(sent, Exception), sent
    assert sent.platform_id
    published = fakes.published(name)
    assert len(published) == 1
    assert TEXT.split()[0] in str(published[0])


@pytest.mark.parametrize(("status", "error"), [(400, Rejected), (401, Rejected), (503, ServerError)])
def test_error_statuses(
    name: str, channel: Channel, fakes: Fakes, status: int, error: type[ChannelError]
) -> None:
    fakes[name].platform.fail("status", status=status, path=PATHS[name], times=-1)
    outcome = send_outcome(channel, outgoing(channel))
    assert isinstance(outcome, error), outcome
    assert outcome.http_status in (status, None) if name == "line" else outcome.http_status == status
    assert fakes.published(name) == []


def test_rate_limit_carries_the_reset_time(name: str, channel: Channel, fakes: Fakes) -> None:
    fakes[name].platform.fail("status", status=429, path=PATHS[name], **rate_limit_fault(name))
    outcome = send_outcome(channel, outgoing(channel))
    assert isinstance(outcome, RateLimited), outcome
    assert outcome.retry_at is not None
    wait = (outcome.retry_at - dt.datetime.now(dt.UTC)).total_seconds()
    assert 60 < wait <= 130
    assert fakes.published(name) == []


def test_timeout_without_effect_is_ambiguous(name: str, channel: Channel, fakes: Fakes) -> None:
    fakes[name].platform.fail("timeout", seconds=2.0, path=PATHS[name], times=-1)
    outcome = send_outcome(channel, outgoing(channel))
    assert isinstance(outcome, Ambiguous) and not isinstance(outcome, ServerError), outcome
    assert fakes.published(name) == []


def test_unreachable_platform_is_retryable(name: str, fakes: Fakes) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{s.getsockname()[1]}"
    base = {"line": "line_api_base_url", "x": "x_api_base_url", "facebook": "facebook_api_base_url"}
    key = base.get(name, f"{name}_api_base_url")
    settings = make_settings("sqlite://", **{**fakes.settings(), key: closed}, line_request_timeout=0.5)
    channel = make_channel(name, settings)
    outcome = send_outcome(channel, outgoing(channel))
    if name == "line":  # the adapter retries connection errors itself, then reports LINE unavailable
        assert isinstance(outcome, Ambiguous), outcome
    else:
        assert isinstance(outcome, Retryable), outcome


def test_unclear_outcome_never_publishes_twice(name: str, channel: Channel, fakes: Fakes) -> None:
    """The call took effect but the answer never came. Keyed channels: a retry with the same key is
    harmless. X and Facebook: the post is found among the account's recent posts instead."""
    fakes[name].platform.fail("timeout_after", seconds=2.0, path=PATHS[name])
    out = outgoing(channel)
    first = send_outcome(channel, out)
    if name == "line":  # the adapter retries with the same key at once: LINE answers 409 = accepted
        assert not isinstance(first, Exception) and first.note == "accepted earlier (retry key)", first
    else:
        assert isinstance(first, Ambiguous), first
    assert len(fakes.published(name)) == 1
    if channel.idempotent:
        again = send_outcome(channel, outgoing(channel, key=out.key, attempt=2, resumed=True))
        assert not isinstance(again, Exception), again
    else:
        since = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
        (found,) = run(channel, lambda ch: ch.find_sent(out, since))
        assert found is not None
    assert len(fakes.published(name)) == 1


def test_follower_count(name: str, settings: Settings, channel: Channel, fakes: Fakes) -> None:
    day = dt.date(2030, 3, 31)
    if name == "line":
        line: Any = fakes.line.platform
        line.set_insight(day, followers=53_051, targetedReaches=40_000, blocks=1_000)
    (count,) = run(channel, lambda ch: ch.follower_count(day))
    assert count.status == "ok" and isinstance(count.followers, int) and count.followers > 0
    fakes[name].platform.fail("status", status=500, path=FOLLOWER_PATHS[name], times=-1)
    (broken,) = run(make_channel(name, settings), lambda ch: ch.follower_count(day))
    assert broken.status == "error" and broken.followers is None and broken.reason
