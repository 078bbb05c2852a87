"""Staff management (admin): accounts with a one-time set-password link, roles, disabling (sessions end at
once), forced sign-out; the audit log's API and CSV; the role decides, and the API enforces it."""

from __future__ import annotations

import csv
import io
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from app.audit_page import csv_cell
from app.auth import create_staff_user, find_user
from app.main import create_app
from app.settings import Settings
from storage.db import session_scope
from tests.conftest import STAFF_PASSWORD, post_login, sign_in

NEW_PASSWORD = "a brand new passphrase 77"


@pytest.fixture
def admin_client(client: TestClient, sessions: sessionmaker[Session]) -> TestClient:
    with session_scope(sessions) as s:
        create_staff_user(s, username="kanri", password=STAFF_PASSWORD, role="admin")
    return sign_in(client, "kanri")


def _token(url: str) -> str:
    found = re.search(r"/set-password\?token=([A-Za-z0-9_-]+)$", url)
    assert found, url
    return found.group(1)


def _set_password(client: TestClient, token: str, password: str = NEW_PASSWORD) -> int:
    page = client.get(f"/set-password?token={token}")
    if page.status_code != 200:
        return page.status_code
    form_token = re.search(r'name="csrf_token" value="([^"]*)"', page.text)
    assert form_token is not None
    form = {
        "token": token,
        "password": password,
        "password_again": password,
        "csrf_token": form_token.group(1),
    }
    return client.post("/set-password", data=form, follow_redirects=False).status_code


def test_an_admin_creates_an_account_whose_holder_sets_the_password_once(
    admin_client: TestClient, settings: Settings
) -> None:
    created = admin_client.post("/api/v1/staff", json={"username": "hensyu", "role": "editor"})
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["role"] == "editor" and body["password_link_pending"] is True
    token = _token(body["set_password_url"])
    with TestClient(create_app(settings)) as holder:  # another browser: an app of its own
        assert _set_password(holder, token) == 303
        who = holder.get("/api/v1/session").json()
        assert (who["user"], who["role"]) == ("hensyu", "editor")
        assert _set_password(holder, token) == 404  # once only
    listed = {u["username"]: u for u in admin_client.get("/api/v1/staff").json()["staff"]}
    assert listed["hensyu"]["password_link_pending"] is False and listed["hensyu"]["last_login_at"]


def test_disabling_ends_the_sessions_at_once_and_blocks_sign_in(
    admin_client: TestClient, settings: Settings, sessions: sessionmaker[Session]
) -> None:
    with session_scope(sessions) as s:
        user_id = create_staff_user(s, username="hensyu", password=STAFF_PASSWORD, role="editor").id
    with TestClient(create_app(settings)) as other:
        sign_in(other, "hensyu")
        assert other.get("/api/v1/session").status_code == 200
        disabled = admin_client.post(f"/api/v1/staff/{user_id}/disable")
        assert disabled.status_code == 200 and disabled.json()["disabled"] is True
        assert other.get("/api/v1/session").status_code == 401
        form = other.get("/login").text
        token = re.search(r'name="csrf_token" value="([^"]+)"', form)
        assert token is not None
        again = {"username": "hensyu", "password": STAFF_PASSWORD, "csrf_token": token.group(1)}
        assert other.post("/login", data=again, follow_redirects=False).status_code == 401
        assert admin_client.post(f"/api/v1/staff/{user_id}/enable").json()["disabled"] is False
        sign_in(other, "hensyu")
        assert admin_client.post(f"/api/v1/staff/{user_id}/sign-out").json()["ended"] == 1
        assert other.get("/api/v1/session").status_code == 401


def test_roles_change_and_the_last_admin_stays(
    admin_client: TestClient, sessions: sessionmaker[Session]
) -> None:
    with session_scope(sessions) as s:
        user_id = create_staff_user(s, username="shounin", password=STAFF_PASSWORD, role="editor").id
        me = find_user(s, "kanri")
        assert me is not None
        my_id = me.id
    assert (
        admin_client.post(f"/api/v1/staff/{user_id}/role", json={"role": "approver"}).json()["role"]
        == "approver"
    )
    assert admin_client.post(f"/api/v1/staff/{user_id}/role", json={"role": "boss"}).status_code == 422
    assert admin_client.post(f"/api/v1/staff/{my_id}/role", json={"role": "viewer"}).status_code == 409
    assert admin_client.post(f"/api/v1/staff/{my_id}/disable").status_code == 409
    assert admin_client.post("/api/v1/staff/9999/disable").status_code == 404


@pytest.mark.parametrize("role", ["approver", "editor", "viewer"])
def test_only_an_admin_manages_staff_or_reads_the_audit_log(
    client: TestClient, sessions: sessionmaker[Session], role: str
) -> None:
    with session_scope(sessions) as s:
        create_staff_user(s, username="someone", password=STAFF_PASSWORD, role=role)
    sign_in(client, "someone")
    assert client.get("/api/v1/staff").status_code == 403
    assert client.post("/api/v1/staff", json={"username": "x1", "role": "admin"}).status_code == 403
    assert client.get("/api/v1/audit").status_code == 403
    assert client.get("/api/v1/audit.csv").status_code == 403
    assert client.get("/staff").status_code == 403 and client.get("/audit").status_code == 403


def test_the_audit_api_filters_and_the_csv_neutralises_formulas(admin_client: TestClient) -> None:
    admin_client.post("/api/v1/staff", json={"username": "etsuran", "role": "viewer"})
    admin_client.post("/api/v1/staff", json={"username": "hensyu", "role": "editor"})
    everything = admin_client.get("/api/v1/audit").json()["events"]
    assert [e["action"] for e in everything] == ["staff.create", "staff.create", "staff.sign_in"]
    only = admin_client.get("/api/v1/audit", params={"action": "staff.create", "actor": "kanri"}).json()
    assert len(only["events"]) == 2 and only["events"][0]["changes"] == {"role": [None, "editor"]}
    assert admin_client.get("/api/v1/audit", params={"action": "staff."}).json()["events"] == everything
    assert admin_client.get("/api/v1/audit", params={"since": "2999-01-01"}).json()["events"] == []
    exported = admin_client.get("/api/v1/audit.csv", params={"action": "staff.create"})
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(exported.text.lstrip("\ufeff"))))
    assert rows[0][:5] == ["id", "at", "actor", "actor_role", "action"] and len(rows) == 3
    assert post_login(admin_client, "=HYPERLINK(1)", "wrong password 99").status_code == 401
    failed = admin_client.get("/api/v1/audit.csv", params={"action": "staff.sign_in_failed"}).text
    actor = list(csv.reader(io.StringIO(failed.lstrip("\ufeff"))))[1][2]
    assert actor == "'=HYPERLINK(1)"


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("=1+2", "'=1+2"),
        ("+81", "'+81"),
        ("-x", "'-x"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("ok", "ok"),
        (None, ""),
    ],
)
def test_csv_cells_never_start_a_formula(value: str | None, cell: str) -> None:
    assert csv_cell(value) == cell
