"""Disaster mode end to end: an admin switches it on with a headline; the rich menu becomes the
disaster menu at the fake LINE; answers, `/readyz` and staff pages carry the headline; switched off,
the normal menu is the default again."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app import audit
from app.audit_tables import AuditEvent
from app.settings import Settings
from bot import rich_menu
from bot.bot_tables import LineUser
from fakes import fake_line_events as ev
from fakes.fake_line import FakeLine
from tests.bot.conftest import make_bot_app, use_faq
from tests.bot.helpers import RESIDENT, post, say, tap, wait_for
from tests.conftest import sign_in, sign_in_as

ON: dict[str, Any] = {
    "on": True,
    "headline": "吹田市全域に避難指示(警戒レベル4)",
    "link": "https://www.city.suita.osaka.jp/bousai",
}


@pytest.fixture
def admin_client(
    bot_settings: Settings, fake_line: FakeLine, sessions: sessionmaker[Session]
) -> Iterator[TestClient]:
    app = make_bot_app(bot_settings)
    with TestClient(app) as client:
        use_faq(app)
        sign_in_as(client, sessions, "admin")
        yield client


def default_menu(fake: FakeLine) -> dict[str, Any] | None:
    menus = fake.rich_menus
    with menus.lock:
        return menus.menus.get(menus.default_id) if menus.default_id else None


@pytest.mark.usefixtures("cjk_font")
def test_switching_on_and_off_changes_the_rich_menu_and_every_answer(
    admin_client: TestClient, fake_line: FakeLine
) -> None:
    assert admin_client.get("/api/v1/disaster-mode").json()["on"] is False
    normal = admin_client.put("/api/v1/disaster-mode", json={"on": False}).json()  # installs the normal menu
    normal_id = (default_menu(fake_line) or {})["richMenuId"]
    assert normal["on"] is False and (default_menu(fake_line) or {})["name"] == rich_menu.texts("main").name

    r = admin_client.put("/api/v1/disaster-mode", json=ON)
    assert r.status_code == 200, r.text
    state = r.json()
    assert state["on"] is True and state["headline"] == ON["headline"] and state["changed_by"] == "u-admin"
    menu = default_menu(fake_line) or {}
    assert (
        menu["name"] == "吹田市 災害時メニュー"
        and menu["richMenuId"] == state["rich_menu"]["disaster_menu_id"]
    )
    actions = [a["action"] for a in menu["areas"]]
    assert actions[1] == {"type": "uri", "uri": ON["link"]} and actions[2]["data"] == "a=emergency"
    assert menu["richMenuId"] in fake_line.rich_menus.images

    reply = say(admin_client, fake_line, "メニュー")
    assert reply["text"].startswith("⚠️【災害時の緊急情報】吹田市全域に避難指示(警戒レベル4)")
    report = tap(admin_client, fake_line, actions[0]["data"])  # the "report damage" tile
    assert actions[0]["displayText"] and "【1/4】" in report["text"]
    assert "中止" in say(admin_client, fake_line, "やめる")["text"]
    ready = admin_client.get("/readyz").json()
    assert ready["disaster_mode"]["on"] is True and ready["disaster_mode"]["headline"] == ON["headline"]
    page = admin_client.get("/simulator").text
    assert "災害モード中" in page and ON["headline"] in page

    off = admin_client.put("/api/v1/disaster-mode", json={"on": False}).json()
    assert off["on"] is False and off["rich_menu"]["disaster_menu_id"] is None
    assert (default_menu(fake_line) or {})["richMenuId"] == normal_id
    assert menu["richMenuId"] not in fake_line.rich_menus.menus  # the disaster menu is deleted
    assert not say(admin_client, fake_line, "メニュー")["text"].startswith("⚠️")
    assert admin_client.get("/readyz").json()["disaster_mode"] is None
    assert "災害モード中" not in admin_client.get("/simulator").text


def test_only_approvers_and_admins_switch_and_a_headline_is_required(
    bot_settings: Settings, fake_line: FakeLine, sessions: sessionmaker[Session], staff_user: str
) -> None:
    app = make_bot_app(bot_settings)
    with TestClient(app) as client:
        assert client.get("/api/v1/disaster-mode").status_code == 401
        sign_in(client, staff_user)  # an editor
        assert client.get("/api/v1/disaster-mode").status_code == 200
        assert client.put("/api/v1/disaster-mode", json=ON).status_code == 403
        sign_in_as(client, sessions, "approver")
        r = client.put("/api/v1/disaster-mode", json={"on": True})
        assert r.status_code == 422 and "headline" in r.text
        assert (
            client.put("/api/v1/disaster-mode", json={**ON, "link": "javascript:alert(1)"}).status_code == 422
        )


@pytest.mark.usefixtures("cjk_font")
def test_the_mode_stays_on_when_line_fails_and_says_so(admin_client: TestClient, fake_line: FakeLine) -> None:
    fake_line.fail("status", status=500, path="/v2/bot/richmenu$", method="POST", times=-1)
    state = admin_client.put("/api/v1/disaster-mode", json=ON).json()
    assert state["on"] is True and "リッチメニューを切り替えられませんでした" in state["rich_menu"]["note"]


def test_every_switch_is_in_the_audit_log(admin_client: TestClient, sessions: sessionmaker[Session]) -> None:
    assert admin_client.put("/api/v1/disaster-mode", json=ON).status_code == 200
    assert admin_client.put("/api/v1/disaster-mode", json={"on": False}).status_code == 200
    with sessions() as s:
        events = s.scalars(select(AuditEvent).where(AuditEvent.object_type == "disaster_mode")).all()
        assert [(e.action, e.actor_role) for e in events] == [
            ("disaster_mode.on", "admin"),
            ("disaster_mode.off", "admin"),
        ]
        assert events[0].summary["on"] == [False, True] and events[0].summary["headline"][1] == ON["headline"]
        assert audit.verify(s)[1] is None


def test_a_vietnamese_resident_over_the_real_webhook(
    bot_client: TestClient, fake_line: FakeLine, sessions: sessionmaker[Session]
) -> None:
    """Follow with a Vietnamese LINE profile: welcome, menu, fallback and the emergency numbers in
    Vietnamese; the language is remembered from the profile, not stored as a choice."""
    fake_line.add_follower(RESIDENT, "Nguyễn", "vi")
    post(bot_client, [ev.follow_event(RESIDENT, fake_line.issue_reply_token(RESIDENT))])
    welcome, _chooser = wait_for(
        lambda: fake_line.messages_for(RESIDENT)[:2] if len(fake_line.messages_for(RESIDENT)) == 2 else None
    )
    assert welcome["text"].startswith("Cảm ơn bạn đã kết bạn")
    assert say(bot_client, fake_line, "menu")["text"].startswith("Với tài khoản LINE chính thức")
    assert say(bot_client, fake_line, "asdfgh")["text"].startswith("Xin lỗi, chúng tôi không trả lời được")
    assert tap(bot_client, fake_line, "a=emergency")["text"].startswith("Số điện thoại khẩn cấp")
    with sessions() as s:
        user = s.get(LineUser, RESIDENT)
        assert user is not None and (user.language, user.profile_language) == (None, "vi")
