"""`POST /line/webhook` over HTTP: every bad input, de-duplication (also across two app instances),
standby, and that a bug never becomes a 500."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from functools import partial
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from app.settings import Settings
from bot.bot_tables import DeadLetter, InboxEvent
from fakes import fake_line_events as ev
from fakes.fake_line import FakeLine
from tests.bot.conftest import make_bot_app, use_faq
from tests.bot.helpers import CHANNEL_SECRET, post, wait_for, worker_idle
from tests.line_fixtures import user_id

U1 = user_id(101)
MB = 1024 * 1024


def count(sessions: sessionmaker[Session], model: Any) -> int:
    with sessions() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def dead_reasons(sessions: sessionmaker[Session]) -> list[str]:
    with sessions() as s:
        return list(s.scalars(select(DeadLetter.reason)))


def _signed(raw: bytes) -> dict[str, str]:
    return ev.signed(raw, CHANNEL_SECRET)


def _text(raw_text: str = "住民票をコンビニで取りたい") -> bytes:
    return ev.body([ev.text_event(U1, raw_text)])


def _without_quote_token(event: ev.Event) -> ev.Event:
    return {**event, "message": {k: v for k, v in event["message"].items() if k != "quoteToken"}}


def _padded() -> bytes:
    event = ev.text_event(U1, "x" * (MB + 10))
    return ev.body([event])


BAD_INPUTS: list[tuple[str, Callable[[], tuple[bytes, dict[str, str]]], int, str | None]] = [
    ("no signature", lambda: (_text(), {"content-type": "application/json"}), 400, None),
    ("wrong signature", lambda: (_text(), {**_signed(_text()), "x-line-signature": "AAAA"}), 400, None),
    ("other channel's secret", lambda: (_text(), ev.signed(_text(), "another-secret")), 400, None),
    ("body changed after signing", lambda: (_text() + b" ", _signed(_text())), 400, None),
    ("malformed JSON", lambda: (b'{"events": [', _signed(b'{"events": [')), 400, None),
    ("not UTF-8", lambda: (b"\xff\xfe", _signed(b"\xff\xfe")), 400, None),
    (
        "JSON without events",
        lambda: (b'{"destination": "U1"}', _signed(b'{"destination": "U1"}')),
        200,
        "no `events`",
    ),
    ("JSON array", lambda: (b"[]", _signed(b"[]")), 200, "no `events`"),
    (
        "verify button",
        lambda: (b'{"destination": "U1", "events": []}', _signed(b'{"destination": "U1", "events": []}')),
        200,
        None,
    ),
]


@pytest.mark.parametrize(("case", "make", "status", "dead"), BAD_INPUTS, ids=[c[0] for c in BAD_INPUTS])
def test_bad_input_is_refused_or_dead_lettered(
    bot_client: TestClient,
    fake_line: FakeLine,
    sessions: sessionmaker[Session],
    case: str,
    make: Callable[[], tuple[bytes, dict[str, str]]],
    status: int,
    dead: str | None,
) -> None:
    raw, headers = make()
    r = bot_client.post("/line/webhook", content=raw, headers=headers)
    assert r.status_code == status, r.text
    if status == 400:
        assert r.json()["detail"] in ("invalid signature", "the body is not valid JSON")
    assert count(sessions, InboxEvent) == 0
    reasons = dead_reasons(sessions)
    assert (reasons == []) if dead is None else (len(reasons) == 1 and dead in reasons[0])
    assert fake_line.deliveries() == []


@pytest.mark.parametrize(
    ("event", "reason", "after"),
    [
        (
            {**ev.text_event(U1, "x"), "source": {"type": "space"}},
            "a Source of a type it does not know",
            False,
        ),
        ({**ev.text_event(U1, "x"), "mode": "dormant"}, "mode", False),
        (
            {k: v for k, v in ev.text_event(U1, "x").items() if k != "deliveryContext"},
            "deliveryContext",
            True,
        ),
        (_without_quote_token(ev.text_event(U1, "x")), "quoteToken", True),
        ({**ev.text_event(U1, "x"), "message": {"id": "1", "type": "image"}}, "(message type 'image')", True),
    ],
    ids=["unknown source", "unknown mode", "missing field", "missing nested field", "bad image message"],
)
def test_signed_events_the_sdk_cannot_parse_are_kept_with_the_reason(
    bot_client: TestClient,
    fake_line: FakeLine,
    sessions: sessionmaker[Session],
    event: ev.Event,
    reason: str,
    after: bool,
) -> None:
    """Events of a common shape are parsed by the SDK after the 200 (`after`), the others before it;
    either way the refused event ends in the dead letters with the SDK's reason, and a good event
    in the same body is answered."""
    good = ev.text_event(user_id(102), "メニュー", fake_line.issue_reply_token(user_id(102)))
    assert post(bot_client, [event, good]).status_code == 200
    if not after:
        assert len(dead_reasons(sessions)) == 1
    (stored,) = wait_for(lambda: dead_reasons(sessions), what="the dead letter")
    assert reason in stored
    wait_for(lambda: fake_line.messages_for(user_id(102)), what="the good event's reply")
    worker_idle(bot_client)
    with sessions() as s:
        rows = {r.event_id: r for r in s.scalars(select(InboxEvent))}
    assert rows[good["webhookEventId"]].status == "done"
    refused = rows.get(event["webhookEventId"])
    if after:  # its ID stays, so a redelivery is recognised and not dead-lettered twice
        assert refused is not None and refused.status == "failed" and refused.error is not None
        assert reason in refused.error and refused.payload is None
        assert post(bot_client, [{**event, "deliveryContext": {"isRedelivery": True}}]).status_code == 200
        worker_idle(bot_client)
        assert len(dead_reasons(sessions)) == 1
    else:
        assert refused is None


def test_a_bug_while_parsing_after_the_200_is_dead_lettered(
    bot_client: TestClient,
    fake_line: FakeLine,
    sessions: sessionmaker[Session],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(raw: Any, channel: str = "line") -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr("bot.inbox.reply_preparer.parse_event", broken)
    assert post(bot_client, [ev.text_event(U1, "電話 06-1111-2222")]).status_code == 200
    (reason,) = wait_for(lambda: dead_reasons(sessions), what="the dead letter")
    assert reason == "internal error while parsing: RuntimeError"
    with sessions() as s:
        body = s.scalar(select(DeadLetter.body))
        status = s.scalar(select(InboxEvent.status))
    assert body is not None and "06-1111-2222" not in body and U1 not in body
    assert status == "failed" and fake_line.deliveries() == []


def test_over_one_megabyte_is_413(bot_client: TestClient, sessions: sessionmaker[Session]) -> None:
    raw = _padded()
    assert bot_client.post("/line/webhook", content=raw, headers=_signed(raw)).status_code == 413
    assert count(sessions, InboxEvent) == 0


def test_streamed_body_over_one_megabyte_is_413(
    bot_client: TestClient, sessions: sessionmaker[Session]
) -> None:
    raw = _padded()

    def chunks() -> Any:
        for i in range(0, len(raw), 64 * 1024):
            yield raw[i : i + 64 * 1024]

    r = bot_client.post("/line/webhook", content=chunks(), headers=_signed(raw))
    assert r.status_code == 413
    assert count(sessions, InboxEvent) == 0


def test_a_body_just_under_the_limit_is_accepted(bot_client: TestClient, fake_line: FakeLine) -> None:
    text = "あ" * 340_000  # ~1 MB of UTF-8 once wrapped in the event
    raw = ev.body([ev.text_event(U1, text, fake_line.issue_reply_token(U1))])
    assert len(raw) < MB
    assert bot_client.post("/line/webhook", content=raw, headers=_signed(raw)).status_code == 200
    (reply,) = wait_for(lambda: fake_line.messages_for(U1), what="reply")
    assert reply["text"].startswith("※ 質問が長かったため")


def test_a_bug_while_parsing_is_dead_lettered_not_500(
    bot_client: TestClient, sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(body: bytes) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr("bot.intake.webhook.split_body", broken)
    r = post(bot_client, [ev.text_event(U1, "電話 06-1111-2222")])
    assert r.status_code == 200
    (reason,) = dead_reasons(sessions)
    assert reason == "internal error while parsing: RuntimeError"
    with sessions() as s:
        body = s.scalar(select(DeadLetter.body))
    assert body is not None and "06-1111-2222" not in body and U1 not in body


def test_database_unavailable_is_503_so_line_can_redeliver(
    bot_settings: Settings, fake_line: FakeLine, tmp_path: Any
) -> None:
    settings = bot_settings.model_copy(update={"database_url": f"sqlite:///{tmp_path / 'not-migrated.db'}"})
    with TestClient(make_bot_app(settings)) as client:
        r = post(client, [ev.text_event(U1, "こんにちは")])
    assert r.status_code == 503 and r.json() == {"detail": "storage unavailable"}


def test_standby_events_are_not_answered(
    bot_client: TestClient, fake_line: FakeLine, sessions: sessionmaker[Session]
) -> None:
    token = fake_line.issue_reply_token(U1)
    events = [
        ev.text_event(U1, "メニュー", token, mode="standby"),
        ev.postback_event(U1, "a=menu", mode="standby"),
    ]
    assert post(bot_client, events).status_code == 200
    assert count(sessions, InboxEvent) == 0 and fake_line.deliveries() == []


# ---- de-duplication ----------------------------------------------------------------------------


def test_same_event_twice_is_handled_once(
    bot_client: TestClient, fake_line: FakeLine, sessions: sessionmaker[Session]
) -> None:
    event = ev.text_event(U1, "メニュー", fake_line.issue_reply_token(U1))
    assert post(bot_client, [event]).status_code == 200
    wait_for(lambda: fake_line.messages_for(U1), what="first reply")
    redelivered = {**event, "deliveryContext": {"isRedelivery": True}}
    assert post(bot_client, [redelivered, event]).status_code == 200
    worker_idle(bot_client)
    assert len(fake_line.messages_for(U1)) == 1
    assert count(sessions, InboxEvent) == 1
    assert [c.path for c in fake_line.state.find("/v2/bot/message")] == ["/v2/bot/message/reply"]


def test_duplicates_across_two_app_instances_are_handled_once(
    bot_settings: Settings, fake_line: FakeLine, sessions: sessionmaker[Session]
) -> None:
    """Two processes' worth of app (own worker, own adapter) on one database receive the same events
    at the same moment: every event is stored once and answered once."""
    apps: list[FastAPI] = [make_bot_app(bot_settings), make_bot_app(bot_settings)]
    users = [user_id(200 + i) for i in range(8)]
    bodies = [ev.body([ev.text_event(u, "メニュー", fake_line.issue_reply_token(u))]) for u in users]
    with TestClient(apps[0]) as a, TestClient(apps[1]) as b:
        use_faq(apps[0])
        use_faq(apps[1])
        statuses: list[int] = []
        start = threading.Barrier(2 * len(bodies))

        def send(client: TestClient, raw: bytes) -> None:
            start.wait()
            statuses.append(client.post("/line/webhook", content=raw, headers=_signed(raw)).status_code)

        threads = [threading.Thread(target=send, args=(c, raw)) for raw in bodies for c in (a, b)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert statuses == [200] * len(threads)
        for u in users:
            wait_for(partial(fake_line.messages_for, u), what=f"reply to {u}")
        for client in (a, b):
            worker_idle(client)
    assert count(sessions, InboxEvent) == len(users)
    assert sorted(d.to[0] for d in fake_line.deliveries()) == sorted(users)
    with sessions() as s:
        assert set(s.scalars(select(InboxEvent.status))) == {"done"}


def test_events_of_one_user_are_handled_in_timestamp_order(
    bot_client: TestClient, fake_line: FakeLine
) -> None:
    base = 1_800_000_000_000
    tokens = [fake_line.issue_reply_token(U1) for _ in range(3)]
    events = [
        ev.text_event(U1, "設定", tokens[0], ts=base + 3),
        ev.text_event(U1, "English", tokens[1], ts=base + 1),
        ev.text_event(U1, "日本語", tokens[2], ts=base + 2),
    ]
    assert post(bot_client, events).status_code == 200
    replies = wait_for(
        lambda: len(fake_line.messages_for(U1)) == 3 and fake_line.messages_for(U1), what="3 replies"
    )
    assert [m["text"].splitlines()[0] for m in replies] == [
        "Your language is now English.",
        "言語を日本語に設定しました。",
        "現在の設定",
    ]


def test_the_answer_to_the_verify_button_is_fast_and_empty(bot_client: TestClient) -> None:
    raw = json.dumps({"destination": "U" + "0" * 32, "events": []}).encode()
    r = bot_client.post("/line/webhook", content=raw, headers=_signed(raw))
    assert r.status_code == 200 and r.content == b""
