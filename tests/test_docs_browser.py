"""/docs and /redoc in headless Chromium with every request off the app's origin aborted (no internet):
they render the API from the app's own files, under the app's Content-Security-Policy."""

from __future__ import annotations

from typing import Any

import pytest

from fakes.fake_server import ThreadedServer
from tests.page_checks import watch

pytestmark = pytest.mark.browser


def test_swagger_ui_lists_the_operations_and_tries_one_offline(
    page: Any, live_server: ThreadedServer
) -> None:
    seen = watch(page, live_server.url)
    page.goto(f"{live_server.url}/docs")
    healthz = page.locator(".opblock", has=page.locator('[data-path="/healthz"]'))
    healthz.wait_for()
    paths = page.locator(".opblock-summary-path").all_inner_texts()
    assert len(paths) >= 20 and "/api/v1/posts" in [p.replace("\u200b", "") for p in paths]

    healthz.locator(".opblock-summary-control").click()
    healthz.get_by_role("button", name="Try it out").click()
    healthz.get_by_role("button", name="Execute").click()
    body = healthz.locator(".live-responses-table .response-col_description pre").first
    body.wait_for()
    assert '"status": "ok"' in body.inner_text()
    assert seen.problems() == []


def test_redoc_shows_the_reference_offline(page: Any, live_server: ThreadedServer) -> None:
    seen = watch(page, live_server.url)
    page.goto(f"{live_server.url}/redoc")
    page.locator("#redoc h1").wait_for()
    assert "Suita City LINE & SNS service" in page.locator("#redoc h1").inner_text()
    page.get_by_role("heading", name="Healthz").wait_for()
    page.get_by_placeholder("Search...").fill("faq")  # the search index runs in a worker
    page.locator('[data-role="search:results"] li', has_text="faq").first.wait_for()
    assert seen.problems() == []
