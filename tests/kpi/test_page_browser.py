"""The staff KPI page in headless Chromium against the live app."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from fakes.fake_server import ThreadedServer
from tests.conftest import browser_sign_in
from tests.kpi.conftest import Seeded
from tests.page_checks import wait_until

pytestmark = pytest.mark.browser


def test_staff_sign_in_see_the_kpi_and_narrow_the_period(
    page: Any, live_server: ThreadedServer, staff_user: str, seeded: Seeded
) -> None:
    browser_sign_in(page, live_server, "/kpi", staff_user)
    assert page.locator("html").get_attribute("lang") == "ja"
    assert page.get_by_role("heading", level=1).inner_text().startswith("SNS フォロワー数 KPI")
    latest = 40_000 + 20 * 59 + 20_000 + 5 * 60
    assert f"{latest:,} 人" in page.locator("#kpi-latest").inner_text()
    assert "90,400" in page.locator("#kpi-projection").inner_text()
    chart = page.get_by_role("img", name="フォロワー数の推移と目標のグラフ", exact=False)
    chart.scroll_into_view_if_needed()
    wait_until(page, "img => img.complete && img.naturalWidth > 0", chart.element_handle())
    assert "HTTP 503 Service Unavailable" in page.locator("#kpi-gaps").inner_text()
    assert page.locator("#kpi-monthly tbody tr").count() >= 2

    start, end = seeded.first + dt.timedelta(days=1), seeded.first + dt.timedelta(days=9)
    page.get_by_label("開始日 / From").fill(start.isoformat())
    page.get_by_label("終了日 / To").fill(end.isoformat())
    page.get_by_role("button", name="表示 / Show").click()
    page.wait_for_url(f"**/kpi?from={start}&to={end}")
    assert f"{end} 時点" in page.locator("#kpi-latest").inner_text()
    assert page.locator("#kpi-gaps").count() == 0
    csv_link = page.get_by_role("link", name="CSV")
    assert csv_link.get_attribute("href") == f"/api/v1/kpi/report.csv?from={start}&to={end}"
