"""The staff JSON API under /api/v1 (signed-in TestClient, real database)."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from app.auth import create_staff_user
from app.settings import Settings
from notifier.ledger_tables import Delivery
from storage.base import utcnow
from storage.db import session_scope
from tests.conftest import STAFF_PASSWORD, sign_in
from tests.notifier.conftest import post_data


@pytest.fixture
def settings(sns_settings: Settings) -> Settings:
    return sns_settings


def later(hours: float = 1) -> str:
    return (utcnow() + dt.timedelta(hours=hours)).isoformat()


def create(client: TestClient, **changes: Any) -> dict[str, Any]:
    r = client.post("/api/v1/posts", json=post_data(**changes))
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


def test_sign_in_and_role_required(client: TestClient, sessions: sessionmaker[Session]) -> None:
    assert client.get("/api/v1/posts").status_code == 401
    assert client.post("/api/v1/posts", json=post_data()).status_code == 401
    with session_scope(sessions) as s:
        create_staff_user(s, username="viewer", password=STAFF_PASSWORD, role="viewer")
    sign_in(client, "viewer")
    assert client.get("/api/v1/posts").status_code == 200
    assert client.post("/api/v1/posts", json=post_data()).status_code == 403


def test_create_shows_deliveries_in_tokyo_time(staff_client: TestClient) -> None:
    body = create(staff_client, scheduled_at="2030-05-01T09:00:00+09:00", topic="event")
    assert body["state"] == "scheduled" and body["author"] == "kouhou"
    assert body["scheduled_at"] == "2030-05-01T09:00:00+09:00"
    assert [d["channel"] for d in body["deliveries"]] == ["x", "facebook", "mastodon", "bluesky"]
    assert all(d["state"] == "pending" and d["overdue"] is False for d in body["deliveries"])
    again = staff_client.get(f"/api/v1/posts/{body['id']}").json()
    assert again["deliveries"] == body["deliveries"]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"channels": ["x", "tiktok"]}, "channels[1]"),
        ({"scheduled_at": "2020-01-01T09:00:00+09:00"}, "scheduled_at"),
        ({"body": "あ" * 200}, "body"),
        ({"topic": "nope"}, "topic"),
        ({"scheduled_at": "2030-01-01T09:00:00"}, "scheduled_at"),
    ],
)
def test_invalid_post_lists_each_field(staff_client: TestClient, changes: dict[str, Any], field: str) -> None:
    r = staff_client.post("/api/v1/posts", json=post_data(**changes))
    assert r.status_code == 422
    assert field in [p["field"] for p in r.json()["detail"]]
    assert staff_client.get("/api/v1/posts").json()["posts"] == []  # nothing stored


def test_draft_then_schedule(staff_client: TestClient) -> None:
    r = staff_client.post("/api/v1/posts", json={**post_data(scheduled_at=later()), "draft": True})
    draft = r.json()
    assert draft["state"] == "draft" and draft["deliveries"] == []
    kept = staff_client.post(f"/api/v1/posts/{draft['id']}/schedule").json()
    assert kept["state"] == "scheduled" and kept["scheduled_at"] == draft["scheduled_at"]
    assert staff_client.post(f"/api/v1/posts/{draft['id']}/schedule").status_code == 409


def test_schedule_a_draft_now(staff_client: TestClient) -> None:
    draft = staff_client.post(
        "/api/v1/posts", json={**post_data(scheduled_at=later(5)), "draft": True}
    ).json()
    now = staff_client.post(f"/api/v1/posts/{draft['id']}/schedule", json={"scheduled_at": None}).json()
    when = dt.datetime.fromisoformat(now["scheduled_at"])
    assert abs((when - utcnow()).total_seconds()) < 10


def test_edit_until_a_delivery_starts(staff_client: TestClient, sessions: sessionmaker[Session]) -> None:
    post = create(staff_client, scheduled_at=later())
    r = staff_client.put(
        f"/api/v1/posts/{post['id']}", json=post_data(title="差し替え", channels=["x"], scheduled_at=later())
    )
    assert r.status_code == 200 and r.json()["title"] == "差し替え" and len(r.json()["deliveries"]) == 1
    bad = staff_client.put(
        f"/api/v1/posts/{post['id']}", json=post_data(body="あ" * 300, scheduled_at=later())
    )
    assert (
        bad.status_code == 422
        and staff_client.get(f"/api/v1/posts/{post['id']}").json()["title"] == "差し替え"
    )
    with session_scope(sessions) as s:
        s.execute(update(Delivery).values(state="sending", attempts=1))
    r = staff_client.put(f"/api/v1/posts/{post['id']}", json=post_data(scheduled_at=later()))
    assert r.status_code == 409 and "already started" in r.json()["detail"]
    assert staff_client.post(f"/api/v1/posts/{post['id']}/cancel").status_code == 409


def test_cancel_and_list(staff_client: TestClient) -> None:
    first = create(staff_client, scheduled_at=later())
    second = create(staff_client, scheduled_at=later(2))
    r = staff_client.post(f"/api/v1/posts/{first['id']}/cancel")
    assert r.json()["state"] == "cancelled" and {d["state"] for d in r.json()["deliveries"]} == {"cancelled"}
    listed = staff_client.get("/api/v1/posts").json()["posts"]
    assert [p["id"] for p in listed] == [second["id"], first["id"]]
    only = staff_client.get("/api/v1/posts", params={"state": "cancelled"}).json()["posts"]
    assert [p["id"] for p in only] == [first["id"]]
    page = staff_client.get("/api/v1/posts", params={"before_id": second["id"]}).json()["posts"]
    assert [p["id"] for p in page] == [first["id"]]


def test_not_found(staff_client: TestClient) -> None:
    assert staff_client.get("/api/v1/posts/999").status_code == 404
    assert staff_client.post("/api/v1/posts/999/cancel").status_code == 404
    assert staff_client.post("/api/v1/deliveries/999/resolve", json={"outcome": "sent"}).status_code == 404


def test_preview(staff_client: TestClient) -> None:
    r = staff_client.post("/api/v1/posts/preview", json=post_data(body="あ" * 200))
    body = r.json()
    assert r.status_code == 200 and body["channels"]["x"]["ok"] is False
    assert body["channels"]["facebook"]["languages"]["ja"][0]["text"].startswith("ごみ収集日の変更")
    assert [p["field"] for p in body["problems"]] == ["body"]
    stored = create(staff_client)
    again = staff_client.get(f"/api/v1/posts/{stored['id']}/preview").json()
    assert again["problems"] == [] and again["channels"]["bluesky"]["unit"] == "graphemes"


def test_resolve_unknown(staff_client: TestClient, sessions: sessionmaker[Session]) -> None:
    post = create(staff_client, channels=["x"])
    with session_scope(sessions) as s:
        s.execute(update(Delivery).values(state="unknown", attempts=1, error="outcome unclear"))
    delivery_id = post["deliveries"][0]["id"]
    r = staff_client.post(
        f"/api/v1/deliveries/{delivery_id}/resolve", json={"outcome": "sent", "platform_id": "42"}
    )
    assert r.status_code == 200
    (d,) = r.json()["deliveries"]
    assert (d["state"], d["platform_id"]) == ("sent", "42") and "kouhou" in d["error"]
    assert (
        staff_client.post(f"/api/v1/deliveries/{delivery_id}/resolve", json={"outcome": "maybe"}).status_code
        == 422
    )


def test_status_shows_stuck_deliveries(staff_client: TestClient, sessions: sessionmaker[Session]) -> None:
    create(staff_client, channels=["x"])
    with session_scope(sessions) as s:
        s.execute(update(Delivery).values(run_at=utcnow() - dt.timedelta(minutes=10)))
    status = staff_client.get("/api/v1/notifier/status").json()
    assert status["ok"] is False and status["overdue"] == 1 and status["workers_alive"] == 0
    assert any("no worker is running" in p for p in status["problems"])
    assert status["oldest_overdue_at"].endswith("+09:00")


def test_readyz_note_and_openapi(client: TestClient) -> None:
    note: dict[str, Any] = {}
    for _ in range(50):
        note = client.get("/readyz").json()["notes"].get("notifier", {})
        if note:
            break
        time.sleep(0.05)
    assert note["ok"] is True and note["workers_alive"] == 0 and note["worker_in_app"] is False
    paths = client.get("/openapi.json").json()["paths"]
    for path in (
        "/api/v1/posts",
        "/api/v1/posts/{post_id}",
        "/api/v1/posts/{post_id}/cancel",
        "/api/v1/posts/preview",
    ):
        assert path in paths
    assert paths["/api/v1/posts"]["post"]["responses"]["422"]
