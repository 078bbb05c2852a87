"""The damage-report flow end to end: signed webhooks into the app, replies and pushes at the fake LINE
server, photos fetched from its content endpoint, staff triage through the API."""

from __future__ import annotations

import json
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from fakes import fake_line_events as ev
from fakes.fake_line import FakeLine
from reports.reports_tables import DamageReport, ReportDraft, Reporter, ReportPhoto
from storage.base import utcnow
from tests.bot.helpers import RESIDENT as U
from tests.bot.helpers import idle, post, quick_data, quick_labels, say, tap, wait_for
from tests.conftest import sign_in_as
from tests.line_fixtures import user_id


def actions(message: dict[str, Any]) -> list[str]:
    return [i["action"]["type"] for i in message.get("quickReply", {}).get("items", [])]


def send_photo(client: TestClient, fake: FakeLine, user: str = U) -> dict[str, Any]:
    before = len(fake.messages_for(user))
    event = ev.image_event(user, fake.issue_reply_token(user))
    fake.add_content(event["message"]["id"], ev.sample_photo())
    assert post(client, [event]).status_code == 200
    return wait_for(lambda: fake.messages_for(user)[before:], what="reply to a photo")[-1]


def send_place(client: TestClient, fake: FakeLine, user: str = U) -> dict[str, Any]:
    before = len(fake.messages_for(user))
    assert post(client, [ev.location_event(user, fake.issue_reply_token(user))]).status_code == 200
    return wait_for(lambda: fake.messages_for(user)[before:], what="reply to a location")[-1]


def reports_of(sessions: sessionmaker[Session]) -> list[DamageReport]:
    with sessions() as s:
        return list(s.scalars(select(DamageReport).order_by(DamageReport.id)))


def test_a_resident_files_a_report_and_hears_when_it_is_handled(
    flow_client: TestClient, fake_line: FakeLine, sessions: sessionmaker[Session]
) -> None:
    first = say(flow_client, fake_line, "被害を報告")
    intro = fake_line.messages_for(U)[-2]["text"]
    assert "119" in intro and "110" in intro
    assert "【1/4】" in first["text"]
    assert "a=rp&s=cat&c=road" in quick_data(first)

    photo_step = tap(flow_client, fake_line, "a=rp&s=cat&c=road")
    assert "【2/4】" in photo_step["text"]
    assert actions(photo_step)[:2] == ["camera", "cameraRoll"]
    assert "1/3" in send_photo(flow_client, fake_line)["text"]
    place_step = tap(flow_client, fake_line, "a=rp&s=next")
    assert "【3/4】" in place_step["text"] and "location" in actions(place_step)
    note_step = send_place(flow_client, fake_line)
    assert "【4/4】" in note_step["text"]
    summary = say(flow_client, fake_line, "倒木で通行止め。連絡先 090-1111-2222")
    assert "道路の被害・通行止め" in summary["text"] and "写真:1 枚" in summary["text"]

    receipt = tap(flow_client, fake_line, "a=rp&s=send")
    assert "R-000001" in receipt["text"] and "119" in receipt["text"]
    (report,) = reports_of(sessions)
    assert (report.category, report.source, report.lat) == ("road", "line", 34.7594)
    assert "090-1111-2222" not in (report.note or "")
    photo = wait_for(lambda: _stored_photo(sessions), what="the photo fetched from LINE")
    assert photo.size and photo.file_name

    # staff: the report, its photo, an opaque reporter number, never the LINE user ID
    staff = flow_client
    sign_in_as(staff, sessions, "editor")
    listed = staff.get("/api/v1/reports").json()["reports"]
    assert U not in json.dumps(listed)
    assert isinstance(listed[0]["reporter"], int)
    assert staff.get(listed[0]["photos"][0]["url"]).status_code == 200

    pushes = len(fake_line.deliveries("push"))
    assert staff.post(f"/api/v1/reports/{report.id}/status", json={"status": "checking"}).status_code == 200
    assert staff.post(f"/api/v1/reports/{report.id}/status", json={"status": "handled"}).status_code == 200
    wait_for(lambda: len(fake_line.deliveries("push")) >= pushes + 2, what="two status pushes")
    # one report's pushes go one at a time, in order (reports.report_jobs.claim)
    texts = [m["text"] for d in fake_line.deliveries("push")[pushes:] for m in d.messages]
    assert "確認しています" in texts[0] and "R-000001" in texts[0]
    assert "対応が済みました" in texts[1]
    assert all(d.to == [U] for d in fake_line.deliveries("push")[pushes:])


def _stored_photo(sessions: sessionmaker[Session]) -> ReportPhoto | None:
    with sessions() as s:
        return s.scalar(select(ReportPhoto).where(ReportPhoto.state == "stored"))


def test_redelivered_and_repeated_confirmations_make_one_report(
    flow_client: TestClient, fake_line: FakeLine, sessions: sessionmaker[Session]
) -> None:
    say(flow_client, fake_line, "通報")
    tap(flow_client, fake_line, "a=rp&s=cat&c=fire")
    for _ in range(3):
        tap(flow_client, fake_line, "a=rp&s=skip")
    confirm = ev.postback_event(U, "a=rp&s=send", fake_line.issue_reply_token(U))
    assert post(flow_client, [confirm]).status_code == 200
    wait_for(lambda: "R-000001" in fake_line.messages_for(U)[-1].get("text", ""), what="the receipt")
    redelivered = {**confirm, "deliveryContext": {"isRedelivery": True}}
    assert post(flow_client, [redelivered]).status_code == 200
    idle(flow_client)
    again = tap(flow_client, fake_line, "a=rp&s=send")  # a second tap on the old button
    assert "中止" in again["text"] or "取り消" in again["text"]
    idle(flow_client)
    (report,) = reports_of(sessions)
    assert (report.category, report.address, report.lat) == ("fire", None, None)


def test_english_cancel_and_expiry(
    flow_client: TestClient, fake_line: FakeLine, sessions: sessionmaker[Session]
) -> None:
    first = say(flow_client, fake_line, "report damage")
    assert "[Step 1 of 4]" in first["text"]
    assert "cancelled" in say(flow_client, fake_line, "cancel")["text"]
    say(flow_client, fake_line, "report damage")
    with sessions() as s, s.begin():
        s.execute(update(ReportDraft).values(expires_at=utcnow()))
    late = tap(flow_client, fake_line, "a=rp&s=cat&c=flood")
    assert "expired" in late["text"]
    assert reports_of(sessions) == []


def test_a_photo_out_of_the_blue_offers_a_report_that_keeps_it(
    flow_client: TestClient, fake_line: FakeLine, sessions: sessionmaker[Session]
) -> None:
    offer = send_photo(flow_client, fake_line)
    assert "報告しますか" in offer["text"]
    first = tap(flow_client, fake_line, "a=rp&s=start")
    assert "【1/4】" in first["text"]
    tap(flow_client, fake_line, "a=rp&s=skip")  # no category: "other"
    for _ in range(3):
        tap(flow_client, fake_line, "a=rp&s=skip")
    tap(flow_client, fake_line, "a=rp&s=send")
    (report,) = reports_of(sessions)
    assert report.category == "other"
    wait_for(lambda: _stored_photo(sessions), what="the offered photo stored")


def test_a_line_outage_while_fetching_a_photo_is_retried(
    flow_client: TestClient, fake_line: FakeLine, sessions: sessionmaker[Session]
) -> None:
    fake_line.fail("status", status=503, path="/content$", times=4)
    say(flow_client, fake_line, "被害を報告")
    tap(flow_client, fake_line, "a=rp&s=cat&c=flood")
    send_photo(flow_client, fake_line)
    for _ in range(3):  # past the photos, the place and the note
        tap(flow_client, fake_line, "a=rp&s=skip")
    assert "R-000001" in tap(flow_client, fake_line, "a=rp&s=send")["text"]
    photo = wait_for(lambda: _stored_photo(sessions), timeout=15, what="the photo after the outage")
    assert photo.attempts >= 1


def test_unfollow_drops_the_link_and_the_pushes(
    flow_client: TestClient, fake_line: FakeLine, sessions: sessionmaker[Session]
) -> None:
    say(flow_client, fake_line, "被害を報告")
    for _ in range(4):
        tap(flow_client, fake_line, "a=rp&s=skip")
    tap(flow_client, fake_line, "a=rp&s=send")
    assert post(flow_client, [ev.unfollow_event(U)]).status_code == 200
    idle(flow_client)
    with sessions() as s:
        (reporter,) = s.scalars(select(Reporter))
        assert reporter.line_user_id is None
    (report,) = reports_of(sessions)
    assert report.reporter_id == reporter.id
    sign_in_as(flow_client, sessions, "editor")
    pushes = len(fake_line.deliveries("push"))
    moved = flow_client.post(f"/api/v1/reports/{report.id}/status", json={"status": "handled"})
    assert moved.status_code == 200
    idle(flow_client)
    assert len(fake_line.deliveries("push")) == pushes


def test_a_vietnamese_resident_reports_in_vietnamese(
    flow_client: TestClient, fake_line: FakeLine, sessions: sessionmaker[Session]
) -> None:
    vi = user_id(302)
    tap(flow_client, fake_line, "a=lang&l=vi", user=vi)  # the resident chose Tiếng Việt
    first = say(flow_client, fake_line, "Báo cáo thiệt hại", user=vi)
    intro = fake_line.messages_for(vi)[-2]["text"]
    assert intro.startswith("Bắt đầu báo cáo thiệt hại") and "119" in intro and "110" in intro
    assert "[Bước 1/4]" in first["text"] and "Ngập nước" in quick_labels(first)
    photo_step = tap(flow_client, fake_line, "a=rp&s=cat&c=flood", user=vi)
    assert "[Bước 2/4]" in photo_step["text"] and "Chụp ảnh" in [
        i["action"]["label"] for i in photo_step["quickReply"]["items"]
    ]
    assert "Đã nhận ảnh (1/3)" in send_photo(flow_client, fake_line, vi)["text"]
    assert "Gửi vị trí" in tap(flow_client, fake_line, "a=rp&s=next", user=vi)["text"]
    assert "[Bước 4/4]" in send_place(flow_client, fake_line, vi)["text"]
    summary = say(flow_client, fake_line, "nước ngập đến đầu gối", user=vi)
    assert "Loại: Ngập nước" in summary["text"] and "Gửi báo cáo này" in quick_labels(summary)
    receipt = tap(flow_client, fake_line, "a=rp&s=send", user=vi)
    assert "Số tiếp nhận là R-000001" in receipt["text"] and "119" in receipt["text"]
    (report,) = reports_of(sessions)
    with sessions() as s:
        assert s.get(Reporter, report.reporter_id).lang == "vi"  # type: ignore[union-attr]

    sign_in_as(flow_client, sessions, "editor")
    pushes = len(fake_line.deliveries("push"))
    assert (
        flow_client.post(f"/api/v1/reports/{report.id}/status", json={"status": "checking"}).status_code
        == 200
    )
    wait_for(lambda: len(fake_line.deliveries("push")) > pushes, what="the status push")
    (push,) = fake_line.deliveries("push")[pushes:]
    assert push.to == [vi] and push.messages[0]["text"] == (
        "Báo cáo R-000001 của bạn đang được nhân viên thành phố kiểm tra."
    )
