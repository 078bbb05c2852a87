"""The ledger: scheduling writes every delivery with its key; edits and cancels only before a delivery
starts; the claim statement leases each due row to exactly one worker, emergencies first."""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from app.settings import Settings
from notifier import post_ledger
from notifier.compose import ComposeError, PostIn
from notifier.delivery import claims
from notifier.ledger_tables import Delivery, Post
from storage import rate_budgets
from storage.base import utcnow
from storage.budget_tables import ChannelLimit
from storage.db import session_scope
from storage.rate_budgets import Bucket
from tests.notifier.conftest import post_data, schedule


def later(hours: float = 1) -> str:
    return (utcnow() + dt.timedelta(hours=hours)).isoformat()


def test_scheduling_writes_one_delivery_per_channel_with_a_key(
    sns_settings: Settings, sessions: sessionmaker[Session]
) -> None:
    post_id = schedule(sns_settings, sessions, scheduled_at=later(), urgency="emergency")
    with sessions() as s:
        post = post_ledger.load(s, post_id)
        assert post.state == "scheduled"
        assert [d.channel for d in post.deliveries] == ["x", "facebook", "mastodon", "bluesky"]
        assert all(d.priority == 1 and d.state == "pending" and d.attempts == 0 for d in post.deliveries)
        keys = {d.channel: d.idempotency_key for d in post.deliveries}
    assert len(set(keys.values())) == 4
    assert len(keys["bluesky"]) == 13  # a TID record key


def test_draft_has_no_deliveries_until_scheduled(
    sns_settings: Settings, sessions: sessionmaker[Session]
) -> None:
    from notifier.compose import prepare

    with session_scope(sessions) as s:
        post_id = post_ledger.create_post(
            s, prepare(post_data(), sns_settings, utcnow()), author="a", draft=True
        ).id
    with session_scope(sessions) as s:
        assert post_ledger.load(s, post_id).deliveries == []
        post_ledger.schedule_post(s, post_id, sns_settings, utcnow(), scheduled_at=None)
    with sessions() as s:
        post = post_ledger.load(s, post_id)
        assert post.state == "scheduled" and len(post.deliveries) == 4


def test_edit_replaces_content_and_channels_before_start(
    sns_settings: Settings, sessions: sessionmaker[Session]
) -> None:
    post_id = schedule(sns_settings, sessions, scheduled_at=later())
    data = PostIn.model_validate(post_data(title="訂正版", channels=["x", "line"], scheduled_at=later(2)))
    settings = sns_settings.model_copy(update={"line_channel_access_token": "t"})
    with session_scope(sessions) as s:
        post_ledger.edit_post(s, post_id, data, settings, utcnow())
    with sessions() as s:
        post = post_ledger.load(s, post_id)
        assert post.title == "訂正版" and [d.channel for d in post.deliveries] == ["x", "line"]
        assert all("訂正版" in d.payload["texts"]["ja"][0] for d in post.deliveries)


@pytest.mark.parametrize("action", ["edit", "cancel"])
def test_no_change_once_a_delivery_started(
    action: str, sns_settings: Settings, sessions: sessionmaker[Session]
) -> None:
    post_id = schedule(sns_settings, sessions)
    with session_scope(sessions) as s:
        s.execute(update(Delivery).where(Delivery.channel == "x").values(attempts=1, state="sent"))
    with (
        session_scope(sessions) as s,
        pytest.raises(post_ledger.LedgerError, match="already started on x") as err,
    ):
        if action == "edit":
            post_ledger.edit_post(s, post_id, PostIn.model_validate(post_data()), sns_settings, utcnow())
        else:
            post_ledger.cancel_post(s, post_id)
    assert err.value.status == 409


def test_cancel(sns_settings: Settings, sessions: sessionmaker[Session]) -> None:
    post_id = schedule(sns_settings, sessions, scheduled_at=later())
    with session_scope(sessions) as s:
        post_ledger.cancel_post(s, post_id)
    with sessions() as s:
        post = post_ledger.load(s, post_id)
        assert post.state == "cancelled" and {d.state for d in post.deliveries} == {"cancelled"}
    with session_scope(sessions) as s, pytest.raises(post_ledger.LedgerError, match="cancelled"):
        post_ledger.cancel_post(s, post_id)
    with sessions() as s:
        assert claims.claim(s, worker="w", now=utcnow() + dt.timedelta(days=1), lease=30, limit=10) == []


def test_edit_checks_like_create(sns_settings: Settings, sessions: sessionmaker[Session]) -> None:
    post_id = schedule(sns_settings, sessions, scheduled_at=later())
    bad = PostIn.model_validate(post_data(body="あ" * 300, scheduled_at=later()))
    with session_scope(sessions) as s, pytest.raises(ComposeError) as err:
        post_ledger.edit_post(s, post_id, bad, sns_settings, utcnow())
    assert {p.field for p in err.value.problems} == {"body"}


def test_claim_order_and_lease(sns_settings: Settings, sessions: sessionmaker[Session]) -> None:
    normal = schedule(sns_settings, sessions, channels=["x"])
    urgent = schedule(sns_settings, sessions, channels=["x"], urgency="emergency")
    schedule(sns_settings, sessions, channels=["x"], scheduled_at=later())
    now = utcnow()
    with session_scope(sessions) as s:
        ids = claims.claim(s, worker="w1", now=now, lease=30, limit=10)
    with sessions() as s:
        posts = [s.scalar(select(Delivery.post_id).where(Delivery.id == i)) for i in ids]
        assert posts == [urgent, normal]
        rows = s.scalars(select(Delivery).where(Delivery.id.in_(ids))).all()
        assert {(r.state, r.lease_owner) for r in rows} == {("sending", "w1")}
    with session_scope(sessions) as s:  # leased: nobody else gets them until the lease runs out
        assert claims.claim(s, worker="w2", now=now, lease=30, limit=10) == []
    with session_scope(sessions) as s:
        taken = claims.claim(s, worker="w2", now=now + dt.timedelta(seconds=31), lease=30, limit=10)
    assert sorted(taken) == sorted(ids)


def test_concurrent_claims_never_share_a_row(sns_settings: Settings, sessions: sessionmaker[Session]) -> None:
    with session_scope(sessions) as s:
        from notifier.compose import prepare

        prepared = prepare(post_data(channels=["x", "facebook"]), sns_settings, utcnow())
        for _ in range(100):
            post_ledger.create_post(s, prepared, author="t")
    got: Counter[int] = Counter()
    lock = threading.Lock()

    def worker(name: str) -> None:
        while True:
            with session_scope(sessions) as s:
                ids = claims.claim(s, worker=name, now=utcnow(), lease=60, limit=7)
            if not ids:
                return
            with lock:
                got.update(ids)

    threads = [threading.Thread(target=worker, args=(f"w{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(got) == 200 and set(got.values()) == {1}


def test_token_bucket_and_header_blocks(sessions: sessionmaker[Session]) -> None:
    with session_scope(sessions) as s:
        rate_budgets.ensure(s, "line:official:broadcast", Bucket(2, 60.0))
        rate_budgets.ensure(s, "x:1:tweets", None)
    t = 1_000_000.0
    with session_scope(sessions) as s:
        assert [rate_budgets.reserve(s, "line:official:broadcast", t) for _ in range(2)] == [0.0, 0.0]
        assert rate_budgets.reserve(s, "line:official:broadcast", t) == pytest.approx(30.0)
        assert rate_budgets.reserve(s, "line:official:broadcast", t + 30) == 0.0
        rate_budgets.ensure(s, "line:official:multicast", Bucket(200, 1.0))
        assert rate_budgets.reserve(s, "line:official:multicast", t, calls=150) == 0.0
        assert rate_budgets.reserve(s, "line:official:multicast", t, calls=100) == pytest.approx(
            0.25
        )  # all or none
        assert rate_budgets.reserve(s, "line:official:multicast", t + 0.25, calls=100) == 0.0
        assert rate_budgets.reserve(s, "x:1:tweets", t) == 0.0
    reset = dt.datetime.fromtimestamp(t + 900, dt.UTC)
    with session_scope(sessions) as s:
        rate_budgets.observe(
            s, "x:1:tweets", remaining=0, reset_at=reset, now=dt.datetime.fromtimestamp(t, dt.UTC)
        )
    with session_scope(sessions) as s:
        assert rate_budgets.reserve(s, "x:1:tweets", t + 1) == pytest.approx(899.0)
        assert rate_budgets.reserve(s, "x:1:tweets", t + 901) == 0.0
        assert s.get(ChannelLimit, "x:1:tweets").remaining == 0  # type: ignore[union-attr]


def test_resolve_unknown(sns_settings: Settings, sessions: sessionmaker[Session]) -> None:
    post_id = schedule(sns_settings, sessions, channels=["x", "facebook"])
    with session_scope(sessions) as s:
        s.execute(update(Delivery).values(state="unknown", attempts=1, error="outcome unclear"))
        s.execute(update(Post).values(state="done"))
        x, fb = s.scalars(select(Delivery.id).order_by(Delivery.id)).all()
    with session_scope(sessions) as s:
        post_ledger.resolve_delivery(s, x, "sent", by="kouhou", now=utcnow(), platform_id="123")
        post_ledger.resolve_delivery(s, fb, "resend", by="kouhou", now=utcnow())
    with sessions() as s:
        post = post_ledger.load(s, post_id)
        got = {d.channel: (d.state, d.platform_id) for d in post.deliveries}
        assert got == {"x": ("sent", "123"), "facebook": ("pending", None)} and post.state == "sending"
    with session_scope(sessions) as s, pytest.raises(post_ledger.LedgerError, match="is sent"):
        post_ledger.resolve_delivery(s, x, "resend", by="kouhou", now=utcnow())
