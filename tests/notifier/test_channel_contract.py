"""The contract every channel keeps, checked with the real SDK clients against the fakes over HTTP:
what is published, and which `ChannelError` each failure becomes (the engine relies on these)."""

from __future__ import annotations

import datetime as dt
import json
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
FAST_LINE = RetryPolicy(attempts=2, base_delay=0.01, max_delay=0.02, total_seconds=5)


def page_usage(percent: int, minutes: int = 0) -> dict[str, str]:
    """The usage headers of a call with a Page token: the app's (low) and the Page's."""
    entry = {"type": "pages", "call_count": percent, "total_time": 1, "total_cputime": 1}
    entry |= {"estimated_time_to_regain_access": minutes} if minutes else {}
    return {
        "x-app-usage": '{"call_count": 3, "total_time": 1, "total_cputime": 1}',
        "x-business-use-case-usage": json.dumps({"100200300400500": [entry]}),
    }


APP_SPENT = '{"call_count": 100, "total_time": 20, "total_cputime": 9}'


def graph_error(code: int) -> dict[str, Any]:
    return {"error": {"message": f"(#{code}) limit reached", "type": "OAuthException", "code": code}}


# (channel, status, body, headers, seconds until the retry (low, high)): a spent rate limit as each
# platform answers it. Facebook never sends 429; LINE sends no Retry-After; X's 24-hour cap resets
# later than its 15-minute window.
RATE_LIMITS: list[tuple[str, int, Any, dict[str, str], tuple[float, float]]] = [
    ("line", 429, {"message": "The API rate limit has been exceeded. Try again later."}, {}, (45, 61)),
    ("x", 429, {"title": "Too Many Requests", "status": 429},
     {"x-rate-limit-remaining": "0", "x-rate-limit-reset": "+120"}, (100, 121)),
    ("x", 429, {"title": "Too Many Requests", "status": 429},
     {"x-rate-limit-remaining": "57", "x-rate-limit-reset": "+120",
      "x-user-limit-24hour-remaining": "0", "x-user-limit-24hour-reset": "+72000"}, (71_980, 72_001)),
    ("x", 429, {"title": "Too Many Requests", "status": 429},
     {"x-rate-limit-remaining": "57", "x-rate-limit-reset": "+120",
      "x-app-limit-24hour-remaining": "0", "x-app-limit-24hour-reset": "+3600"}, (3580, 3601)),
    ("facebook", 400, graph_error(32), page_usage(100, minutes=2), (100, 121)),
    ("facebook", 400, graph_error(4), {**page_usage(5), "x-app-usage": APP_SPENT}, (280, 301)),
    ("facebook", 403, graph_error(17), {}, (280, 301)),
    ("facebook", 400, graph_error(613), page_usage(40), (280, 301)),
    ("mastodon", 429, {"error": "Too many requests"},
     {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "+120"}, (100, 121)),
    ("bluesky", 429, {"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"},
     {"ratelimit-remaining": "0", "ratelimit-reset": "+120"}, (100, 121)),
]  # fmt: skip


def absolute(headers: dict[str, str]) -> dict[str, str]:
    """Reset headers written "+seconds" as the platform sends them: epoch seconds (Mastodon: ISO 8601)."""
    out = {}
    for key, value in headers.items():
        if value.startswith("+"):
            at = int(time.time()) + int(value[1:])
            value = dt.datetime.fromtimestamp(at, dt.UTC).isoformat() if key.startswith("X-") else str(at)
        out[key] = value
    return out


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


@pytest.mark.parametrize(
    ("channel_name", "status", "body", "headers", "wait"),
    RATE_LIMITS,
    ids=[f"{r[0]}-{r[1]}-{i}" for i, r in enumerate(RATE_LIMITS)],
)
def test_rate_limit_carries_the_reset_time(
    settings: Settings,
    fakes: Fakes,
    channel_name: str,
    status: int,
    body: Any,
    headers: dict[str, str],
    wait: tuple[float, float],
) -> None:
    channel = make_channel(channel_name, settings)
    path = PATHS[channel_name]
    fakes[channel_name].platform.fail(
        "status", status=status, body=body, headers=absolute(headers), path=path
    )
    outcome = send_outcome(channel, outgoing(channel))
    assert isinstance(outcome, RateLimited), outcome
    assert outcome.retry_at is not None
    seconds = (outcome.retry_at - dt.datetime.now(dt.UTC)).total_seconds()
    assert wait[0] < seconds <= wait[1], seconds
    assert fakes.published(channel_name) == []


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


# ---- each platform's own rules (issue 17), checked against fakes that keep them -------------------


def test_bluesky_renews_a_session_the_pds_ended(settings: Settings, fakes: Fakes) -> None:
    """A PDS answers an expired or revoked token with 400 ExpiredToken (not 401): the channel refreshes
    the session and retries once; with the refresh token revoked too, it logs in again."""
    channel = make_channel("bluesky", settings)
    pds: Any = fakes.bluesky.platform

    async def three_posts(ch: Channel) -> list[Any]:
        first = await ch.send(outgoing(ch))
        pds.revoke_tokens()
        second = await ch.send(outgoing(ch))
        pds.revoke_tokens(refresh=True)
        third = await ch.send(outgoing(ch))
        return [first, second, third]

    (sent,) = run(channel, three_posts)
    assert all(p.platform_id for p in sent) and len(fakes.published("bluesky")) == 3
    assert len(fakes.bluesky.state.find("refreshSession")) == 2  # the second refresh is refused
    assert len(fakes.bluesky.state.find("createSession")) == 2  # the first login, then a new one
    assert len(fakes.bluesky.state.find("createRecord")) == 5  # two calls refused, each retried once


@pytest.mark.parametrize(
    ("text", "links"),
    [
        (
            "詳しくはhttps://www.city.suita.osaka.jp/kurashi/をご覧ください",
            ["https://www.city.suita.osaka.jp/kurashi/"],
        ),
        (
            "😀 https://www.city.suita.osaka.jp/gomi」です。（https://example.jp/a）",
            ["https://www.city.suita.osaka.jp/gomi", "https://example.jp/a"],
        ),
        (
            "市のサイト https://www.city.suita.osaka.jp/?a=1&b=2. 以上",
            ["https://www.city.suita.osaka.jp/?a=1&b=2"],
        ),
    ],
)
def test_bluesky_links_end_where_the_url_ends(
    settings: Settings, fakes: Fakes, text: str, links: list[str]
) -> None:
    channel = make_channel("bluesky", settings)
    sent = send_outcome(channel, outgoing(channel, texts={"ja": [text]}))
    assert not isinstance(sent, Exception), sent
    (record,) = fakes.published("bluesky")
    facets = record["value"]["facets"]
    data = text.encode("utf-8")
    assert [f["features"][0]["uri"] for f in facets] == links
    assert [data[f["index"]["byteStart"] : f["index"]["byteEnd"]].decode() for f in facets] == links


def test_x_recognises_its_post_although_x_escapes_and_shortens_it(settings: Settings, fakes: Fakes) -> None:
    """X returns `&amp; &lt; &gt;` and t.co links; a link ends before the Japanese that follows it."""
    channel = make_channel("x", settings)
    text = "粗大ごみ & 資源ごみ <年末年始> 詳しくはhttps://www.city.suita.osaka.jp/kurashi/をご覧ください"
    fakes.x.platform.fail("timeout_after", seconds=2.0, path=PATHS["x"])
    out = outgoing(channel, texts={"ja": [text]})
    assert isinstance(send_outcome(channel, out), Ambiguous)
    (tweet,) = fakes.published("x")
    assert (
        "&" in tweet["text"] and "https://t.co/" in tweet["text"] and tweet["text"].endswith("をご覧ください")
    )
    since = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    (found,) = run(make_channel("x", settings), lambda ch: ch.find_sent(out, since))
    assert found == tweet["id"]


def test_x_duplicate_content_is_the_post_only_when_found(settings: Settings, fakes: Fakes) -> None:
    channel = make_channel("x", settings)
    out = outgoing(channel, first_attempt_at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1))
    first = send_outcome(channel, out)
    again = send_outcome(make_channel("x", settings), out)  # 403 duplicate content: found, so it is ours
    assert not isinstance(again, Exception) and again.platform_id == first.platform_id
    x: Any = fakes.x.platform
    x.tweets[0]["created_at"] -= dt.timedelta(days=3)  # an identical post the lookup cannot see
    unclear = send_outcome(make_channel("x", settings), out)
    assert isinstance(unclear, Ambiguous) and "duplicate content" in unclear.reason, unclear
    assert len(fakes.published("x")) == 1


@pytest.mark.parametrize("version", [None, "v25.0"])
def test_facebook_calls_the_configured_graph_version(
    fakes: Fakes, settings: Settings, version: str | None
) -> None:
    from notifier.channels.facebook_channel import CURRENT_VERSION

    if version is not None:
        settings = settings.model_copy(update={"facebook_api_version": version})
    channel = make_channel("facebook", settings)
    assert not isinstance(send_outcome(channel, outgoing(channel)), Exception)
    (call,) = fakes.facebook.state.find("/feed")
    assert call.path.startswith(f"/{version or CURRENT_VERSION}/") and CURRENT_VERSION == "v27.0"


def test_mastodon_limits_are_the_instance_s_and_keys_expire_as_there(
    settings: Settings, fakes: Fakes, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fakes.fake_mastodon import KEY_TTL
    from notifier.channels.mastodon_channel import MastodonChannel

    instance: Any = fakes.mastodon.platform
    instance.max_characters = 800
    limits = MastodonChannel.limits(settings)
    assert (limits.limit, limits.source) == (800, "instance")
    assert MastodonChannel.key_ttl is not None and MastodonChannel.key_ttl <= KEY_TTL
    channel = make_channel("mastodon", settings)
    out = outgoing(channel)
    first = send_outcome(channel, out)
    again = send_outcome(make_channel("mastodon", settings), out)
    assert again.platform_id == first.platform_id and len(fakes.published("mastodon")) == 1
    monkeypatch.setattr(instance, "clock", lambda: time.time() + KEY_TTL + 1)
    send_outcome(make_channel("mastodon", settings), out)  # the server has forgotten the key
    assert len(fakes.published("mastodon")) == 2


def test_bluesky_record_keys_are_tids(fakes: Fakes) -> None:
    from fakes.fake_bluesky import TID
    from notifier.channels.bluesky_channel import BlueskyChannel

    assert all(TID.fullmatch(BlueskyChannel.new_key()) for _ in range(100))


def test_bluesky_limits_count_the_record_s_bytes(settings: Settings, fakes: Fakes) -> None:
    """A post record holds at most 300 graphemes and 3,000 UTF-8 bytes: 121 family emoji are few
    graphemes but 3,025 bytes, so the channel's limits refuse what the PDS would refuse."""
    from notifier.channels.bluesky_channel import BlueskyChannel

    family = "👨‍👩‍👧‍👦"  # one grapheme, 25 bytes
    limits = BlueskyChannel.limits(settings)
    assert limits.problems(family * 120, "Bluesky") == []
    assert any("the limit is 3000" in en for _, en in limits.problems(family * 121, "Bluesky"))
    channel = make_channel("bluesky", settings)
    assert not isinstance(send_outcome(channel, outgoing(channel, texts={"ja": [family * 120]})), Exception)
    over = make_channel("bluesky", settings)
    refused = send_outcome(over, outgoing(over, texts={"ja": [family * 121]}))
    assert isinstance(refused, Rejected) and refused.http_status == 400, refused
    assert "3000 characters" in str(refused), refused
    assert len(fakes.published("bluesky")) == 1
