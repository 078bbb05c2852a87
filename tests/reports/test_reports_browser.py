"""`/reports` in headless Chromium against the live app: the list and the map (offline: the tile server
cannot be reached, the points still show), a report's detail with its photo, a status change, filters."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from app.settings import Settings
from fakes.fake_server import ThreadedServer
from reports import photo_files
from reports import report_store as store
from reports.reports_tables import DamageReport
from storage.db import session_scope
from tests.conftest import browser_sign_in
from tests.page_checks import axe_violations, wait_until, watch
from tests.reports.photo_samples import jpeg_with_gps

pytestmark = pytest.mark.browser
GSI = "https://cyberjapandata.gsi.go.jp/"


def seed(sessions: sessionmaker[Session], settings: Settings) -> None:
    with session_scope(sessions) as s:
        first = store.create(
            s, store.NewReport("flood", "phone", "地下道が冠水", 34.7595, 135.5168), "kouhou"
        )
        assert first is not None
        saved = photo_files.store(settings.report_media_dir, jpeg_with_gps(), 1_000_000)
        store.add_stored_photo(s, first.id, saved)
        store.create(s, store.NewReport("road", "line", None, 34.78, 135.50), "resident")
        store.create(s, store.NewReport("other", "mastodon", "#吹田市災害 倒木", confirmed=False,
                                        author="@taro@example.social", link="https://example.social/@taro/1",
                                        external_id="1"), "system")  # fmt: skip


@pytest.fixture
def reports_page(
    page: Any,
    live_server: ThreadedServer,
    staff_user: str,
    settings: Settings,
    sessions: sessionmaker[Session],
) -> Any:
    """/reports signed in over the seeded reports; requests off the app are aborted (tiles "offline")."""
    seed(sessions, settings)
    seen = watch(page, live_server.url)
    browser_sign_in(page, live_server, "/reports", staff_user)
    return seen


def test_staff_triage_a_report_on_the_list_and_the_map(page: Any, reports_page: Any) -> None:
    seen = reports_page
    page.locator("#report-list li").nth(2).wait_for()
    items = page.locator("#report-list li").all_inner_texts()
    assert items[0].startswith("R-000003") and "要確認" in items[0]
    # both reports with a place are drawn although no tile arrived
    wait_until(page, "() => document.querySelectorAll('#report-map path.leaflet-interactive').length === 2")
    assert all(url.startswith(GSI) for url in seen.offsite), seen.offsite
    assert seen.csp_violations() == [] and seen.errors == []
    assert axe_violations(page) == []

    page.get_by_role("button", name="R-000001").click()
    detail = page.locator("#report-detail")
    detail.wait_for()
    assert "地下道が冠水" in detail.inner_text()
    photo = page.get_by_role("img", name="写真 1 / Photo 1")
    wait_until(page, "img => img.complete && img.naturalWidth > 0", photo.element_handle())

    page.get_by_label("新しい状態 / New status").select_option("handled")
    page.get_by_label("メモ / Note").fill("排水完了")
    page.get_by_role("button", name="変更 / Change").click()
    page.locator("#status-message", has_text="変更しました").wait_for()
    page.locator("#detail-history li", has_text="排水完了").wait_for()
    assert "対応済み / Handled" in page.locator("#detail-history").inner_text()

    page.get_by_label("状態 / Status", exact=True).select_option("handled")
    page.get_by_role("button", name="表示 / Show").click()
    wait_until(page, "() => document.querySelectorAll('#report-list li').length === 1")
    assert page.get_by_role("link", name="CSV").get_attribute("href") == "/api/v1/reports.csv?status=handled"


def test_an_editor_corrects_category_and_place_of_a_collected_post(
    page: Any, reports_page: Any, sessions: sessionmaker[Session]
) -> None:
    seen = reports_page
    wait_until(page, "() => document.querySelectorAll('#report-map path.leaflet-interactive').length === 2")
    page.get_by_role("button", name="R-000003").click()
    page.locator("#report-detail").wait_for()
    page.get_by_label("正しい種類 / Correct category").select_option("landslide")
    page.get_by_label("緯度 / Latitude").fill("34.7702")
    page.get_by_label("経度 / Longitude").fill("135.5101")
    page.get_by_label("住所・目印 / Address or landmark").fill("千里山駅の東")
    page.get_by_role("button", name="訂正 / Correct").click()
    page.locator("#correct-message", has_text="訂正しました").wait_for()
    history = page.locator("#detail-history li", has_text="訂正 / corrected")
    history.wait_for()
    assert "その他 → 倒木・がけ崩れ" in history.inner_text() and "千里山駅の東" in history.inner_text()
    wait_until(page, "() => document.querySelectorAll('#report-map path.leaflet-interactive').length === 3")
    assert "倒木・がけ崩れ" in page.locator("#detail-fields").inner_text()
    page.get_by_role("button", name="訂正 / Correct").click()  # unchanged: nothing sent
    page.locator("#correct-message", has_text="変更する内容がありません").wait_for()
    with sessions() as s:
        fixed = s.get(DamageReport, 3)
        assert fixed is not None and (fixed.category, fixed.lat, fixed.lon) == (
            "landslide",
            34.7702,
            135.5101,
        )
    assert seen.errors == [] and seen.csp_violations() == []
    assert axe_violations(page) == []
