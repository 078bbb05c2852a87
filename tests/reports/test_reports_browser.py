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
    assert page.get_by_role("link", name="CSV").get_attribute("href") == (
        "/api/v1/reports.csv?status=handled&duplicates=false"  # what the list shows
    )


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


def test_an_editor_merges_duplicates_sees_them_combined_and_undoes_it(page: Any, reports_page: Any) -> None:
    seen = reports_page
    page.locator("#report-list li").nth(2).wait_for()
    # a person confirms the collected post first
    page.get_by_role("button", name="R-000003").click()
    page.locator("#detail-fields", has_text="R-000003").wait_for()
    page.get_by_role("button", name="確認 / Confirm").click()
    page.locator("#detail-history li", has_text="確認 / confirmed").wait_for()
    assert page.locator("#detail-review").is_hidden()
    assert "要確認" not in page.locator("#report-list").inner_text()

    page.get_by_role("button", name="R-000001").click()
    page.locator("#detail-fields", has_text="R-000001").wait_for()
    page.get_by_label("この報告に統合する番号(複数可)/ Merge these reports into this one").fill("R-000002, 3")
    page.get_by_label("統合のメモ / Merge note").fill("同じ冠水")
    page.get_by_role("button", name="統合 / Merge").click()
    page.locator("#merge-message", has_text="2 件を統合しました").wait_for()
    merged = page.locator("#detail-duplicates li")
    assert merged.count() == 2
    assert (
        "R-000003" in merged.nth(1).inner_text()
        and "mastodon (@taro@example.social)" in merged.nth(1).inner_text()
    )
    assert "#吹田市災害 倒木" in merged.nth(1).inner_text()
    assert "2 件" in page.locator("#duplicate-count").inner_text()
    assert "同じ冠水" in page.locator("#detail-history").inner_text()
    # duplicates are hidden from the list and the map unless asked for
    wait_until(page, "() => document.querySelectorAll('#report-list li').length === 1")
    assert "重複 2 件" in page.locator("#report-list li").first.inner_text()
    wait_until(page, "() => document.querySelectorAll('#report-map path.leaflet-interactive').length === 1")
    page.get_by_label("重複も表示 / Show duplicates").check()
    page.get_by_role("button", name="表示 / Show").click()
    wait_until(page, "() => document.querySelectorAll('#report-list li').length === 3")

    page.get_by_role("button", name="統合を解除 / Unmerge R-000003").click()
    page.locator("#unmerge-message", has_text="R-000003 の統合を解除しました").wait_for()
    assert page.locator("#detail-duplicates li").count() == 1
    # a duplicate cannot be the main report of a merge
    page.get_by_role("button", name="R-000002").first.click()
    page.locator("#detail-fields", has_text="R-000002").wait_for()
    assert page.locator("#merge-form").is_hidden()
    assert seen.errors == [] and seen.csp_violations() == []
    assert axe_violations(page) == []
