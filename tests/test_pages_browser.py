"""Staff sign-in in a real headless Chromium against the live app."""

from __future__ import annotations

from typing import Any

import pytest

from fakes.fake_server import ThreadedServer
from tests.conftest import STAFF_PASSWORD

pytestmark = pytest.mark.browser


def test_sign_in_and_out_in_chromium(page: Any, live_server: ThreadedServer, staff_user: str) -> None:
    page.goto(f"{live_server.url}/login")
    assert page.locator("html").get_attribute("lang") == "ja"
    page.get_by_label("パスワード / Password").fill("wrong password!")
    page.get_by_label("ユーザー名 / Username").fill(staff_user)
    page.get_by_role("button", name="ログイン / Sign in").click()
    assert page.get_by_role("alert").inner_text().startswith("ユーザー名またはパスワードが違います")
    page.get_by_label("ユーザー名 / Username").fill(staff_user)
    page.get_by_label("パスワード / Password").fill(STAFF_PASSWORD)
    page.get_by_role("button", name="ログイン / Sign in").click()
    page.wait_for_url(f"{live_server.url}/")
    assert page.get_by_role("button", name="ログアウト / Sign out").is_visible()
    page.get_by_role("button", name="ログアウト / Sign out").click()
    page.wait_for_url(f"{live_server.url}/login")
