"""The bot end to end over HTTP with the fake LINE server: replies and their fallbacks, retries,
unfollow and re-follow, feedback, masking, durability across a restart."""

from __future__ import annotations

import logging
import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.settings import Settings
from bot.bot_tables import AnswerFeedback, FollowStat, InboxEvent, LineUser, TopicSubscription
from bot.reply_sender import RETRY_KEY_NAMESPACE
from fakes import fake_line_events as ev
from fakes.fake_line import FakeLine
from faq.faq_tables import UnansweredQuestion
from tests.bot.conftest import make_bot_app, use_faq
from tests.bot.helpers import post, quick_data, wait_for, worker_idle
from tests.line_fixtures import user_id

U = user_id(301)


def idle(client: TestClient) -> None:
    assert worker_idle(client)


def inbox_rows(sessions: sessionmaker[Session]) -> list[InboxEvent]:
    with sessions() as s:
        return list(s.scalars(select(InboxEvent).order_by(InboxEvent.id)))


def say(client: TestClient, fake: FakeLine, text: str, user: str = U) -> dict[str, Any]:
    """Send a text with a fresh reply token; return the bot's (last) reply."""
    before = len(fake.messages_for(user))
    assert post(client, [ev.text_event(user, text, fake.issue_reply_token(user))]).status_code == 200
    return wait_for(lambda: fake.messages_for(user)[before:], what=f"reply to {text!r}")[-1]


def tap(client: TestClient, fake: FakeLine, data: str, user: str = U) -> dict[str, Any]:
    before = len(fake.messages_for(user))
    assert post(client, [ev.postback_event(user, data, fake.issue_reply_token(user))]).status_code == 200
    return wait_for(lambda: fake.messages_for(user)[before:], what=f"reply to {data}")[-1]


def test_answer_by_reply_and_text_dropped_from_the_inbox(
    bot_client: TestClient, fake_line: FakeLine, sessions: sessionmaker[Session]
) -> None:
    reply = say(bot_client, fake_line, "住民票をコンビニで取りたい")
    assert "役に立ちましたか" in reply["text"]
    idle(bot_client)
    (row,) = inbox_rows(sessions)
    assert (row.status, row.payload, row.outbox, row.reply_token) == ("done", None, None, None)
    assert [c.path for c in fake_line.state.find("/v2/bot/message")] == ["/v2/bot/message/reply"]


def test_invalid_reply_token_falls_back_to_push_with_a_retry_key(
    bot_client: TestClient, fake_line: FakeLine
) -> None:
    event = ev.text_event(U, "メニュー", "token-line-never-issued")
    assert post(bot_client, [event]).status_code == 200
    (message,) = wait_for(lambda: fake_line.messages_for(U), what="push")
    assert message["text"].startswith("吹田市公式LINEでは")
    reply, push = fake_line.state.find("/v2/bot/message")
    assert reply.path.endswith("/reply") and push.path.endswith("/push")
    key = push.headers["x-line-retry-key"]
    assert key == str(uuid.uuid5(RETRY_KEY_NAMESPACE, event["webhookEventId"]))
    assert fake_line.deliveries()[0].kind == "push"


def test_expired_reply_token_falls_back_to_push(
    bot_client: TestClient, fake_line: FakeLine, clock: Any
) -> None:
    token = fake_line.issue_reply_token(U)
    clock.advance(61)
    assert post(bot_client, [ev.text_event(U, "メニュー", token)]).status_code == 200
    wait_for(lambda: fake_line.deliveries("push"), what="push")
    assert fake_line.deliveries("reply") == []


def test_5xx_is_retried_then_delivered_once(bot_client: TestClient, fake_line: FakeLine) -> None:
    fake_line.fail("status", status=500, path="/v2/bot/message/reply", times=2)
    reply = say(bot_client, fake_line, "メニュー")
    assert reply["text"].startswith("吹田市公式LINEでは")
    assert [c.fault for c in fake_line.state.find("/reply")] == ["status", "status", None]
    assert len(fake_line.deliveries()) == 1


def test_line_down_for_a_while_then_the_sweeper_delivers(
    bot_client: TestClient, fake_line: FakeLine, sessions: sessionmaker[Session]
) -> None:
    """Every attempt of the adapter fails; the event waits in the inbox and is sent on a later try."""
    fake_line.fail("status", status=503, path="/v2/bot/message/", times=6)
    assert post(bot_client, [ev.text_event(U, "メニュー", fake_line.issue_reply_token(U))]).status_code == 200
    wait_for(lambda: fake_line.messages_for(U), timeout=15, what="delivery after LINE came back")
    idle(bot_client)
    (row,) = inbox_rows(sessions)
    assert row.status == "done" and row.attempts >= 1
    assert len(fake_line.deliveries()) == 1


def test_a_4xx_is_not_retried_and_does_not_block_the_chat(
    bot_client: TestClient, fake_line: FakeLine, sessions: sessionmaker[Session]
) -> None:
    fake_line.fail("status", status=400, body={"message": "bad"}, path="/v2/bot/message/", times=1)
    post(bot_client, [ev.text_event(U, "メニュー", fake_line.issue_reply_token(U))])
    wait_for(lambda: inbox_rows(sessions) and inbox_rows(sessions)[0].status == "failed", what="failed")
    assert "400" in (inbox_rows(sessions)[0].error or "")
    assert say(bot_client, fake_line, "設定")["text"].startswith("現在の設定")


def test_a_bug_in_the_conversation_fails_that_event_only(
    bot_client: TestClient,
    fake_line: FakeLine,
    sessions: sessionmaker[Session],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import bot.conversation.dialogue as cv

    real = cv.handle

    def flaky(incoming: cv.Incoming, *args: Any) -> cv.Turn:
        if incoming.data == "爆発":
            raise ZeroDivisionError
        return real(incoming, *args)

    monkeypatch.setattr(cv, "handle", flaky)
    post(bot_client, [ev.text_event(U, "爆発", fake_line.issue_reply_token(U))])
    assert say(bot_client, fake_line, "メニュー")["text"].startswith("吹田市公式LINEでは")
    idle(bot_client)  # the reply is out; its event is marked done right after
    statuses = [(r.status, r.error) for r in inbox_rows(sessions)]
    assert statuses == [("failed", "internal error: ZeroDivisionError"), ("done", None)]


def test_follow_settings_unfollow_and_refollow(
    bot_client: TestClient, fake_line: FakeLine, sessions: sessionmaker[Session]
) -> None:
    fake_line.add_follower(U, "吹田 太郎", "en")
    post(bot_client, [ev.follow_event(U, fake_line.issue_reply_token(U))])
    welcome, chooser = wait_for(
        lambda: fake_line.messages_for(U)[:2] if len(fake_line.messages_for(U)) == 2 else None
    )
    assert welcome["text"].startswith("Thank you for adding")
    assert "a=sub&t=bousai" in quick_data(chooser)
    tap(bot_client, fake_line, "a=sub&t=bousai")
    tap(bot_client, fake_line, "a=lang&l=ja")
    say(bot_client, fake_line, "住民票をコンビニで取りたい")
    idle(bot_client)
    with sessions() as s:
        user = s.get(LineUser, U)
        assert user is not None and (user.language, user.profile_language) == ("ja", "en")
        assert list(s.scalars(select(TopicSubscription.topic))) == ["bousai"]

    post(bot_client, [ev.unfollow_event(U)])
    wait_for(lambda: all(r.status == "done" for r in inbox_rows(sessions)), what="unfollow handled")
    with sessions() as s:
        assert s.get(LineUser, U) is None and s.scalars(select(TopicSubscription)).all() == []
        stats = s.scalars(select(FollowStat)).one()
        assert (stats.follows, stats.unfollows) == (1, 1)
    for row in inbox_rows(sessions):  # the event IDs stay; nothing of the resident does
        assert (row.chat_id, row.payload, row.outbox, row.reply_token) == (None, None, None, None)

    post(bot_client, [ev.follow_event(U, fake_line.issue_reply_token(U), unblocked=True)])
    wait_for(lambda: fake_line.messages_for(U)[-2]["text"].startswith("Welcome back"), what="welcome back")
    idle(bot_client)
    with sessions() as s:
        user = s.get(LineUser, U)
        assert user is not None and user.language is None and user.profile_language == "en"
        assert s.scalars(select(TopicSubscription)).all() == []
        assert s.scalars(select(FollowStat)).one().follows == 2


def test_unfollow_in_standby_still_deletes(
    bot_client: TestClient, fake_line: FakeLine, sessions: sessionmaker[Session]
) -> None:
    tap(bot_client, fake_line, "a=sub&t=event")
    post(bot_client, [ev.unfollow_event(U, mode="standby")])
    wait_for(lambda: all(r.status == "done" for r in inbox_rows(sessions)) and len(inbox_rows(sessions)) == 2)
    with sessions() as s:
        assert s.get(LineUser, U) is None


def test_feedback_is_stored_per_answer_without_the_user(
    bot_client: TestClient, fake_line: FakeLine, sessions: sessionmaker[Session]
) -> None:
    answer = say(bot_client, fake_line, "住民票をコンビニで取りたい")
    up, down = quick_data(answer)
    assert tap(bot_client, fake_line, up)["text"].startswith("ご回答ありがとうございます")
    assert tap(bot_client, fake_line, down)["text"].startswith("ご意見ありがとうございます")
    second = say(bot_client, fake_line, "住民票をコンビニで取りたい")
    tap(bot_client, fake_line, quick_data(second)[0])
    idle(bot_client)
    with sessions() as s:
        votes = s.scalars(select(AnswerFeedback).order_by(AnswerFeedback.created_at)).all()
    assert [v.helpful for v in votes] == [False, True]  # the first answer's vote was changed
    assert {v.entry_id for v in votes} == {answer_entry(up)}
    assert all(U not in (v.nonce + v.entry_id) for v in votes)


def answer_entry(data: str) -> str:
    return dict(p.split("=") for p in data.split("&"))["e"]


def test_suggestion_tap_answers_it(bot_client: TestClient, fake_line: FakeLine) -> None:
    suggestions = say(bot_client, fake_line, "証明書")
    first = quick_data(suggestions)[0]
    assert first.startswith("a=faq&e=")
    answer = tap(bot_client, fake_line, first)
    assert "役に立ちましたか" in answer["text"]


SECRETS = ("06-6384-9999", "taro@example.jp", "1234 5678 9012", "吹田市泉町1丁目3番40号")


def test_personal_details_are_masked_in_storage_and_logs(
    bot_client: TestClient,
    fake_line: FakeLine,
    sessions: sessionmaker[Session],
    caplog: pytest.LogCaptureFixture,
) -> None:
    text = f"相談したい。電話 {SECRETS[0]}、メール {SECRETS[1]}、番号 {SECRETS[2]}、住所 {SECRETS[3]}"
    with caplog.at_level(logging.DEBUG):
        reply = say(bot_client, fake_line, text)
        idle(bot_client)
    assert "06-6384-1231" in reply["text"]  # fallback: how to reach the city
    with sessions() as s:
        (logged,) = s.scalars(select(UnansweredQuestion)).all()
        assert logged.channel == "line"
        stored = " ".join(str(v) for r in inbox_rows(sessions) for v in vars(r).values())
    for secret in SECRETS:
        assert secret not in logged.text and secret not in stored
    assert "[電話]" in logged.text and "[メール]" in logged.text and "[番号]" in logged.text
    everything = "\n".join(f"{r.getMessage()} {vars(r)}" for r in caplog.records)
    for secret in (*SECRETS, U, "test-channel-secret", "test-channel-access-token"):
        assert secret not in everything


def test_prepared_replies_survive_a_restart(
    bot_settings: Settings, fake_line: FakeLine, sessions: sessionmaker[Session]
) -> None:
    """LINE is down while the first process runs: its replies stay prepared in the inbox. A new
    process (the restart) finds them at start-up and sends them, in order, once."""
    fake_line.fail("status", status=500, path="/v2/bot/message/", times=-1)
    app = make_bot_app(bot_settings)
    users = [user_id(400 + i) for i in range(3)]
    with TestClient(app) as first:
        use_faq(app)
        for u in users:
            post(first, [ev.text_event(u, "メニュー", fake_line.issue_reply_token(u))])
        post(first, [ev.text_event(users[0], "設定", fake_line.issue_reply_token(users[0]))])
        wait_for(lambda: sum(r.status == "prepared" for r in inbox_rows(sessions)) == 3, what="prepared")
    assert fake_line.deliveries() == []
    assert {r.status for r in inbox_rows(sessions)} == {"prepared", "pending"}
    fake_line.state.reset()  # LINE is back

    restarted = make_bot_app(bot_settings)
    with TestClient(restarted) as second:
        use_faq(restarted)
        wait_for(lambda: len(fake_line.deliveries()) == 4, what="all four delivered after the restart")
        idle(second)
    assert [m["text"].splitlines()[0] for m in fake_line.messages_for(users[0])] == [
        "吹田市公式LINEでは、次のことができます。",
        "現在の設定",
    ]
    assert {r.status for r in inbox_rows(sessions)} == {"done"}
