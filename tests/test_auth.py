from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.auth import UserError, create_staff_user, hash_password, verify_password
from tests.conftest import STAFF_PASSWORD


def test_password_hash_roundtrip() -> None:
    h = hash_password("a long passphrase")
    assert h.startswith("scrypt$") and "a long passphrase" not in h
    assert verify_password("a long passphrase", h)
    assert not verify_password("wrong", h)
    assert not verify_password("x", "garbage")


@pytest.mark.parametrize(
    ("username", "password", "role", "message"),
    [
        ("", "long enough password", "editor", "username"),
        ("a", "short", "editor", "at least 10"),
        ("a", "long enough password", "root", "role"),
    ],
)
def test_create_staff_user_rejects_bad_input(
    session: Session, username: str, password: str, role: str, message: str
) -> None:
    with pytest.raises(UserError, match=message):
        create_staff_user(session, username=username, password=password, role=role)


def test_duplicate_staff_user(session: Session) -> None:
    create_staff_user(session, username="a", password="long enough password")
    with pytest.raises(UserError, match="already exists"):
        create_staff_user(session, username="a", password="long enough password")


def test_login_and_logout(client: TestClient, staff_user: str) -> None:
    assert "職員ログイン" in client.get("/login").text
    bad = client.post("/login", data={"username": staff_user, "password": "nope"}, follow_redirects=False)
    assert bad.status_code == 401 and "パスワードが違います" in bad.text
    ok = client.post(
        "/login",
        data={"username": staff_user, "password": STAFF_PASSWORD, "next": "/docs"},
        follow_redirects=False,
    )
    assert ok.status_code == 303 and ok.headers["location"] == "/docs"
    assert "ログアウト" in client.get("/").text
    client.post("/logout", follow_redirects=False)
    assert "ログアウト" not in client.get("/").text


def test_login_never_redirects_off_site(client: TestClient, staff_user: str) -> None:
    r = client.post(
        "/login",
        data={"username": staff_user, "password": STAFF_PASSWORD, "next": "//evil.example"},
        follow_redirects=False,
    )
    assert r.headers["location"] == "/"
