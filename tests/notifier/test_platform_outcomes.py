"""The delivery engine against platforms that keep their own rules (issue 17): X's 24-hour post cap,
X's HTML-escaped texts and its "duplicate content" answer, end to end through a worker pass."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.settings import Settings
from notifier import delivery_health
from notifier.ledger_tables import Delivery
from storage.base import utcnow
from storage.budget_tables import ChannelLimit
from tests.conftest import make_settings
from tests.notifier.conftest import FAST, Fakes, run_worker, schedule, shown, states

X_KEY = "x:1500000000000000001:tweets"


@pytest.fixture
def settings(db_url: str, fakes: Fakes) -> Settings:
    return x_settings(db_url, fakes)


def x_settings(db_url: str, fakes: Fakes) -> Settings:
    return make_settings(db_url, **fakes.settings(), **{**FAST, "notifier_concurrency": 1})


def drain(settings: Settings, sessions: sessionmaker[Session], rounds: int = 10) -> None:
    for _ in range(rounds):
        run_worker(settings)
        with sessions() as s:
            due = s.scalar(
                select(Delivery.id).where(
                    Delivery.state.in_(("pending", "sending")), Delivery.run_at <= utcnow()
                )
            )
        if due is None:
            return
        time.sleep(0.1)


def daily_reset(fakes: Fakes) -> int:
    x: Any = fakes.x.platform
    return int(x.daily._start + x.daily.seconds) + 1


def test_a_spent_daily_cap_waits_for_its_reset_without_attempts(
    db_url: str, sessions: sessionmaker[Session], fakes: Fakes
) -> None:
    """The cap was spent elsewhere: X answers 429 with `x-user-limit-24hour-remaining: 0` while its
    15-minute window has calls left. The delivery waits for the day's reset (not the window's), keeps
    its attempts, and the status names the pause in Japanese and English."""
    settings = x_settings(db_url, fakes)
    x: Any = fakes.x.platform
    x.daily.set(1, 86_400)
    x.daily.hit()  # another client of the account posted today's one post
    post_id = schedule(settings, sessions, channels=["x"])
    run_worker(settings)
    reset = daily_reset(fakes)
    with sessions() as s:
        delivery = s.scalars(select(Delivery).where(Delivery.post_id == post_id)).one()
        limit = s.get(ChannelLimit, X_KEY)
        health = delivery_health.summary(s, utcnow())
    assert delivery.state == "pending" and delivery.attempts == 0
    assert abs(delivery.run_at.timestamp() - reset) < 2 and reset - time.time() > 80_000
    assert limit is not None and abs(limit.blocked_until - reset) < 2
    assert health["ok"] is False and [p["channel"] for p in health["paused"]] == ["x"]
    assert any(
        p.startswith("X: 投稿上限に達したため") and "sending waits until" in p for p in health["problems"]
    )


def test_the_status_api_shows_the_pause(
    staff_client: TestClient, settings: Settings, sessions: sessionmaker[Session], fakes: Fakes
) -> None:
    """What the /posts page shows among the workers' warnings (GET /api/v1/notifier/status)."""
    x: Any = fakes.x.platform
    x.daily.set(1, 86_400)
    x.daily.hit()
    schedule(settings, sessions, channels=["x"])
    run_worker(settings)
    status = staff_client.get("/api/v1/notifier/status").json()
    (paused,) = status["paused"]
    assert (paused["channel"], paused["account"], paused["endpoint"]) == (
        "x",
        "1500000000000000001",
        "tweets",
    )
    until = dt.datetime.fromisoformat(paused["until"])
    assert until.utcoffset() == dt.timedelta(hours=9) and abs(until.timestamp() - daily_reset(fakes)) < 2
    (problem,) = [p for p in status["problems"] if p.startswith("X:")]
    assert (
        f"{until:%m月%d日 %H:%M} まで送信を待っています" in problem
        and until.strftime("%Y-%m-%d %H:%M") in problem
    )


def test_the_last_post_of_the_day_blocks_the_next_until_the_reset(
    db_url: str, sessions: sessionmaker[Session], fakes: Fakes
) -> None:
    """A success reporting `x-user-limit-24hour-remaining: 0` blocks the account: the next post is not
    even tried before the day's reset."""
    settings = x_settings(db_url, fakes)
    fakes.x.platform.daily.set(1, 86_400)  # type: ignore[attr-defined]
    first = schedule(settings, sessions, channels=["x"], title="一通目")
    second = schedule(settings, sessions, channels=["x"], title="二通目")
    run_worker(settings)
    assert states(sessions, first) == {"x": "sent"} and states(sessions, second) == {"x": "pending"}
    assert len(fakes.x.state.find("/2/tweets", method="POST")) == 1
    with sessions() as s:
        waiting = s.scalars(select(Delivery).where(Delivery.post_id == second)).one()
    assert abs(waiting.run_at.timestamp() - daily_reset(fakes)) < 2 and waiting.attempts == 0


def test_an_escaped_text_is_found_after_a_5xx(
    db_url: str, sessions: sessionmaker[Session], fakes: Fakes
) -> None:
    """X published, then answered 503; it returns the text with `&amp; &lt; &gt;`. The lookup still
    recognises the post: sent with its id, published once."""
    settings = x_settings(db_url, fakes)
    fakes.x.platform.fail("status_after", status=503, path="/2/tweets", method="POST")
    post_id = schedule(settings, sessions, channels=["x"], title="粗大ごみ & 資源ごみ <年末年始>")
    drain(settings, sessions)
    (delivery,) = shown(sessions, post_id)["deliveries"]
    (tweet,) = fakes.published("x")
    assert delivery["state"] == "sent" and delivery["platform_id"] == tweet["id"]


def test_duplicate_content_not_found_is_unknown(
    db_url: str, sessions: sessionmaker[Session], fakes: Fakes
) -> None:
    """X refuses the text as a duplicate of a post the lookup cannot find (made long ago, by hand):
    the delivery is `unknown` for a person to check, never `sent` without an id."""
    settings = x_settings(db_url, fakes)
    post_id = schedule(settings, sessions, channels=["x"])
    text = post_text(sessions, post_id)
    answer = httpx.post(
        f"{fakes.x.url}/2/tweets", json={"text": text}, headers={"Authorization": "OAuth fake"}
    )
    assert answer.status_code == 201
    x: Any = fakes.x.platform
    x.tweets[0]["created_at"] -= dt.timedelta(days=3)
    drain(settings, sessions)
    (delivery,) = shown(sessions, post_id)["deliveries"]
    assert delivery["state"] == "unknown" and delivery["platform_id"] is None
    assert "duplicate content" in delivery["error"] and "check the account" in delivery["error"]
    assert len(fakes.published("x")) == 1


def post_text(sessions: sessionmaker[Session], post_id: int) -> str:
    with sessions() as s:
        delivery = s.scalars(select(Delivery).where(Delivery.post_id == post_id)).one()
        return "\n\n".join(delivery.payload["texts"]["ja"])
