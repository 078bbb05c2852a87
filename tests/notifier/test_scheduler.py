"""What scheduler users expect, through the staff API against the fakes: drafts without a time, editing
every field until a delivery starts, duplicates, the calendar in Japan time, a text per channel, the
urgency marker once, topics nobody subscribes to, "send again" on an unknown delivery, and messages
that name the field in words, Japanese first, with times in JST."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from app.settings import Settings
from app.tokyo_time import JST
from bot.bot_tables import LineUser, TopicSubscription
from notifier.ledger_tables import Delivery, DeliveryAttempt, Post
from notifier.post_calendar import period
from storage.base import utcnow
from storage.db import session_scope
from tests.conftest import make_settings
from tests.notifier.conftest import FAST, Fakes, post_data, run_worker, shown


@pytest.fixture
def settings(db_url: str, fakes: Fakes) -> Settings:
    return make_settings(db_url, **fakes.settings(), **FAST)


def later(hours: float = 1) -> str:
    return (utcnow() + dt.timedelta(hours=hours)).isoformat()


def create(client: TestClient, *, draft: bool = False, **changes: Any) -> dict[str, Any]:
    r = client.post("/api/v1/posts", json={**post_data(**changes), "draft": draft})
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


def test_a_draft_saved_without_a_time_is_edited_scheduled_and_goes_out(
    staff_client: TestClient, settings: Settings, sessions: sessionmaker[Session], fakes: Fakes
) -> None:
    draft = create(staff_client, draft=True, scheduled_at=None)
    assert draft["state"] == "draft" and draft["scheduled_at"] is None
    with sessions() as s:
        assert s.get(Post, draft["id"]).scheduled_at is None  # type: ignore[union-attr]

    edited = post_data(title="年末年始のごみ収集", channels=["x", "mastodon"], scheduled_at=None)
    r = staff_client.put(f"/api/v1/posts/{draft['id']}", json=edited)
    assert r.status_code == 200 and r.json()["state"] == "draft" and r.json()["scheduled_at"] is None

    # hours later, "keep its time" means now: a draft without a time is sent when scheduled
    scheduled = staff_client.post(f"/api/v1/posts/{draft['id']}/schedule").json()
    assert scheduled["state"] == "scheduled"
    when = dt.datetime.fromisoformat(scheduled["scheduled_at"])
    assert abs((when - utcnow()).total_seconds()) < 10 and when.utcoffset() == dt.timedelta(hours=9)
    run_worker(settings)
    assert {d["state"] for d in shown(sessions, draft["id"])["deliveries"]} == {"sent"}
    assert fakes.published("x")[0]["text"].startswith("年末年始のごみ収集")
    assert len(fakes.published("mastodon")) == 1 and fakes.published("facebook") == []


def test_a_draft_whose_time_has_passed_asks_for_a_new_one(
    staff_client: TestClient, sessions: sessionmaker[Session]
) -> None:
    draft = create(staff_client, draft=True, scheduled_at=later(1))
    with session_scope(sessions) as s:  # the draft waited: its time is now in the past
        s.execute(update(Post).values(scheduled_at=dt.datetime(2020, 1, 1, 3, 0, 30, 123456, tzinfo=dt.UTC)))
    r = staff_client.post(f"/api/v1/posts/{draft['id']}/schedule")
    assert r.status_code == 422
    (problem,) = r.json()["detail"]
    assert problem["field"] == "scheduled_at"
    assert problem["message"] == (
        "配信日時: 2020-01-01 12:00:30 (JST) は過去の日時です。「すぐに」を選ぶか、先の日時にしてください / "
        "When: 2020-01-01 12:00:30 (JST) is in the past; choose “now” or a later time"
    )
    now = staff_client.post(f"/api/v1/posts/{draft['id']}/schedule", json={"scheduled_at": None})
    assert now.status_code == 200 and now.json()["state"] == "scheduled"


def test_every_field_of_a_scheduled_post_can_change_until_a_delivery_starts(
    staff_client: TestClient, sessions: sessionmaker[Session]
) -> None:
    post = create(staff_client, scheduled_at=later(2))
    changed = post_data(
        title="防災訓練の中止",
        body="台風のため中止します。",
        link="https://www.city.suita.osaka.jp/bousai",
        topic="bousai",
        urgency="emergency",
        channels=["line", "bluesky"],
        scheduled_at="2099-04-01T09:30:00+09:00",
        variants={"en": {"title": "Drill cancelled", "body": "Cancelled because of the typhoon."}},
        channel_texts={"bluesky": "防災訓練は中止です。"},
    )
    r = staff_client.put(f"/api/v1/posts/{post['id']}", json=changed)
    assert r.status_code == 200, r.text
    body = r.json()
    for key in ("title", "body", "link", "topic", "urgency", "channels", "variants", "channel_texts"):
        assert body[key] == changed[key], key
    assert body["scheduled_at"] == "2099-04-01T09:30:00+09:00" and body["state"] == "scheduled"
    assert [(d["channel"], d["state"]) for d in body["deliveries"]] == [
        ("line", "pending"),
        ("bluesky", "pending"),
    ]
    with sessions() as s:
        bluesky = s.scalars(select(Delivery).where(Delivery.channel == "bluesky")).one()
        assert bluesky.payload["texts"]["ja"] == [
            "【緊急】防災訓練の中止\n\n防災訓練は中止です。\n\nhttps://www.city.suita.osaka.jp/bousai"
        ]
    with session_scope(sessions) as s:
        s.execute(update(Delivery).where(Delivery.channel == "line").values(state="sending", attempts=1))
    r = staff_client.put(f"/api/v1/posts/{post['id']}", json=changed)
    assert r.status_code == 409
    assert r.json()["detail"].startswith(f"No. {post['id']} は line で配信が始まっているため編集できません")


def test_duplicate_makes_a_new_draft_without_a_time(staff_client: TestClient) -> None:
    original = create(staff_client, scheduled_at=later(3), channel_texts={"x": "短い版"}, topic="event")
    r = staff_client.post(f"/api/v1/posts/{original['id']}/duplicate")
    assert r.status_code == 201
    copy = r.json()
    assert copy["id"] != original["id"] and copy["state"] == "draft" and copy["deliveries"] == []
    assert copy["scheduled_at"] is None
    for key in ("title", "body", "link", "topic", "urgency", "channels", "variants", "channel_texts"):
        assert copy[key] == original[key], key
    assert staff_client.post("/api/v1/posts/999/duplicate").status_code == 404


def test_the_calendar_places_posts_on_their_japanese_day(
    staff_client: TestClient, sessions: sessionmaker[Session]
) -> None:
    # 23:30 JST on a Monday is still Sunday in UTC: the calendar shows it on Monday
    monday = dt.date(2099, 3, 2)
    late = dt.datetime.combine(monday, dt.time(23, 30), JST)
    first = create(staff_client, scheduled_at=late.isoformat(), channels=["x", "bluesky"])
    create(staff_client, scheduled_at=(late + dt.timedelta(days=7)).isoformat(), channels=["facebook"])
    create(staff_client, draft=True, scheduled_at=late.isoformat())  # drafts are not on it
    week = staff_client.get("/api/v1/posts/calendar", params={"view": "week", "date": "2099-03-04"}).json()
    assert (week["from"], week["to"]) == ("2099-03-02", "2099-03-08")
    assert [len(d["posts"]) for d in week["days"]] == [1, 0, 0, 0, 0, 0, 0]
    (entry,) = week["days"][0]["posts"]
    assert (entry["id"], entry["time"], entry["state"]) == (first["id"], "23:30", "scheduled")
    assert [(c["channel"], c["state"]) for c in entry["channels"]] == [
        ("x", "pending"),
        ("bluesky", "pending"),
    ]

    with session_scope(sessions) as s:
        s.execute(
            update(Delivery)
            .where(Delivery.post_id == first["id"], Delivery.channel == "x")
            .values(state="sent", sent_at=late.astimezone(dt.UTC))
        )
    month = staff_client.get("/api/v1/posts/calendar", params={"view": "month", "date": "2099-03-15"}).json()
    assert (month["from"], month["to"], len(month["days"])) == ("2099-03-01", "2099-03-31", 31)
    assert sum(len(d["posts"]) for d in month["days"]) == 2
    sent = month["days"][1]["posts"][0]["channels"][0]
    assert sent == {"channel": "x", "state": "sent", "sent_at": "2099-03-02T23:30:00+09:00"}
    only = staff_client.get(
        "/api/v1/posts/calendar", params={"view": "month", "date": "2099-03-15", "channel": "bluesky"}
    )
    assert [c["channel"] for d in only.json()["days"] for p in d["posts"] for c in p["channels"]] == [
        "bluesky"
    ]

    page = staff_client.get("/posts/calendar", params={"view": "week", "date": "2099-03-04"})
    assert page.status_code == 200 and "3/2(月)" in page.text and "No. " in page.text
    assert "X: 送信済み / sent" in page.text


@pytest.mark.parametrize(
    ("view", "day", "expected"),
    [
        ("week", dt.date(2030, 4, 1), (dt.date(2030, 4, 1), dt.date(2030, 4, 7))),  # a Monday
        ("week", dt.date(2030, 4, 7), (dt.date(2030, 4, 1), dt.date(2030, 4, 7))),  # a Sunday
        ("month", dt.date(2028, 2, 10), (dt.date(2028, 2, 1), dt.date(2028, 2, 29))),  # leap year
    ],
)
def test_calendar_periods(view: Any, day: dt.date, expected: tuple[dt.date, dt.date]) -> None:
    assert period(view, day) == expected


def test_a_text_per_channel_is_previewed_counted_and_sent(
    staff_client: TestClient, settings: Settings, sessions: sessionmaker[Session], fakes: Fakes
) -> None:
    long_body = "年末年始は収集日が変わります。" * 12  # too long for X, fine elsewhere
    data = post_data(body=long_body, channels=["x", "mastodon"], channel_texts={"x": "12/29〜1/3 は収集なし"})
    preview = staff_client.post("/api/v1/posts/preview", json=data).json()
    assert preview["problems"] == []
    x_text = preview["channels"]["x"]["languages"]["ja"][0]
    assert "12/29〜1/3 は収集なし" in x_text["text"] and long_body not in x_text["text"]
    assert x_text["ok"] and x_text["count"] < 100
    assert long_body in preview["channels"]["mastodon"]["languages"]["ja"][0]["text"]
    post = create(staff_client, **{k: v for k, v in data.items() if k != "draft"})
    run_worker(settings)
    assert {d["state"] for d in shown(sessions, post["id"])["deliveries"]} == {"sent"}
    (tweet,) = fakes.published("x")
    assert "12/29〜1/3 は収集なし" in tweet["text"]


@pytest.mark.parametrize("title", ["【緊急】大雨警報", "大雨警報【緊急】", "[緊急] 大雨警報", "大雨警報"])
def test_the_urgency_marker_is_added_once(staff_client: TestClient, title: str) -> None:
    data = post_data(title=title, urgency="emergency", channels=["line", "x"])
    preview = staff_client.post("/api/v1/posts/preview", json=data).json()
    for name in ("line", "x"):
        text = preview["channels"][name]["languages"]["ja"][0]["text"]
        assert text.count("緊急") == 1, text


def subscribe(sessions: sessionmaker[Session], topic: str, *user_ids: str) -> None:
    with session_scope(sessions) as s:
        for uid in user_ids:
            s.add(LineUser(user_id=uid))
            s.flush()
            s.add(TopicSubscription(user_id=uid, topic=topic))


def test_a_topic_nobody_subscribes_to_is_warned_about_and_reaches_zero(
    staff_client: TestClient, settings: Settings, sessions: sessionmaker[Session]
) -> None:
    subscribe(sessions, "bousai", "U" + "1" * 32, "U" + "2" * 32)
    assert staff_client.get("/api/v1/posts/audience", params={"topic": "bousai"}).json()["subscribers"] == 2
    assert staff_client.get("/api/v1/posts/audience", params={"topic": "event"}).json() == {
        "topic": "event",
        "subscribers": 0,
    }
    data = post_data(channels=["line"], topic="event", urgency="emergency")
    preview = staff_client.post("/api/v1/posts/preview", json=data).json()
    (warning,) = preview["warnings"]
    assert warning["field"] == "topic" and "0 residents will receive this" in warning["message"]
    assert warning["message"].startswith("トピック: LINE ではこのトピックの購読者が 0 人")
    fine = staff_client.post("/api/v1/posts/preview", json={**data, "topic": "bousai"}).json()
    assert fine["warnings"] == [] and fine["subscribers"] == 2

    nobody = create(staff_client, **{k: v for k, v in data.items() if k != "draft"})
    assert nobody["warnings"] and nobody["deliveries"][0]["recipients"] is None  # not sent yet
    two = create(staff_client, channels=["line"], topic="bousai")
    run_worker(settings)
    by_id = {p["id"]: p for p in staff_client.get("/api/v1/posts").json()["posts"]}
    (zero,) = by_id[nobody["id"]]["deliveries"]
    assert (zero["state"], zero["recipients"]) == ("sent", 0)
    assert by_id[two["id"]]["deliveries"][0]["recipients"] == 2


def test_send_again_publishes_again(
    staff_client: TestClient, settings: Settings, sessions: sessionmaker[Session], fakes: Fakes
) -> None:
    """X timed out and the post is not on the timeline: a person says "send again"; the worker makes
    a new call (recorded in delivery_attempts) instead of settling it as unknown again."""
    fakes.x.platform.fail("timeout", seconds=1.5, path="/2/tweets")
    post = create(staff_client, channels=["x"])
    run_worker(settings)
    (delivery,) = shown(sessions, post["id"])["deliveries"]
    assert delivery["state"] == "unknown" and fakes.published("x") == []
    delivery_id = staff_client.get(f"/api/v1/posts/{post['id']}").json()["deliveries"][0]["id"]
    r = staff_client.post(f"/api/v1/deliveries/{delivery_id}/resolve", json={"outcome": "resend"})
    assert r.status_code == 200 and r.json()["deliveries"][0]["state"] == "pending"
    run_worker(settings)
    (delivery,) = shown(sessions, post["id"])["deliveries"]
    assert delivery["state"] == "sent" and len(fakes.published("x")) == 1
    with sessions() as s:
        outcomes = list(s.scalars(select(DeliveryAttempt.outcome).order_by(DeliveryAttempt.id)))
    assert outcomes == ["ambiguous", "resend_requested", "sent"]
    assert len(fakes.x.state.find("/2/tweets", method="POST")) == 2  # two publish calls


def test_refusals_are_japanese_first_with_times_in_jst(staff_client: TestClient) -> None:
    post = create(staff_client, scheduled_at=later(1))
    assert "." not in post["created_at"] and post["created_at"].endswith("+09:00")  # no fractions
    cancelled = staff_client.post(f"/api/v1/posts/{post['id']}/cancel").json()
    assert cancelled["state"] == "cancelled"
    again = staff_client.post(f"/api/v1/posts/{post['id']}/schedule")
    assert again.status_code == 409
    assert (
        again.json()["detail"]
        == f"No. {post['id']} は取り消されているため予約できません / post {post['id']} is cancelled"
    )
    missing = staff_client.get("/api/v1/posts/999").json()["detail"]
    assert missing == "お知らせ No. 999 はありません / no post with id 999"
    bad = staff_client.post("/api/v1/posts", json={**post_data(), "title": ""}).json()["detail"]
    assert bad[0]["field"] == "title" and bad[0]["message"].startswith("タイトル: 入力してください / Title:")
