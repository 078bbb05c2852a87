"""The LINE adapter driving the real line-bot-sdk against the fake LINE server over HTTP:
every method, retries (5xx, timeouts, 409 = success), typed errors, logging."""

from __future__ import annotations

import datetime as dt
import logging
import socket
import uuid
from typing import Any

import pytest
from linebot.v3.messaging import (
    MessageAction,
    QuickReply,
    QuickReplyItem,
    RichMenuArea,
    RichMenuBounds,
    RichMenuRequest,
    RichMenuSize,
    TextMessage,
)
from pydantic import SecretStr

from app.settings import ConfigError, Settings
from fakes.fake_line import FakeLine
from fakes.fake_server import FakeServer
from platforms.line_api import (
    LineApi,
    LineApiError,
    LineAuthError,
    LineClientError,
    LineNotFound,
    LineRateLimited,
    LineRequestInvalid,
    LineUnavailable,
    ReplyTokenInvalid,
    RetryPolicy,
)
from tests.conftest import make_settings
from tests.line_fixtures import FAST_RETRY, LINE_TOKEN, ManualClock, png, user_id

pytestmark = pytest.mark.anyio
U1, U2, U3 = user_id(1), user_id(2), user_id(3)


def hello(text: str = "こんにちは") -> TextMessage:
    return TextMessage(text=text)


def key() -> str:
    return str(uuid.uuid4())


async def test_reply_with_quick_reply(line_api: LineApi, fake_line: FakeLine) -> None:
    token = fake_line.issue_reply_token(U1)
    quick = QuickReply(items=[QuickReplyItem(action=MessageAction(label="はい", text="はい"))])
    sent = await line_api.reply(token, [TextMessage(text="役に立ちましたか？", quick_reply=quick)])
    (delivery,) = fake_line.deliveries("reply")
    assert sent.request_id == delivery.request_id and len(sent.message_ids) == 1
    assert delivery.to == [U1] and delivery.messages[0]["quickReply"]["items"][0]["action"]["text"] == "はい"


async def test_every_client_keeps_enough_connections_for_parallel_multicasts(line_api: LineApi) -> None:
    """The SDK's default pool (cpu_count x 5) would cap a topic push's parallel chunks on small servers."""
    from notifier.channels.line_channel import PARALLEL_CHUNKS
    from platforms.line_api import MAX_CONNECTIONS

    clients = [line_api._messaging, line_api._blob, line_api._insight]
    limits = {c.api_client.rest_client.pool_manager.connector.limit for c in clients}
    assert limits == {MAX_CONNECTIONS} and MAX_CONNECTIONS >= PARALLEL_CHUNKS


@pytest.mark.parametrize("case", ["used", "expired", "unknown"])
async def test_reply_token_invalid(
    line_api: LineApi, fake_line: FakeLine, clock: ManualClock, case: str
) -> None:
    token = fake_line.issue_reply_token(U1)
    if case == "used":
        await line_api.reply(token, [hello()])
    elif case == "expired":
        clock.advance(61)
    else:
        token = "0" * 32
    with pytest.raises(ReplyTokenInvalid) as err:
        await line_api.reply(token, [hello("again")])
    assert err.value.status == 400 and err.value.request_id and not err.value.maybe_delivered
    assert [m["text"] for m in fake_line.messages_for(U1)] == (["こんにちは"] if case == "used" else [])


async def test_reply_timeout_after_delivery_flags_maybe_delivered(
    impatient_line_api: LineApi, fake_line: FakeLine, line_server: FakeServer
) -> None:
    fake_line.fail("timeout_after", seconds=2.0, path="/reply")
    with pytest.raises(ReplyTokenInvalid) as err:
        await impatient_line_api.reply(fake_line.issue_reply_token(U1), [hello()])
    assert err.value.maybe_delivered
    assert len(fake_line.messages_for(U1)) == 1


async def test_push_retries_5xx_with_the_same_key_and_delivers_once(
    line_api: LineApi, fake_line: FakeLine, line_server: FakeServer
) -> None:
    fake_line.fail("status", status=500, path="/message/push", times=2)
    retry_key = key()
    sent = await line_api.push(U1, [hello()], retry_key)
    attempts = line_server.state.find("/message/push")
    assert [c.fault for c in attempts] == ["status", "status", None]
    assert {c.headers["x-line-retry-key"] for c in attempts} == {retry_key}
    assert len(fake_line.deliveries("push")) == 1 and not sent.accepted_before


async def test_timeout_then_success(
    impatient_line_api: LineApi, fake_line: FakeLine, line_server: FakeServer
) -> None:
    fake_line.fail("timeout", seconds=2.0, path="/message/broadcast")
    sent = await impatient_line_api.broadcast([hello()], key())
    assert len(line_server.state.find("/message/broadcast")) == 2
    assert [d.request_id for d in fake_line.broadcasts()] == [sent.request_id]


async def test_timeout_after_acceptance_then_409_is_success(
    impatient_line_api: LineApi, fake_line: FakeLine
) -> None:
    fake_line.fail("timeout_after", seconds=2.0, path="/message/push")
    sent = await impatient_line_api.push(U1, [hello()], key())
    (delivery,) = fake_line.deliveries("push")
    assert sent.accepted_before and sent.request_id == delivery.request_id and len(sent.message_ids) == 1


@pytest.mark.parametrize("method", ["push", "multicast", "broadcast", "narrowcast"])
async def test_repeated_retry_key_is_success_without_duplicate(
    line_api: LineApi, fake_line: FakeLine, method: str
) -> None:
    retry_key = uuid.uuid4()
    args: dict[str, tuple[Any, ...]] = {
        "push": (U1,),
        "multicast": ([U1, U2],),
        "broadcast": (),
        "narrowcast": (),
    }
    send = getattr(line_api, method)
    first = await send(*args[method], [hello()], retry_key)
    again = await send(*args[method], [hello()], retry_key)
    assert not first.accepted_before and again.accepted_before
    assert again.request_id == first.request_id
    assert len(fake_line.deliveries()) == 1


@pytest.mark.parametrize(
    ("status", "error"),
    [(400, LineClientError), (401, LineAuthError), (403, LineClientError), (404, LineNotFound)],
)
async def test_4xx_is_not_retried(
    line_api: LineApi, fake_line: FakeLine, line_server: FakeServer, status: int, error: type[LineApiError]
) -> None:
    body = {"message": f"refused for {U1}", "details": [{"message": "bad", "property": "to"}]}
    fake_line.fail(
        "status", status=status, body=body, headers={"x-line-request-id": "rid-1"}, path="/push", times=-1
    )
    with pytest.raises(error) as err:
        await line_api.push(U1, [hello()], key())
    assert type(err.value) is error and err.value.status == status and err.value.request_id == "rid-1"
    assert U1 not in str(err.value)  # user IDs in LINE's message are masked
    assert len(line_server.state.find("/push")) == 1 and fake_line.deliveries() == []


async def test_real_401_from_a_wrong_token(line_settings: Settings, fake_line: FakeLine) -> None:
    settings = line_settings.model_copy(update={"line_channel_access_token": SecretStr("wrong")})
    async with LineApi.open(settings, retry=FAST_RETRY) as api:
        with pytest.raises(LineAuthError):
            await api.profile(U1)


@pytest.mark.parametrize(
    ("headers", "message", "kind", "retry_after"),
    [
        ({"Retry-After": "30"}, "The API rate limit has been exceeded. Try again later.", "rate_limit", 30.0),
        ({}, "You have reached your monthly limit.", "monthly_limit", None),
    ],
)
async def test_429_is_raised_with_its_cause(
    line_api: LineApi,
    fake_line: FakeLine,
    line_server: FakeServer,
    headers: dict[str, str],
    message: str,
    kind: str,
    retry_after: float | None,
) -> None:
    fake_line.fail("status", status=429, body={"message": message}, headers=headers, path="/multicast")
    with pytest.raises(LineRateLimited) as err:
        await line_api.multicast([U1, U2], [hello()], key())
    assert err.value.kind == kind and err.value.retry_after == retry_after
    assert len(line_server.state.find("/multicast")) == 1


async def test_fake_rate_limit_reaches_the_caller(line_api: LineApi, fake_line: FakeLine) -> None:
    fake_line.rate_limits["broadcast"] = (1, 3600.0)
    await line_api.broadcast([hello()], key())
    with pytest.raises(LineRateLimited) as err:
        await line_api.broadcast([hello()], key())
    assert err.value.kind == "rate_limit" and err.value.retry_after is None and err.value.request_id


async def test_gives_up_after_the_attempts(
    line_api: LineApi, fake_line: FakeLine, line_server: FakeServer
) -> None:
    fake_line.fail("status", status=503, path="/push", times=-1)
    with pytest.raises(LineUnavailable) as err:
        await line_api.push(U1, [hello()], key())
    assert err.value.attempts == FAST_RETRY.attempts == len(line_server.state.find("/push"))
    assert err.value.status == 503


async def test_total_time_bounds_the_retries(
    line_settings: Settings, fake_line: FakeLine, line_server: FakeServer
) -> None:
    fake_line.fail("status", status=502, path="/push", times=-1)
    policy = RetryPolicy(attempts=50, base_delay=0.05, max_delay=0.05, total_seconds=0.2)
    async with LineApi.open(line_settings, retry=policy) as api:
        with pytest.raises(LineUnavailable) as err:
            await api.push(U1, [hello()], key())
    assert 1 <= err.value.attempts < 10  # 9 delays of at least 25 ms exceed the 0.2 s budget


async def test_connection_refused_is_unavailable(line_settings: Settings) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings = line_settings.model_copy(update={"line_api_base_url": f"http://127.0.0.1:{port}"})
    async with LineApi.open(settings, retry=FAST_RETRY) as api:
        with pytest.raises(LineUnavailable) as err:
            await api.push(U1, [hello()], key())
    assert err.value.attempts == FAST_RETRY.attempts and err.value.status is None


@pytest.mark.parametrize(
    ("call", "reason"),
    [
        (lambda api: api.push(U1, [], key()), "1 to 5"),
        (lambda api: api.push(U1, [hello()] * 6, key()), "1 to 5"),
        (lambda api: api.broadcast([hello("a" * 5001)], key()), "5001 UTF-16"),
        (lambda api: api.broadcast([hello("😀" * 2501)], key()), "5002 UTF-16"),
        (lambda api: api.multicast([U1] * 501, [hello()], key()), "501 recipients"),
        (lambda api: api.push(U1, [hello()], "not-a-uuid"), "UUID"),
        (lambda api: api.reply("t", [hello()] * 6), "1 to 5"),
    ],
)
async def test_refused_before_sending(
    line_api: LineApi, line_server: FakeServer, call: Any, reason: str
) -> None:
    with pytest.raises(LineRequestInvalid, match=reason):
        await call(line_api)
    assert line_server.state.find("/v2/bot") == []


async def test_longest_text_is_sent(line_api: LineApi, fake_line: FakeLine) -> None:
    await line_api.push(U1, [hello("😀" * 2500)], key())
    assert len(fake_line.messages_for(U1)[0]["text"]) == 2500


async def test_multicast_narrowcast_and_progress(line_api: LineApi, fake_line: FakeLine) -> None:
    for uid in (U1, U2, U3):
        fake_line.add_follower(uid)
    await line_api.multicast([U1, U2], [hello("防災")], key())
    sent = await line_api.narrowcast([hello("全員")], key())
    assert [m["text"] for m in fake_line.messages_for(U1)] == ["防災"] and fake_line.messages_for(U3) == []
    waiting = await line_api.narrowcast_progress(str(sent.request_id))  # LINE prepares it first
    assert (waiting.phase, waiting.success_count, waiting.target_count) == ("waiting", None, None)
    progress = await line_api.narrowcast_progress(str(sent.request_id))
    assert (progress.phase, progress.success_count, progress.target_count) == ("succeeded", 3, 3)
    fake_line.set_narrowcast_progress(
        str(sent.request_id), phase="failed", errorCode=2, failedDescription="few"
    )
    failed = await line_api.narrowcast_progress(str(sent.request_id))
    assert (failed.phase, failed.error_code, failed.failed_description) == ("failed", 2, "few")


async def test_profile(line_api: LineApi, fake_line: FakeLine) -> None:
    fake_line.set_profile(U1, "Alice", "en", picture_url="https://example.com/a.png")
    profile = await line_api.profile(U1)
    assert (profile.user_id, profile.display_name, profile.language) == (U1, "Alice", "en")
    assert profile.picture_url == "https://example.com/a.png" and profile.status_message is None
    with pytest.raises(LineNotFound):
        await line_api.profile(U2)


@pytest.mark.parametrize(
    ("status", "counts", "expected"),
    [
        ("ready", {"followers": 90400, "targeted_reaches": 70000, "blocks": 5000}, ("ok", 90400, 85400)),
        ("unready", {}, ("unready", None, None)),
        ("out_of_service", {}, ("error", None, None)),
    ],
)
async def test_followers(
    line_api: LineApi, fake_line: FakeLine, status: str, counts: dict[str, int], expected: tuple[Any, ...]
) -> None:
    date = dt.date(2024, 3, 31)
    fake_line.set_insight(date, status, **counts)
    count = await line_api.followers(date)
    assert (count.status, count.followers, count.details.get("friends")) == expected
    assert (count.reason is not None) == (expected[0] == "error")
    if status == "ready":
        assert count.details == {"targeted_reaches": 70000, "blocks": 5000, "friends": 85400}


@pytest.mark.parametrize("status", [500, 429, 403])
async def test_followers_error_is_a_status(line_api: LineApi, fake_line: FakeLine, status: int) -> None:
    fake_line.fail("status", status=status, body={"message": "no"}, path="/insight", times=-1)
    count = await line_api.followers(dt.date(2024, 3, 31))
    assert count.status == "error" and count.followers is None and str(status) in str(count.reason)


async def test_follower_ids_quota_and_loading(
    line_api: LineApi, fake_line: FakeLine, line_server: FakeServer
) -> None:
    for n in range(3):
        fake_line.add_follower(user_id(n))
    ids, start = await line_api.follower_ids(limit=2)
    rest, end = await line_api.follower_ids(start=start, limit=2)
    assert ids + rest == [user_id(0), user_id(1), user_id(2)] and end is None
    await line_api.push(U1, [hello()], key())
    fake_line.quota_limit = 1000
    quota = await line_api.quota()
    assert (quota.limit, quota.used) == (1000, 1)
    await line_api.show_loading(U1, 7)
    (call,) = line_server.state.find("/chat/loading/start")
    assert call.json == {"chatId": U1, "loadingSeconds": 10}


async def test_rich_menu_deploy(line_api: LineApi, fake_line: FakeLine) -> None:
    menu = RichMenuRequest(
        size=RichMenuSize(width=2500, height=843),
        selected=True,
        name="suita-main",
        chat_bar_text="メニュー",
        areas=[
            RichMenuArea(
                bounds=RichMenuBounds(x=0, y=0, width=2500, height=843), action=MessageAction(text="FAQ")
            )
        ],
    )
    menu_id = await line_api.create_rich_menu(menu)
    await line_api.upload_rich_menu_image(menu_id, png(2500, 843))
    await line_api.set_default_rich_menu(menu_id)
    await line_api.create_rich_menu_alias("main", menu_id)
    (info,) = await line_api.rich_menus()
    assert (info.rich_menu_id, info.name, info.chat_bar_text, info.selected) == (
        menu_id,
        "suita-main",
        "メニュー",
        True,
    )
    state = fake_line.dump()
    assert state["defaultRichMenuId"] == menu_id and state["richMenuAliases"] == {"main": menu_id}
    with pytest.raises(LineClientError):
        await line_api.upload_rich_menu_image(menu_id, png(2500, 843))  # one image per menu
    await line_api.delete_rich_menu(menu_id)
    assert await line_api.rich_menus() == []


async def test_logs_request_ids_but_no_token_or_user_id(
    line_api: LineApi, fake_line: FakeLine, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    fake_line.fail("status", status=500, path="/push")
    await line_api.push(U1, [hello()], key())
    records = [r for r in caplog.records if r.name == "platforms.line_api"]
    (delivery,) = fake_line.deliveries("push")
    assert [getattr(r, "status", None) for r in records] == [500, 200]
    assert records[-1].line_request_id == delivery.request_id  # type: ignore[attr-defined]
    assert records[-1].to == "U0000…0001"  # type: ignore[attr-defined]
    text = caplog.text + " ".join(str(vars(r)) for r in caplog.records)
    assert LINE_TOKEN not in text and U1 not in text


async def test_sdk_debug_logs_do_not_leak_profiles(
    line_api: LineApi, fake_line: FakeLine, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # the SDK's Configuration keeps its own loggers at WARNING
    fake_line.set_profile(U1, "吹田花子", "ja")
    await line_api.profile(U1)
    assert caplog.records and "吹田花子" not in caplog.text and U1 not in caplog.text


async def test_official_host_needs_a_token() -> None:
    with pytest.raises(ConfigError, match="LINE_CHANNEL_ACCESS_TOKEN"):
        async with LineApi.open(make_settings("sqlite://")):
            pass


@pytest.mark.parametrize(
    ("retry", "rand", "expected"),
    [(1, 0.0, 0.25), (1, 1.0, 0.5), (2, 0.0, 0.5), (3, 0.5, 1.5), (5, 1.0, 8.0), (9, 0.0, 4.0)],
)
def test_backoff_delay(retry: int, rand: float, expected: float) -> None:
    assert RetryPolicy(base_delay=0.5, max_delay=8.0).delay(retry, rand) == pytest.approx(expected)
