"""The emergency template page in headless Chromium against the live app: pick the evacuation order,
fill its slots once, preview all seven languages, send; a missing slot is named."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.settings import Settings
from fakes.fake_server import ThreadedServer
from notifier.ledger_tables import Post
from tests.conftest import browser_sign_in, make_settings
from tests.notifier.conftest import FAST
from tests.platform_fakes import Fakes

pytestmark = pytest.mark.browser


@pytest.fixture
def settings(db_url: str, fakes: Fakes) -> Settings:
    return make_settings(db_url, **fakes.settings(), **FAST)


def test_an_evacuation_order_from_its_template(
    page: Any, live_server: ThreadedServer, staff_user: str, sessions: sessionmaker[Session]
) -> None:
    browser_sign_in(page, live_server, "/emergency", staff_user)
    assert page.get_by_role("heading", level=1).inner_text().startswith("緊急情報テンプレート")
    page.locator("#template").select_option("evacuation-level4-instruction")
    assert (
        "未レビューの言語 / Not reviewed yet: 日本語、やさしい日本語" in page.locator("#review").inner_text()
    )

    page.locator("#slot-area").fill("千里山西")
    page.locator("#kana-area").fill("せんりやまにし")
    page.locator("#slot-time").fill("2026-12-06T15:00")
    page.get_by_role("button", name="プレビュー / Preview").click()
    page.locator("#problems li").first.wait_for()
    assert "shelters" in page.locator("#problems").inner_text()

    page.locator("#slot-shelters").fill("千里第二小学校、市民体育館")
    page.locator("#kana-shelters").fill("せんりだいにしょうがっこう")
    page.get_by_role("button", name="プレビュー / Preview").click()
    page.locator('#preview article[data-lang="vi"]').wait_for()
    assert page.locator("#preview article").count() == 7
    vi = page.locator('#preview article[data-lang="vi"]').inner_text()
    assert "Chỉ thị sơ tán 千里山西 (Senriyamanishi)" in vi and "LINE · ベトナム語" in vi
    assert (
        "千里第二小学校(せんりだいにしょうがっこう)"
        in page.locator('#preview article[data-lang="ja-easy"]').inner_text()
    )

    page.get_by_role("button", name="緊急として今すぐ配信 / Send now as an emergency").click()
    page.locator("#result", has_text="No.").wait_for()
    assert "7 言語 / languages" in page.locator("#result").inner_text()
    with sessions() as s:
        (post,) = s.scalars(select(Post)).all()
        assert post.urgency == "emergency" and post.topic == "bousai" and len(post.variants) == 6
