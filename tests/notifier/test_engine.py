"""The delivery engine end to end: a worker pass against the fakes, with scripted failures."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from app.settings import Settings
from notifier.ledger_tables import Delivery, DeliveryAttempt, Post
from storage.base import utcnow
from storage.budget_tables import ChannelLimit
from tests.conftest import make_settings
from tests.notifier.conftest import FAST, SNS, Fakes, run_worker, schedule, shown, states

PATHS = {
    "x": "/2/tweets",
    "facebook": "/feed",
    "mastodon": "/api/v1/statuses",
    "bluesky": "createRecord",
}


def tuned(db_url: str, fakes: Fakes, **overrides: Any) -> Settings:
    return make_settings(db_url, **fakes.settings(), **{**FAST, **overrides})


def drain(settings: Settings, sessions: sessionmaker[Session], rounds: int = 20) -> None:
    """Worker passes until nothing is pending (retries are due after a short backoff)."""
    for _ in range(rounds):
        run_worker(settings)
        with sessions() as s:
            if not s.scalar(select(Delivery.id).where(Delivery.state.in_(("pending", "sending")))):
                return
        time.sleep(0.1)


def attempts(sessions: sessionmaker[Session], channel: str) -> list[str | None]:
    with sessions() as s:
        stmt = (
            select(DeliveryAttempt.outcome)
            .join(Delivery, Delivery.id == DeliveryAttempt.delivery_id)
            .where(Delivery.channel == channel)
            .order_by(DeliveryAttempt.id)
        )
        return list(s.scalars(stmt))


def test_due_posts_go_out_once_everywhere(
    sns_settings: Settings, sessions: sessionmaker[Session], fakes: Fakes
) -> None:
    ids = [schedule(sns_settings, sessions, title=f"お知らせ {i}") for i in range(3)]
    later = schedule(sns_settings, sessions, scheduled_at=(utcnow() + dt.timedelta(hours=1)).isoformat())
    run_worker(sns_settings)
    for post_id in ids:
        view = shown(sessions, post_id)
        assert view["state"] == "done"
        assert all(
            d["state"] == "sent" and d["platform_id"] and d["error"] is None for d in view["deliveries"]
        )
    assert shown(sessions, later)["state"] == "scheduled" and set(states(sessions, later).values()) == {
        "pending"
    }
    for name in SNS:
        assert len(fakes.published(name)) == 3
        assert attempts(sessions, name) == ["sent"] * 3


def test_emergency_jumps_the_queue(db_url: str, fakes: Fakes, sessions: sessionmaker[Session]) -> None:
    settings = tuned(db_url, fakes, notifier_concurrency=1)
    for i in range(4):
        schedule(settings, sessions, title=f"通常 {i}", channels=["x"])
    schedule(settings, sessions, title="避難指示", channels=["x"], urgency="emergency")
    run_worker(settings)
    tweets = [t["original"] for t in fakes.published("x")]
    assert tweets[0].startswith("【緊急】避難指示") and len(tweets) == 5


@pytest.mark.parametrize("name", SNS)
def test_server_error_is_retried_then_sent(
    name: str, sns_settings: Settings, sessions: sessionmaker[Session], fakes: Fakes
) -> None:
    fakes[name].platform.fail("status", status=503, path=PATHS[name], times=2)
    post_id = schedule(sns_settings, sessions, channels=[name])
    drain(sns_settings, sessions)
    assert states(sessions, post_id) == {name: "sent"}
    assert len(fakes.published(name)) == 1
    assert attempts(sessions, name) == ["server_error", "server_error", "sent"]


@pytest.mark.parametrize("name", SNS)
def test_rejected_fails_with_the_reason(
    name: str, sns_settings: Settings, sessions: sessionmaker[Session], fakes: Fakes
) -> None:
    body = {"error": {"message": "(#200) permission denied", "code": 200}} if name == "facebook" else None
    fakes[name].platform.fail("status", status=403 if name != "bluesky" else 400, body=body, path=PATHS[name])
    post_id = schedule(sns_settings, sessions, channels=[name])
    run_worker(sns_settings)
    (delivery,) = shown(sessions, post_id)["deliveries"]
    assert delivery["state"] == "failed" and delivery["error"]
    assert shown(sessions, post_id)["state"] == "done"
    assert fakes.published(name) == []


@pytest.mark.parametrize(
    ("name", "final"), [("x", "sent"), ("facebook", "sent"), ("mastodon", "sent"), ("bluesky", "sent")]
)
def test_answer_lost_after_publishing(
    name: str, final: str, sns_settings: Settings, sessions: sessionmaker[Session], fakes: Fakes
) -> None:
    """The call took effect, the answer never came: keyed channels retry with the same key, X and
    Facebook find the post among the account's recent posts. Published exactly once either way."""
    fakes[name].platform.fail("timeout_after", seconds=1.5, path=PATHS[name])
    post_id = schedule(sns_settings, sessions, channels=[name])
    drain(sns_settings, sessions)
    (delivery,) = shown(sessions, post_id)["deliveries"]
    assert delivery["state"] == final and delivery["platform_id"]
    assert len(fakes.published(name)) == 1
    expected = ["reconciled"] if name in ("x", "facebook") else ["ambiguous", "sent"]
    assert attempts(sessions, name) == expected


@pytest.mark.parametrize(("name", "final", "published"), [("x", "unknown", 0), ("mastodon", "sent", 1)])
def test_no_answer_and_no_effect(
    name: str,
    final: str,
    published: int,
    sns_settings: Settings,
    sessions: sessionmaker[Session],
    fakes: Fakes,
) -> None:
    """A timeout that did nothing: X cannot tell and asks a person; Mastodon retries with its key."""
    fakes[name].platform.fail("timeout", seconds=1.5, path=PATHS[name])
    post_id = schedule(sns_settings, sessions, channels=[name])
    drain(sns_settings, sessions)
    (delivery,) = shown(sessions, post_id)["deliveries"]
    assert delivery["state"] == final
    if final == "unknown":
        assert "not found in recent posts" in delivery["error"] and "check the account" in delivery["error"]
    assert len(fakes.published(name)) == published


def test_rate_limit_reset_is_honoured_and_shared(
    db_url: str, sessions: sessionmaker[Session], fakes: Fakes
) -> None:
    sns_settings = tuned(db_url, fakes, notifier_concurrency=1)
    reset = int(time.time()) + 600
    headers = {"x-rate-limit-remaining": "0", "x-rate-limit-reset": str(reset)}
    fakes.x.platform.fail("status", status=429, headers=headers, path="/2/tweets")
    first = schedule(sns_settings, sessions, channels=["x"], title="一通目")
    second = schedule(sns_settings, sessions, channels=["x"], title="二通目")
    run_worker(sns_settings)
    assert states(sessions, first) == {"x": "pending"} and states(sessions, second) == {"x": "pending"}
    assert len(fakes.x.state.find("/2/tweets")) == 1  # the second waited without calling X
    with sessions() as s:
        run_ats = s.scalars(select(Delivery.run_at)).all()
        limit = s.get(ChannelLimit, "x:1500000000000000001:tweets")
    assert all(abs(r.timestamp() - reset) < 2 for r in run_ats)
    assert limit is not None and abs(limit.blocked_until - reset) < 1 and limit.remaining == 0


def test_remaining_zero_blocks_until_reset(
    db_url: str, sessions: sessionmaker[Session], fakes: Fakes
) -> None:
    sns_settings = tuned(db_url, fakes, notifier_concurrency=1)
    fakes.mastodon.platform.window.set(1, 300)  # type: ignore[attr-defined]
    ids = [schedule(sns_settings, sessions, channels=["mastodon"], title=f"第{i}報") for i in range(2)]
    run_worker(sns_settings)
    assert sorted(states(sessions, i)["mastodon"] for i in ids) == ["pending", "sent"]
    assert len(fakes.mastodon.state.find("/statuses")) == 1  # no call into a known-empty window


def test_persistent_timeouts_end_unknown_on_keyed_channels(
    db_url: str, fakes: Fakes, sessions: sessionmaker[Session]
) -> None:
    settings = tuned(db_url, fakes, notifier_max_attempts=2)
    fakes.mastodon.platform.fail("timeout", seconds=1.5, path="/statuses", times=-1)
    post_id = schedule(settings, sessions, channels=["mastodon"])
    drain(settings, sessions)
    (delivery,) = shown(sessions, post_id)["deliveries"]
    assert delivery["state"] == "unknown" and "gave up after 2 attempts" in delivery["error"]


def _interrupt(sessions: sessionmaker[Session], post_id: int, *, ago: dt.timedelta) -> dict[str, Any]:
    """Make the post's delivery look like its worker died mid-call (open attempt, lease run out)."""
    now = utcnow()
    with sessions.begin() as s:
        delivery = s.scalars(select(Delivery).where(Delivery.post_id == post_id)).one()
        delivery.state, delivery.attempts = "sending", 1
        delivery.lease_owner, delivery.lease_until = "dead-worker", now - dt.timedelta(seconds=1)
        delivery.first_attempt_at = now - ago
        s.add(DeliveryAttempt(delivery_id=delivery.id, worker="dead-worker", started_at=now - ago))
        s.execute(update(Post).where(Post.id == post_id).values(state="sending"))
        return {
            "key": delivery.idempotency_key,
            "text": delivery.payload["texts"]["ja"][0],
            "id": delivery.id,
        }


@pytest.mark.parametrize(
    ("name", "reached_platform", "final"),
    [
        ("x", True, "sent"),
        ("x", False, "unknown"),
        ("facebook", True, "sent"),
        ("facebook", False, "unknown"),
        ("mastodon", True, "sent"),
        ("mastodon", False, "sent"),
        ("bluesky", True, "sent"),
        ("bluesky", False, "sent"),
    ],
)
def test_takeover_after_a_dead_worker(
    name: str,
    reached_platform: bool,
    final: str,
    sns_settings: Settings,
    sessions: sessionmaker[Session],
    fakes: Fakes,
) -> None:
    post_id = schedule(sns_settings, sessions, channels=[name])
    dead = _interrupt(sessions, post_id, ago=dt.timedelta(seconds=30))
    if reached_platform:
        _publish_directly(name, fakes, dead["key"], dead["text"])
    run_worker(sns_settings)
    (delivery,) = shown(sessions, post_id)["deliveries"]
    assert delivery["state"] == final
    assert len(fakes.published(name)) == (1 if reached_platform or final == "sent" else 0)
    assert attempts(sessions, name)[0] == "interrupted"


def _publish_directly(name: str, fakes: Fakes, key: str, text: str) -> None:
    """What the dead worker's call did on the platform, with the same key where there is one."""
    url = fakes[name].url
    if name == "x":
        httpx.post(f"{url}/2/tweets", json={"text": text}, headers={"Authorization": "OAuth x"})
    elif name == "facebook":
        page = fakes.facebook.platform.page_id  # type: ignore[attr-defined]
        httpx.post(f"{url}/v21.0/{page}/feed", data={"message": text, "access_token": "fake-page-token"})
    elif name == "mastodon":
        auth = {"Authorization": "Bearer fake-mastodon-token", "Idempotency-Key": key}
        httpx.post(f"{url}/api/v1/statuses", data={"status": text}, headers=auth)
    else:
        session = httpx.post(
            f"{url}/xrpc/com.atproto.server.createSession",
            json={"identifier": "suita-city.bsky.social", "password": "fake-app-password"},
        ).json()
        body = {
            "repo": session["did"],
            "collection": "app.bsky.feed.post",
            "rkey": key,
            "record": {"text": text},
        }
        httpx.post(
            f"{url}/xrpc/com.atproto.repo.createRecord",
            json=body,
            headers={"Authorization": f"Bearer {session['accessJwt']}"},
        )
    assert len(fakes.published(name)) == 1


def test_expired_idempotency_key_is_not_trusted(
    sns_settings: Settings, sessions: sessionmaker[Session], fakes: Fakes
) -> None:
    """Mastodon forgets keys after an hour: an interrupted call that old is left to a person."""
    post_id = schedule(sns_settings, sessions, channels=["mastodon"])
    _interrupt(sessions, post_id, ago=dt.timedelta(hours=2))
    run_worker(sns_settings)
    (delivery,) = shown(sessions, post_id)["deliveries"]
    assert delivery["state"] == "unknown" and "key has expired" in delivery["error"]
    assert fakes.published("mastodon") == []


@pytest.mark.serial  # on a busy machine a slow worker pass outlasts the 50 ms backoff and retries again
def test_server_error_with_lookup_down_waits_instead_of_guessing(
    sns_settings: Settings, sessions: sessionmaker[Session], fakes: Fakes
) -> None:
    """X answered 5xx and its timeline cannot be read: neither resend blindly nor give up."""
    fakes.x.platform.fail("status", status=503, path="/2/tweets", method="POST")
    fakes.x.platform.fail("status", status=500, path="/2/users/me", times=2)
    post_id = schedule(sns_settings, sessions, channels=["x"])
    run_worker(sns_settings)
    time.sleep(0.2)
    run_worker(sns_settings)
    assert states(sessions, post_id) == {"x": "pending"} and fakes.published("x") == []
    drain(sns_settings, sessions)
    assert states(sessions, post_id) == {"x": "sent"} and len(fakes.published("x")) == 1
