"""The issue's acceptance path in the simulator: a resident files a report with a category, a photo and a
location, gets its number, and sees the push when staff mark it handled. And a restart in the middle of
a LINE outage loses no photo."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from app.settings import Settings
from fakes.fake_line import FakeLine
from reports.reports_tables import ReportPhoto
from storage.base import utcnow
from tests.bot.helpers import post, tap, wait_for
from tests.conftest import sign_in_as
from tests.reports.conftest import FAST_JOBS


def sim(client: TestClient, payload: dict[str, Any], seen: list[dict[str, Any]]) -> dict[str, Any]:
    """Do something in the simulator; the bot's last new message."""
    assert client.post("/simulator/api/send", json=payload).json() == {"webhook_status": 200}
    fresh = wait_for(lambda: client.get(f"/simulator/api/messages?after={len(seen)}").json()["messages"])
    seen += fresh
    last: dict[str, Any] = fresh[-1]
    return last


def test_a_report_filed_in_the_simulator(client: TestClient, sessions: sessionmaker[Session]) -> None:
    client.app.state.report_jobs.tuning = FAST_JOBS  # type: ignore[attr-defined]
    seen: list[dict[str, Any]] = []
    step1 = sim(client, {"kind": "text", "text": "被害を報告"}, seen)
    assert "【1/4】" in step1["text"]
    step2 = sim(client, {"kind": "postback", "data": "a=rp&s=cat&c=building"}, seen)
    assert [b["type"] for b in step2["quick_replies"]][:2] == ["camera", "cameraRoll"]
    assert "1/3" in sim(client, {"kind": "image"}, seen)["text"]
    sim(client, {"kind": "postback", "data": "a=rp&s=next"}, seen)
    sim(client, {"kind": "location"}, seen)
    sim(client, {"kind": "postback", "data": "a=rp&s=skip"}, seen)
    receipt = sim(client, {"kind": "postback", "data": "a=rp&s=send"}, seen)
    assert "R-000001" in receipt["text"]

    wait_for(lambda: _photo_state(sessions) == "stored", what="the simulator's photo fetched")
    sign_in_as(client, sessions, "editor")
    (report,) = client.get("/api/v1/reports").json()["reports"]
    assert (report["category"], report["source"], report["lat"]) == ("building", "line", 34.7594)
    feature = client.get("/api/v1/reports.geojson").json()["features"][0]
    assert feature["properties"]["id"] == report["id"]
    assert f"\r\n{report['id']},".encode() in client.get("/api/v1/reports.csv").content
    assert (
        client.post(f"/api/v1/reports/{report['id']}/status", json={"status": "handled"}).status_code == 200
    )
    pushed = wait_for(
        lambda: client.get(f"/simulator/api/messages?after={len(seen)}").json()["messages"], what="push"
    )
    assert "R-000001" in pushed[0]["text"] and "対応が済みました" in pushed[0]["text"]


def _photo_state(sessions: sessionmaker[Session]) -> str | None:
    with sessions() as s:
        return s.scalar(select(ReportPhoto.state))


def test_a_restart_during_a_line_outage_loses_no_photo(
    flow_settings: Settings, fake_line: FakeLine, sessions: sessionmaker[Session]
) -> None:
    from fakes import fake_line_events as ev
    from tests.bot.conftest import make_bot_app
    from tests.bot.helpers import RESIDENT as U

    fake_line.fail("status", status=503, path="/content$", times=-1)  # LINE's data API is down
    first = make_bot_app(flow_settings)
    first.state.report_tuning = FAST_JOBS
    with TestClient(first) as client:
        tap(client, fake_line, "a=rp&s=start")
        tap(client, fake_line, "a=rp&s=cat&c=fire")
        event = ev.image_event(U, fake_line.issue_reply_token(U))
        fake_line.add_content(event["message"]["id"], ev.sample_photo())
        assert post(client, [event]).status_code == 200
        for _ in range(3):
            tap(client, fake_line, "a=rp&s=skip")
        tap(client, fake_line, "a=rp&s=send")
        wait_for(lambda: _attempts(sessions) >= 1, what="a failed fetch")
    # the process is gone; say it died holding the photo's lease
    with sessions() as s, s.begin():
        s.execute(update(ReportPhoto).values(lease_until=utcnow(), next_try_at=None))
    fake_line.state.reset()  # LINE is back
    second = make_bot_app(flow_settings)
    second.state.report_tuning = FAST_JOBS
    with TestClient(second):
        wait_for(lambda: _photo_state(sessions) == "stored", what="the photo after the restart")


def _attempts(sessions: sessionmaker[Session]) -> int:
    with sessions() as s:
        return s.scalar(select(ReportPhoto.attempts)) or 0
