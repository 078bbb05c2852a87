"""Governance in Chromium: an admin creates, demotes and disables an account on /staff (the new holder
sets a password through the one-time link); /audit shows those actions with their diff; every staff
page says who is signed in and with which role."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from app.auth import create_staff_user
from fakes.fake_server import ThreadedServer
from storage.db import session_scope
from tests.conftest import STAFF_PASSWORD, browser_sign_in, sign_in

HOLDER_PASSWORD = "a brand new passphrase 77"


def test_an_admin_creates_demotes_and_disables_an_account(
    page: Any, browser: Any, live_server: ThreadedServer, sessions: sessionmaker[Session], app: Any
) -> None:
    with session_scope(sessions) as s:
        create_staff_user(s, username="kanri", password=STAFF_PASSWORD, role="admin")
    browser_sign_in(page, live_server, "/staff", "kanri")
    assert page.locator(".whoami").inner_text() == "kanri(管理者 / admin)"

    page.get_by_label("ユーザー名 / Username", exact=True).fill("shounin")
    page.get_by_label("役割 / Role", exact=True).select_option("approver")
    page.get_by_role("button", name="作成 / Create").click()
    link = page.locator("#link")
    link.wait_for(state="visible")
    url = link.input_value()
    assert "/set-password?token=" in url
    row = page.locator('tr[data-username="shounin"]')
    row.wait_for()
    assert row.get_by_role("combobox").input_value() == "approver"

    # the holder opens the link in a browser of their own, sets a password and is signed in
    holder = browser.new_context(locale="ja-JP")
    their = holder.new_page()
    their.goto(url.replace("http://127.0.0.1:8000", live_server.url))
    their.get_by_label("パスワード(12 文字以上", exact=False).fill(HOLDER_PASSWORD)
    their.get_by_label("パスワード(確認)/ Password again").fill(HOLDER_PASSWORD)
    their.get_by_role("button", name="設定 / Set password").click()
    their.wait_for_url(f"{live_server.url}/")
    their.goto(f"{live_server.url}/posts")
    assert their.locator(".whoami").inner_text() == "shounin(承認者 / approver)"

    # demote to viewer
    row.get_by_role("combobox").select_option("viewer")
    # wait for the server's answer (the select shows "viewer" before the request is even sent)
    with page.expect_response(lambda r: r.url.endswith("/role") and r.request.method == "POST") as answer:
        row.get_by_role("button", name="役割を変更 / Change role").click()
    assert answer.value.ok
    page.wait_for_function(
        "() => document.querySelector('tr[data-username=\"shounin\"] select').value === 'viewer'"
        " && !document.querySelector('#staff-error').textContent"
    )
    their.reload()
    assert their.locator(".whoami").inner_text() == "shounin(閲覧者 / viewer)"

    # disable: their session ends at once
    row.get_by_role("button", name="無効にする / Disable").click()
    page.locator('tr[data-username="shounin"] td.state', has_text="無効 / disabled").wait_for()
    their.goto(f"{live_server.url}/posts")
    assert "/login" in their.url
    holder.close()

    # the audit log shows each step, with the role change's before and after
    page.goto(f"{live_server.url}/audit")
    page.get_by_label("操作 / Action").fill("staff.")
    page.get_by_role("button", name="絞り込む / Filter").click()
    page.locator('tr[data-action="staff.disable"]').wait_for()
    actions = page.locator("#audit tbody tr").evaluate_all("rows => rows.map(r => r.dataset.action)")
    assert actions[:5] == [
        "staff.disable",
        "staff.role",
        "staff.sign_in",
        "staff.password_set",
        "staff.create",
    ]
    role_change = page.locator('tr[data-action="staff.role"] .diff').inner_text()
    assert "role: approver → viewer" in role_change
    assert page.locator("#csv-link").get_attribute("href") == "/api/v1/audit.csv?action=staff."


def test_a_non_admin_gets_no_staff_or_audit_link(
    page: Any, live_server: ThreadedServer, sessions: sessionmaker[Session], client: TestClient
) -> None:
    with session_scope(sessions) as s:
        create_staff_user(s, username="hensyu", password=STAFF_PASSWORD, role="editor")
    browser_sign_in(page, live_server, "/posts", "hensyu")
    assert page.locator(".whoami").inner_text() == "hensyu(編集者 / editor)"
    assert page.get_by_role("link", name="職員 / Staff").count() == 0
    response = page.goto(f"{live_server.url}/staff")
    assert response is not None and response.status == 403
    sign_in(client, "hensyu")
    assert client.get("/api/v1/staff").status_code == 403
