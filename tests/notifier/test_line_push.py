"""LINE deliveries: broadcast, and topic pushes in chunks of 500 in each resident's language, with
snapshotted chunks and retry keys so retries and takeovers never send a chunk twice."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from app.settings import Settings
from bot.bot_tables import LineUser, TopicSubscription
from notifier.channels.channel_base import Channel
from notifier.channels.line_channel import LineChannel
from notifier.ledger_tables import Delivery, DeliveryPart
from platforms.line_api import RetryPolicy
from storage.base import utcnow
from storage.budget_tables import ChannelLimit
from tests.notifier.conftest import Fakes, run_worker, schedule, shown

EN = {"en": {"title": "Garbage days change", "body": "Collection days change over the holidays."}}
MULTICAST = "/v2/bot/message/multicast"


def line_only(settings: Settings) -> dict[str, Channel]:
    fast = RetryPolicy(attempts=2, base_delay=0.01, max_delay=0.02, total_seconds=5)
    return {"line": LineChannel(settings, retry=fast)}


def subscribe(sessions: sessionmaker[Session], topic: str, *, ja: int, en: int, other_topic: int = 0) -> None:
    with sessions.begin() as s:
        for i in range(ja + en + other_topic):
            uid = f"U{i:032x}"
            language = "en" if ja <= i < ja + en else None
            s.add(LineUser(user_id=uid, language=language, profile_language="ja"))
            s.add(TopicSubscription(user_id=uid, topic=topic if i < ja + en else "event"))


def multicasts(fakes: Fakes) -> list[Any]:
    deliveries: list[Any] = fakes.line.platform.deliveries("multicast")  # type: ignore[attr-defined]
    return deliveries


def test_broadcast_carries_both_languages(
    sns_settings: Settings, sessions: sessionmaker[Session], fakes: Fakes
) -> None:
    post_id = schedule(sns_settings, sessions, channels=["line"], variants=EN)
    run_worker(sns_settings, channels=line_only(sns_settings))
    (delivery,) = shown(sessions, post_id)["deliveries"]
    assert delivery["state"] == "sent" and delivery["platform_id"]
    (sent,) = fakes.line.platform.broadcasts()  # type: ignore[attr-defined]
    texts = [m["text"] for m in sent.messages]
    assert texts[0].startswith("ごみ収集日の変更") and texts[1].startswith("Garbage days change")
    assert sent.retry_key is not None


@pytest.mark.parametrize(
    ("language", "starts"),
    [
        ("ja", "ごみ収集日の変更"),
        (None, "ごみ収集日の変更"),  # never chose: Japanese (profile ja)
        ("en", "Garbage days change"),
        ("vi", "Thay đổi ngày thu gom rác"),
        ("ko", "Garbage days change"),  # no Korean text: English
        ("ja-easy", "ごみ収集日の変更"),  # no easy-Japanese text: Japanese
    ],
)
def test_a_post_without_topic_reaches_every_known_follower_in_their_language(
    sns_settings: Settings, sessions: sessionmaker[Session], fakes: Fakes, language: str | None, starts: str
) -> None:
    with sessions.begin() as s:
        s.add(LineUser(user_id="U" + "a" * 32, language=language, profile_language="ja"))
        s.add(LineUser(user_id="U" + "b" * 32, language="en", profile_language="en"))
    settings = sns_settings.model_copy(update={"line_everyone": "by_language"})
    vi = {"vi": {"title": "Thay đổi ngày thu gom rác", "body": "Ngày thu gom thay đổi vào dịp nghỉ lễ."}}
    post_id = schedule(settings, sessions, channels=["line"], variants=EN | vi)
    run_worker(settings, channels=line_only(settings))
    assert shown(sessions, post_id)["deliveries"][0]["state"] == "sent"
    assert fakes.line.platform.broadcasts() == []  # type: ignore[attr-defined]
    got = {uid: call.messages[0]["text"] for call in multicasts(fakes) for uid in call.to}
    assert set(got) == {"U" + "a" * 32, "U" + "b" * 32}
    assert got["U" + "a" * 32].startswith(starts), got
    assert got["U" + "b" * 32].startswith("Garbage days change")


def test_by_language_with_no_known_follower_says_nobody_was_reached(
    sns_settings: Settings, sessions: sessionmaker[Session], fakes: Fakes
) -> None:
    settings = sns_settings.model_copy(update={"line_everyone": "by_language"})
    post_id = schedule(settings, sessions, channels=["line"])
    run_worker(settings, channels=line_only(settings))
    (delivery,) = shown(sessions, post_id)["deliveries"]
    assert delivery["state"] == "sent" and "the bot knows no followers" in delivery["error"]
    assert multicasts(fakes) == [] and fakes.line.platform.broadcasts() == []  # type: ignore[attr-defined]


def test_topic_push_in_chunks_and_languages(
    sns_settings: Settings, sessions: sessionmaker[Session], fakes: Fakes
) -> None:
    subscribe(sessions, "shisei", ja=700, en=501, other_topic=40)
    post_id = schedule(sns_settings, sessions, channels=["line"], topic="shisei", variants=EN)
    run_worker(sns_settings, channels=line_only(sns_settings))
    assert shown(sessions, post_id)["deliveries"][0]["state"] == "sent"
    calls = multicasts(fakes)
    assert sorted(len(c.to) for c in calls) == [1, 200, 500, 500]
    got: dict[str, str] = {}
    for call in calls:
        for uid in call.to:
            assert uid not in got, "a resident got the post twice"
            got[uid] = call.messages[0]["text"]
    assert len(got) == 1201
    assert all(got[f"U{i:032x}"].startswith("［市政情報］ごみ収集日") for i in range(700))
    assert all(got[f"U{i:032x}"].startswith("[City administration] Garbage") for i in range(700, 1201))
    assert len({c.retry_key for c in calls}) == 4
    with sessions() as s:
        parts = s.scalars(select(DeliveryPart)).all()
    assert all(p.state == "sent" and p.recipients is None and p.request_id for p in parts)  # IDs forgotten
    assert sum(p.recipient_count for p in parts) == 1201


def test_english_speakers_get_japanese_without_a_variant(
    sns_settings: Settings, sessions: sessionmaker[Session], fakes: Fakes
) -> None:
    subscribe(sessions, "event", ja=2, en=3)
    schedule(sns_settings, sessions, channels=["line"], topic="event")
    run_worker(sns_settings, channels=line_only(sns_settings))
    (call,) = multicasts(fakes)
    assert len(call.to) == 5 and call.messages[0]["text"].startswith("［イベント・観光］")


@pytest.mark.serial  # the three chunks must go out together: not beside other tests
def test_failed_chunk_is_retried_alone_with_its_own_key(
    sns_settings: Settings, sessions: sessionmaker[Session], fakes: Fakes
) -> None:
    subscribe(sessions, "bousai", ja=1500, en=0)
    # three chunks go out together: 3 first tries fail, then one of the 3 retries: one chunk gives up
    fakes.line.platform.fail("status", status=500, path=MULTICAST, times=4)
    post_id = schedule(sns_settings, sessions, channels=["line"], topic="bousai")
    run_worker(sns_settings, channels=line_only(sns_settings))
    assert shown(sessions, post_id)["deliveries"][0]["state"] == "pending"
    with sessions() as s:
        first = {p.seq: (p.retry_key, p.state) for p in s.scalars(select(DeliveryPart))}
    assert sorted(state for _, state in first.values()) == ["pending", "sent", "sent"]
    with sessions.begin() as s:
        s.execute(update(Delivery).values(run_at=utcnow()))
    run_worker(sns_settings, channels=line_only(sns_settings))
    assert shown(sessions, post_id)["deliveries"][0]["state"] == "sent"
    calls = multicasts(fakes)
    assert len(calls) == 3 and sum(len(c.to) for c in calls) == 1500
    with sessions() as s:
        after = {p.seq: p.retry_key for p in s.scalars(select(DeliveryPart))}
    assert after == {seq: key for seq, (key, _) in first.items()}  # the snapshot never changes


def test_chunk_sent_before_a_crash_is_not_delivered_again(
    sns_settings: Settings, sessions: sessionmaker[Session], fakes: Fakes
) -> None:
    """A worker sent a chunk and died before recording it: its successor re-sends with the chunk's
    key, LINE answers 409, and nobody gets the message twice."""
    subscribe(sessions, "kosodate", ja=600, en=0)
    post_id = schedule(sns_settings, sessions, channels=["line"], topic="kosodate")
    run_worker(sns_settings, channels=line_only(sns_settings))
    with sessions.begin() as s:  # forget that chunk 0 was sent, and leave the delivery mid-flight
        part = s.scalars(select(DeliveryPart).where(DeliveryPart.seq == 0)).one()
        call = next(c for c in multicasts(fakes) if c.retry_key == part.retry_key)
        part.state, part.recipients = "pending", list(call.to)
        s.execute(
            update(Delivery).values(
                state="sending", lease_owner="dead", lease_until=utcnow() - dt.timedelta(seconds=1)
            )
        )
    run_worker(sns_settings, channels=line_only(sns_settings))
    assert shown(sessions, post_id)["deliveries"][0]["state"] == "sent"
    assert len(multicasts(fakes)) == 2  # the repeat was answered 409 and not delivered
    assert len(fakes.line.state.find(MULTICAST)) == 3


def test_broadcast_rate_limit_applies_to_emergencies_too(
    sns_settings: Settings, sessions: sessionmaker[Session], fakes: Fakes
) -> None:
    """60 broadcasts an hour: with the bucket empty even an emergency waits for the next token."""
    schedule(sns_settings, sessions, channels=["line"], title="初回")
    run_worker(sns_settings, channels=line_only(sns_settings))
    with sessions.begin() as s:
        s.execute(
            update(ChannelLimit).where(ChannelLimit.key == "line:official:broadcast").values(tokens=0.0)
        )
    post_id = schedule(sns_settings, sessions, channels=["line"], urgency="emergency", title="避難指示")
    run_worker(sns_settings, channels=line_only(sns_settings))
    assert shown(sessions, post_id)["deliveries"][0]["state"] == "pending"
    with sessions() as s:
        run_at = s.scalars(select(Delivery.run_at).where(Delivery.post_id == post_id)).one()
    assert 50 < (run_at - utcnow()).total_seconds() <= 61  # one token per 60 seconds
    assert len(fakes.line.platform.broadcasts()) == 1  # type: ignore[attr-defined]


@pytest.mark.parametrize("monthly", [False, True])
def test_line_429(
    monthly: bool, sns_settings: Settings, sessions: sessionmaker[Session], fakes: Fakes
) -> None:
    message = "You have reached your monthly limit." if monthly else "The API rate limit has been exceeded."
    fakes.line.platform.fail("status", status=429, body={"message": message}, path="/broadcast")
    settings = sns_settings.model_copy(update={"notifier_backoff_seconds": 30.0})  # no retry in this run
    post_id = schedule(settings, sessions, channels=["line"])
    run_worker(settings, channels=line_only(settings))
    (delivery,) = shown(sessions, post_id)["deliveries"]
    assert delivery["state"] == ("failed" if monthly else "pending")
    assert ("monthly" in delivery["error"]) == monthly
