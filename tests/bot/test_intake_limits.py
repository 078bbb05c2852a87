"""Signed events whose fields the inbox cannot store become dead letters; the rest of the body is
stored and answered 200 (on SQLite and PostgreSQL). Dead letters never keep residents' texts."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.bot_tables import DeadLetter, InboxEvent
from fakes import fake_line_events as ev
from tests.bot.helpers import CHANNEL_SECRET
from tests.line_fixtures import user_id

SECRET_TEXT = "山田花子の相談内容"  # a resident's text that no dead letter may keep
U = user_id(7)


def _event(**changes: Any) -> ev.Event:
    event = ev.text_event(U, SECRET_TEXT, "r" * 32)
    for key, value in changes.items():
        if key == "userId":
            event["source"]["userId"] = value
        else:
            event[key] = value
    return event


def _standby(event: ev.Event) -> ev.Event:
    return {**event, "mode": "standby", "type": "message"}


OUT_OF_RANGE: dict[str, Callable[[], ev.Event]] = {
    "timestamp 2**70": lambda: _event(timestamp=2**70),
    "negative timestamp": lambda: _event(timestamp=-1),
    "event ID over 64": lambda: _event(webhookEventId="E" * 65),
    "user ID over 64": lambda: _event(userId="U" * 70),
    "reply token over 255": lambda: _event(replyToken="r" * 256),
    "NUL in the event ID": lambda: _event(webhookEventId="01H\u0000X"),
    "lone surrogate in the text": lambda: ev.text_event(U, "相談\ud800です", "r" * 32),
    "standby, timestamp 2**70": lambda: {**_event(timestamp=2**70), "mode": "standby", "type": "unfollow"},
}


def _post(client: TestClient, events: list[Any]) -> int:
    # ASCII JSON: a lone surrogate travels as its \\ud800 escape, as any JSON encoder would send it
    raw = json.dumps({"destination": "U" + "f" * 32, "events": events}).encode()
    return client.post("/line/webhook", content=raw, headers=ev.signed(raw, CHANNEL_SECRET)).status_code


@pytest.mark.parametrize("make", OUT_OF_RANGE.values(), ids=OUT_OF_RANGE.keys())
def test_an_out_of_range_event_is_a_dead_letter_and_its_siblings_are_stored(
    bot_client: TestClient, sessions: sessionmaker[Session], make: Callable[[], ev.Event]
) -> None:
    good = ev.text_event(user_id(8), "住民票", "t" * 32)
    assert _post(bot_client, [make(), good]) == 200
    with sessions() as s:
        stored = s.scalars(select(InboxEvent.event_id)).all()
        dead = s.scalars(select(DeadLetter)).all()
    assert stored == [good["webhookEventId"]]
    (letter,) = dead
    assert "range" in letter.reason or "UTF-8" in letter.reason
    assert SECRET_TEXT not in letter.body and "相談" not in letter.body
    assert _post(bot_client, [make(), good]) == 200  # a redelivery: the same again, no 503


def test_an_event_the_sdk_trips_over_does_not_lose_its_siblings(
    bot_client: TestClient, sessions: sessionmaker[Session]
) -> None:
    broken = {"type": "message", "mode": "standby", "message": SECRET_TEXT}  # the SDK raises TypeError
    good = ev.text_event(user_id(8), "住民票", "t" * 32)
    assert _post(bot_client, [broken, good]) == 200
    with sessions() as s:
        assert s.scalars(select(InboxEvent.event_id)).all() == [good["webhookEventId"]]
        (letter,) = s.scalars(select(DeadLetter)).all()
    assert "TypeError" in letter.reason and SECRET_TEXT not in letter.body


def test_a_whole_body_dead_letter_keeps_no_text(
    bot_client: TestClient, sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bug while parsing makes the whole body one dead letter: without the residents' texts."""
    from bot.intake import webhook

    def broken(body: bytes) -> Any:
        raise ZeroDivisionError

    monkeypatch.setattr(webhook, "split_body", broken)
    assert _post(bot_client, [_event(), ev.text_event(user_id(8), "電話は090-1234-5678", "t" * 32)]) == 200
    with sessions() as s:
        (letter,) = s.scalars(select(DeadLetter)).all()
    assert "ZeroDivisionError" in letter.reason
    assert SECRET_TEXT not in letter.body and "090-1234-5678" not in letter.body
    assert "[text: 9 chars]" in letter.body  # the shape stays for whoever looks into it


def test_a_deeply_nested_body_is_a_dead_letter(
    bot_client: TestClient, sessions: sessionmaker[Session]
) -> None:
    raw = b'{"destination":"U1","events":[' + b"[" * 100_000 + b"]" * 100_000 + b"]}"
    assert (
        bot_client.post("/line/webhook", content=raw, headers=ev.signed(raw, CHANNEL_SECRET)).status_code
        == 200
    )
    with sessions() as s:
        (letter,) = s.scalars(select(DeadLetter)).all()
    assert "nested" in letter.reason and letter.body.startswith("[body of ")


def test_a_deeply_nested_event_is_kept_to_a_bounded_depth(
    bot_client: TestClient, sessions: sessionmaker[Session]
) -> None:
    deep = '{"a":[' * 300 + json.dumps({"text": SECRET_TEXT, "note": SECRET_TEXT}) + "]}" * 300
    raw = ('{"destination":"U1","events":[{"type":"message","mode":"active","deep":' + deep + "}]}").encode()
    assert (
        bot_client.post("/line/webhook", content=raw, headers=ev.signed(raw, CHANNEL_SECRET)).status_code
        == 200
    )
    with sessions() as s:
        (letter,) = s.scalars(select(DeadLetter)).all()
    assert "[nested]" in letter.body and SECRET_TEXT not in letter.body
