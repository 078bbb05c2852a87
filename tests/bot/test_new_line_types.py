"""LINE as it is, end to end over HTTP with the fake LINE server (issue 17): event and message types
LINE adds without notice, and redelivered events whose reply token is as old as the event."""

from __future__ import annotations

import time
from typing import Any, cast

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.bot_tables import DeadLetter, InboxEvent
from fakes import fake_line_events as ev
from fakes.fake_line import FakeLine
from tests.bot.helpers import idle, post, wait_for
from tests.line_fixtures import user_id

U = user_id(417)


def test_a_message_of_a_new_type_gets_the_usual_hint(bot_client: TestClient, fake_line: FakeLine) -> None:
    """A message type line-bot-sdk does not know yet is answered like a sticker: what the bot can do."""
    event = ev.message_event(U, {"type": "hologram", "hologramId": "h1"}, fake_line.issue_reply_token(U))
    assert post(bot_client, [event]).status_code == 200
    (reply,) = wait_for(lambda: fake_line.messages_for(U), what="hint")
    assert "文字以外のメッセージを読み取れません" in reply["text"] and reply["quickReply"]["items"]
    assert fake_line.deliveries()[0].kind == "reply"


def test_an_event_of_a_new_type_is_skipped_not_dead_lettered(
    bot_client: TestClient, fake_line: FakeLine, sessions: sessionmaker[Session]
) -> None:
    event = {**ev.follow_event(U), "type": "telepathy", "telepathy": {"strength": 3}}
    del event["follow"]
    assert (
        post(bot_client, [event, ev.text_event(U, "メニュー", fake_line.issue_reply_token(U))]).status_code
        == 200
    )
    wait_for(lambda: fake_line.messages_for(U), what="the reply to the text")
    assert post(bot_client, [{**event, "deliveryContext": {"isRedelivery": True}}]).status_code == 200
    idle(bot_client)
    with sessions() as s:
        assert s.scalars(select(DeadLetter)).all() == []
        rows = {e.kind: e for e in s.scalars(select(InboxEvent))}
        assert sorted(rows) == ["skipped", "text"]  # the redelivery is recognised: stored once
        skipped = rows["skipped"]
        assert (skipped.status, skipped.event_id, skipped.event_ts) == (
            "skipped",
            event["webhookEventId"],
            event["timestamp"],
        )
        assert skipped.chat_id is None and skipped.payload is None and skipped.reply_token is None
        assert skipped.error is not None and "'telepathy'" in skipped.error and skipped.done_at is not None
    assert len(fake_line.messages_for(U)) == 1  # nothing is sent for the skipped event


def test_a_dead_letter_names_the_message_type(
    bot_client: TestClient, fake_line: FakeLine, sessions: sessionmaker[Session]
) -> None:
    event = ev.image_event(U, fake_line.issue_reply_token(U))
    del event["message"]["contentProvider"]  # an image the SDK refuses
    assert post(bot_client, [event]).status_code == 200
    (letter,) = wait_for(lambda: _letters(sessions), what="dead letter")
    assert (
        "event type 'message' (message type 'image')" in letter.reason and "contentProvider" in letter.reason
    )


def _letters(sessions: sessionmaker[Session]) -> list[DeadLetter]:
    with sessions() as s:
        return list(s.scalars(select(DeadLetter)))


def test_a_stale_redelivered_token_goes_straight_to_push(
    bot_client: TestClient, fake_line: FakeLine, clock: Any
) -> None:
    """LINE redelivers an event five minutes after it first sent it, with the same reply token: the
    token's age counts from the event, so the bot pushes without trying the reply."""
    token = fake_line.issue_reply_token(U, age=300)
    ts = int(time.time() * 1000) - 300_000
    assert post(bot_client, [ev.text_event(U, "メニュー", token, ts=ts, redelivery=True)]).status_code == 200
    (message,) = wait_for(lambda: fake_line.messages_for(U), what="push")
    assert message["text"].startswith("吹田市公式LINEでは")
    assert [c.path for c in fake_line.state.find("/v2/bot/message")] == ["/v2/bot/message/push"]


def test_a_fresh_redelivered_token_is_still_used(bot_client: TestClient, fake_line: FakeLine) -> None:
    token = fake_line.issue_reply_token(U, age=5)
    ts = int(time.time() * 1000) - 5_000
    assert post(bot_client, [ev.text_event(U, "メニュー", token, ts=ts, redelivery=True)]).status_code == 200
    wait_for(lambda: fake_line.messages_for(U), what="reply")
    assert fake_line.deliveries()[0].kind == "reply"


def test_events_remember_a_redelivery_until_the_reply_is_sent(sessions: sessionmaker[Session]) -> None:
    """The flag outlives the preparing of the reply (which drops the resident's text): a send retried
    in a later pass still ages the token from the event."""
    from bot.inbox import inbox_store
    from bot.inbox.reply_preparer import PreparedReply, Preparer
    from bot.intake.webhook_events import parse_event

    item: Any = parse_event(ev.text_event(U, "hi", redelivery=True))
    assert item.redelivered is True
    with sessions.begin() as s:
        inbox_store.store(s, [item], [])
    with sessions() as s:
        (work,) = inbox_store.work_for(s, U)
    assert work.redelivered is True and inbox_store.kept_payload(work) == '{"r": 1}'
    preparer = Preparer(cast(Any, None), [], lambda: None)  # `store` needs neither the db nor the FAQ
    with sessions.begin() as s:
        assert preparer.store(s, work, PreparedReply([{"type": "text", "text": "x"}], []))
    with sessions() as s:
        (prepared,) = inbox_store.work_for(s, U)
    assert (prepared.status, prepared.redelivered, prepared.data) == ("prepared", True, "")
