"""The template texts page in headless Chromium: from /emergency an editor opens a template's texts,
sees the unreviewed languages marked, has an edit lacking a slot refused by name, sends a Vietnamese
edit for approval; an approver approves it from the page (the language is unreviewed again: the text
changed), marks it reviewed, and the /emergency preview shows the new text."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from app.auth import create_staff_user
from app.settings import Settings
from fakes.fake_server import ThreadedServer
from storage.db import session_scope
from tests.conftest import STAFF_PASSWORD, browser_sign_in, make_settings
from tests.notifier.conftest import FAST
from tests.platform_fakes import Fakes

pytestmark = pytest.mark.browser

ID = "evacuation-level4-instruction"
NEW_TITLE = "[Cảnh báo cấp 4] LỆNH SƠ TÁN {area}"
NEW_BODY = "Lúc {time}, hãy sơ tán khỏi {area} ngay.\nNơi sơ tán: {shelters}"


@pytest.fixture
def settings(db_url: str, fakes: Fakes) -> Settings:
    return make_settings(db_url, **fakes.settings(), **FAST, approval_required=True)


def test_an_edit_is_approved_and_reviewed_on_the_page(
    page: Any, browser: Any, live_server: ThreadedServer, sessions: sessionmaker[Session]
) -> None:
    with session_scope(sessions) as s:
        create_staff_user(s, username="hensyu", password=STAFF_PASSWORD, role="editor")
        create_staff_user(s, username="shounin", password=STAFF_PASSWORD, role="approver")
    browser_sign_in(page, live_server, "/emergency", "hensyu")
    page.get_by_role("link", name="テンプレートの文面・レビュー・編集 / Texts, reviews and edits").click()
    # the choice navigates from a deferred script: choose once the page has loaded (and the script run)
    page.wait_for_url(f"{live_server.url}/emergency/templates", wait_until="load")
    page.locator("#template-choice").select_option(ID)
    page.wait_for_url(f"{live_server.url}/emergency/templates?id={ID}")
    vi = page.locator("#lang-vi")
    assert "未レビュー / Not reviewed" in vi.locator("h3").inner_text()
    assert page.locator(".review.unreviewed").count() == 7
    assert page.locator("#waiting").inner_text() == "ありません / None"

    vi.get_by_text("ベトナム語の文面を編集 / Edit the vi text").click()
    vi.get_by_label("題名 / Title").fill(NEW_TITLE)
    vi.get_by_label("本文 / Body").fill("Lúc {time}, hãy sơ tán khỏi {area} ngay.")
    vi.get_by_role("button", name="保存して承認を依頼 / Save and ask for approval").click()
    page.locator("#texts-problem li").first.wait_for()
    assert "項目 {shelters} がありません" in page.locator("#texts-problem").inner_text()

    vi.get_by_label("本文 / Body").fill(NEW_BODY)
    vi.get_by_role("button", name="保存して承認を依頼 / Save and ask for approval").click()
    page.locator("#lang-vi .pending", has_text="承認待ち / Waiting for approval").wait_for()
    assert page.locator("#lang-vi .pending").get_by_role("button", name="承認 / Approve").count() == 0
    assert "· vi — No." in page.locator("#waiting").inner_text()

    other = browser.new_context(locale="ja-JP").new_page()
    browser_sign_in(other, live_server, f"/emergency/templates?id={ID}", "shounin")
    pending = other.locator("#lang-vi .pending")
    assert "LỆNH SƠ TÁN {area}" in pending.inner_text()
    pending.get_by_role("button", name="承認 / Approve").click()
    other.locator("#lang-vi .current", has_text="LỆNH SƠ TÁN").wait_for()
    vi2 = other.locator("#lang-vi")
    assert other.locator("#lang-vi .pending").count() == 0
    assert "未レビュー / Not reviewed" in vi2.locator("h3").inner_text()
    assert "hensyu が編集、shounin が承認" in vi2.inner_text()
    vi2.get_by_role("button", name="この文面をレビュー済みにする / Mark this text reviewed").click()
    other.locator("#lang-vi h3", has_text="レビュー済み / Reviewed: shounin").wait_for()
    assert other.locator(".review.unreviewed").count() == 6

    other.goto(f"{live_server.url}/emergency")
    other.locator("#template").select_option(ID)
    assert "ベトナム語" not in other.locator("#review").inner_text()
    other.locator("#slot-area").fill("千里山西")
    other.locator("#kana-area").fill("せんりやまにし")
    other.locator("#slot-shelters").fill("市民体育館")
    other.locator("#slot-time").fill("2026-12-06T15:00")
    other.get_by_role("button", name="プレビュー / Preview").click()
    other.locator('#preview article[data-lang="vi"]').wait_for()
    assert (
        "LỆNH SƠ TÁN 千里山西 (Senriyamanishi)"
        in other.locator('#preview article[data-lang="vi"]').inner_text()
    )
