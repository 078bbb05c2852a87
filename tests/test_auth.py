"""Staff accounts and sign-in: password rules, sessions on the server (rotation, logout, password change,
idle and absolute expiry), the throttle, failures recorded, the same work for unknown usernames."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Iterator

import pytest
from click.testing import CliRunner
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from app import auth
from app.auth import UserError, create_staff_user, hash_password, verify_password
from app.cli import cli
from app.csrf import csrf_token
from app.login_throttle import locked_until
from app.password_policy import password_problems
from app.settings import Settings
from app.staff_sessions import COOKIE
from app.staff_tables import LoginFailure, StaffSession, StaffUser
from storage.base import utcnow
from storage.db import session_scope
from tests.conftest import STAFF_PASSWORD, login_form_token, make_settings, post_login, sign_in

OTHER_PASSWORD = "a different passphrase 42"


def test_password_hash_roundtrip() -> None:
    h = hash_password("a long passphrase")
    assert h.startswith("scrypt$") and "a long passphrase" not in h
    assert verify_password("a long passphrase", h)
    assert not verify_password("wrong", h)
    assert not verify_password("x", "garbage")


@pytest.mark.parametrize(
    ("password", "username", "problem"),
    [
        ("short", "kouhou", "at least 12"),
        (" " * 10, "kouhou", "at least 12"),
        (" " * 12, "kouhou", "too easy to guess"),
        ("password1234", "kouhou", "too easy to guess"),
        ("Editor1Editor1", "someone", "too easy to guess"),
        ("kouhou-correct-horse-7", "kouhou", "must not contain the username"),
        ("KOUHOU battery staple 9", "Kouhou", "must not contain the username"),
        ("x" * 300, "kouhou", "at most 256"),
    ],
)
def test_weak_passwords_are_refused_with_a_reason(password: str, username: str, problem: str) -> None:
    problems = password_problems(password, username)
    assert any(problem in p for p in problems), problems
    assert all(" / " in p and p.index(" / ") > 0 and not p[0].isascii() for p in problems)  # Japanese first


@pytest.mark.parametrize("password", [STAFF_PASSWORD, OTHER_PASSWORD, "吹田市の広報は毎週月曜日に更新"])
def test_good_passwords_pass(password: str) -> None:
    assert password_problems(password, "kouhou") == []


@pytest.mark.parametrize(
    ("username", "password", "role", "message"),
    [
        ("", STAFF_PASSWORD, "editor", "username"),
        ("a\x00b", STAFF_PASSWORD, "editor", "username"),
        ("a", "short", "editor", "at least 12"),
        ("a", STAFF_PASSWORD, "root", "role"),
    ],
)
def test_create_staff_user_rejects_bad_input(
    session: Session, username: str, password: str, role: str, message: str
) -> None:
    with pytest.raises(UserError, match=message):
        create_staff_user(session, username=username, password=password, role=role)


@pytest.mark.parametrize("second", ["editor1", "EDITOR1", "ｅｄｉｔｏｒ１", " Editor1 "])
def test_usernames_are_unique_whatever_their_case(session: Session, second: str) -> None:
    create_staff_user(session, username="Editor1", password=STAFF_PASSWORD)
    with pytest.raises(UserError, match="already exists"):
        create_staff_user(session, username=second, password=STAFF_PASSWORD)


def test_create_staff_command_applies_the_rules(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", db_url)
    runner = CliRunner()
    weak = runner.invoke(cli, ["create-staff", "kouhou"], env={"STAFF_PASSWORD": " " * 12})
    assert weak.exit_code == 2 and "too easy to guess" in weak.output
    ok = runner.invoke(cli, ["create-staff", "kouhou"], env={"STAFF_PASSWORD": STAFF_PASSWORD})
    assert ok.exit_code == 0, ok.output
    twin = runner.invoke(cli, ["create-staff", "KOUHOU"], env={"STAFF_PASSWORD": STAFF_PASSWORD})
    assert twin.exit_code == 2 and "already exists" in twin.output


# ---- sessions -----------------------------------------------------------------------------------


def _rows(sessions: sessionmaker[Session]) -> list[StaffSession]:
    with sessions() as s:
        return list(s.scalars(select(StaffSession).order_by(StaffSession.created_at)))


def test_login_and_logout(client: TestClient, staff_user: str) -> None:
    assert "職員ログイン" in client.get("/login").text
    bad = post_login(client, staff_user, "nope")
    assert bad.status_code == 401 and "パスワードが違います" in bad.text
    token = csrf_token(client.app.state.secret, client.cookies[COOKIE])  # type: ignore[attr-defined]
    ok = client.post(
        "/login",
        data={"username": staff_user, "password": STAFF_PASSWORD, "next": "/docs", "csrf_token": token},
        follow_redirects=False,
    )
    assert ok.status_code == 303 and ok.headers["location"] == "/docs"
    home = client.get("/").text
    assert "ログアウト" in home
    form_token = re.search(r'name="csrf_token" value="([^"]+)"', home)
    assert form_token is not None
    client.post("/logout", data={"csrf_token": form_token.group(1)}, follow_redirects=False)
    assert "ログアウト" not in client.get("/").text


def test_login_never_redirects_off_site(client: TestClient, staff_user: str) -> None:
    for target in ("//evil.example", "https://evil.example", "/\\evil.example"):
        token = login_form_token(client)  # each sign-in gives the browser a new token
        r = client.post(
            "/login",
            data={"username": staff_user, "password": STAFF_PASSWORD, "next": target, "csrf_token": token},
            follow_redirects=False,
        )
        assert r.headers["location"] == "/"


def _fresh_cookie(client: TestClient) -> str:
    client.get("/login")
    return str(client.cookies[COOKIE])


def test_the_cookie_holds_only_a_random_token_and_rotates_at_sign_in(
    client: TestClient, staff_user: str, sessions: sessionmaker[Session]
) -> None:
    before = _fresh_cookie(client)
    sign_in(client, staff_user)
    after = client.cookies[COOKIE]
    assert after != before and re.fullmatch(r"[A-Za-z0-9_-]{43}", after)
    (row,) = _rows(sessions)
    assert row.id == hashlib.sha256(after.encode()).hexdigest()  # only the token's hash is stored
    sign_in(client, staff_user)  # signing in again: a new ID, the previous session ends
    old, new = _rows(sessions)
    assert old.revoked_reason == "rotated" and new.revoked_at is None
    assert client.cookies[COOKIE] != after


def _replay(settings: Settings, cookie: str) -> int:
    """The status of `/api/v1/session` for another browser holding a copied cookie (through another app
    process on the same database)."""
    from app.main import create_app

    with TestClient(create_app(settings)) as other:
        other.cookies.set(COOKIE, cookie)
        return other.get("/api/v1/session").status_code


def test_logout_revokes_the_session_on_the_server(
    client: TestClient, settings: Settings, staff_user: str, sessions: sessionmaker[Session]
) -> None:
    sign_in(client, staff_user)
    stolen = client.cookies[COOKIE]
    assert _replay(settings, stolen) == 200
    client.post("/logout", follow_redirects=False)  # the client sends its X-CSRF-Token header
    assert _replay(settings, stolen) == 401
    (row,) = _rows(sessions)
    assert row.revoked_reason == "logout"


def test_a_password_change_ends_every_session_of_the_account(
    app: FastAPI, settings: Settings, staff_user: str, sessions: sessionmaker[Session]
) -> None:
    from app.main import create_app

    with TestClient(app) as laptop, TestClient(create_app(settings)) as phone:
        sign_in(laptop, staff_user)
        sign_in(phone, staff_user)
        phone_cookie = phone.cookies[COOKIE]
        wrong = laptop.post(
            "/api/v1/session/password", json={"current_password": "nope", "new_password": OTHER_PASSWORD}
        )
        assert wrong.status_code == 401
        weak = laptop.post(
            "/api/v1/session/password", json={"current_password": STAFF_PASSWORD, "new_password": "12345678"}
        )
        assert weak.status_code == 422 and "at least 12" in str(weak.json()["detail"])
        changed = laptop.post(
            "/api/v1/session/password",
            json={"current_password": STAFF_PASSWORD, "new_password": OTHER_PASSWORD},
        )
        assert changed.status_code == 200 and changed.json()["user"] == staff_user
        assert phone.get("/api/v1/session").status_code == 401  # the other browser is signed out
        assert _replay(settings, phone_cookie) == 401
        laptop.headers["X-CSRF-Token"] = changed.json()["csrf_token"]
        assert laptop.get("/api/v1/session").status_code == 200  # this browser got a new session
        assert post_login(phone, staff_user, OTHER_PASSWORD).status_code == 303


def test_set_password_command_ends_every_session(
    db_url: str, client: TestClient, staff_user: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    sign_in(client, staff_user)
    monkeypatch.setenv("DATABASE_URL", db_url)
    done = CliRunner().invoke(cli, ["set-password", "KOUHOU"], env={"STAFF_PASSWORD": OTHER_PASSWORD})
    assert done.exit_code == 0 and "1 session(s) ended" in done.output, done.output
    assert client.get("/api/v1/session").status_code == 401


@pytest.mark.parametrize(
    ("field", "shift"),
    [
        ("last_seen_at", dt.timedelta(minutes=-31)),  # idle for more than SESSION_IDLE_MINUTES
        ("expires_at", dt.timedelta(seconds=-1)),  # past SESSION_LIFETIME_HOURS
    ],
)
def test_idle_and_old_sessions_are_refused(
    client: TestClient, staff_user: str, sessions: sessionmaker[Session], field: str, shift: dt.timedelta
) -> None:
    sign_in(client, staff_user)
    assert client.get("/api/v1/session").status_code == 200
    with session_scope(sessions) as s:
        s.execute(update(StaffSession).values({field: utcnow() + shift}))
    assert client.get("/api/v1/session").status_code == 401
    assert client.get("/posts", follow_redirects=False).status_code == 303  # back to the sign-in page


def test_a_session_lasts_as_configured(db_url: str, staff_user: str, sessions: sessionmaker[Session]) -> None:
    from app.main import create_app

    settings = make_settings(db_url, session_idle_minutes=5, session_lifetime_hours=1)
    with TestClient(create_app(settings)) as client:
        sign_in(client, staff_user)
        (row,) = _rows(sessions)
        assert dt.timedelta(minutes=59) < row.expires_at - row.created_at <= dt.timedelta(hours=1)
        assert "Max-Age=3600" in post_login(client, staff_user).headers["set-cookie"]
        with session_scope(sessions) as s:
            s.execute(update(StaffSession).values(last_seen_at=utcnow() - dt.timedelta(minutes=6)))
        assert client.get("/api/v1/session").status_code == 401


def test_session_api(client: TestClient, staff_user: str) -> None:
    assert client.get("/api/v1/session").status_code == 401
    sign_in(client, staff_user)
    body = client.get("/api/v1/session").json()
    assert body == {"user": staff_user, "role": "editor", "csrf_token": body["csrf_token"]}
    assert len(body["csrf_token"]) >= 40


# ---- the throttle -------------------------------------------------------------------------------


@pytest.fixture
def office(app: FastAPI) -> Iterator[TestClient]:
    """A browser at one address."""
    with TestClient(app, client=("198.51.100.23", 40000)) as c:
        yield c


def test_the_sixth_wrong_password_in_a_row_gets_429(
    office: TestClient, staff_user: str, sessions: sessionmaker[Session]
) -> None:
    for _ in range(5):
        assert post_login(office, staff_user, "wrong password").status_code == 401
    sixth = post_login(office, staff_user, "wrong password")
    assert sixth.status_code == 429 and 0 < int(sixth.headers["Retry-After"]) <= 15 * 60
    assert "しばらくログインできません" in sixth.text
    right = post_login(office, staff_user)  # the right password is refused too while locked
    assert right.status_code == 429
    with sessions() as s:
        failures = s.scalars(select(LoginFailure)).all()
    assert len(failures) == 5  # refused attempts are not failures
    assert {(f.username, f.client, f.reason) for f in failures} == {(staff_user, "198.51.100.x", "password")}


def test_the_lock_ends_and_a_success_clears_the_count(
    office: TestClient, staff_user: str, sessions: sessionmaker[Session]
) -> None:
    for _ in range(5):
        post_login(office, staff_user, "wrong password")
    with session_scope(sessions) as s:  # sixteen minutes later
        s.execute(update(LoginFailure).values(at=utcnow() - dt.timedelta(minutes=16)))
    assert post_login(office, staff_user).status_code == 303
    assert post_login(office, staff_user, "wrong password").status_code == 401  # counted afresh


def test_unknown_usernames_are_throttled_and_recorded_alike(
    office: TestClient, staff_user: str, sessions: sessionmaker[Session]
) -> None:
    for _ in range(5):
        assert post_login(office, "nobody", "wrong password").status_code == 401
    assert post_login(office, "NoBody", "wrong password").status_code == 429  # the same name
    assert post_login(office, staff_user).status_code == 303  # another name is not locked
    with sessions() as s:
        reasons = s.scalars(select(LoginFailure.reason)).all()
    assert reasons == ["unknown_user"] * 5


def test_one_address_trying_many_usernames_is_throttled(db_url: str, staff_user: str) -> None:
    from app.main import create_app

    settings = make_settings(db_url, login_client_failure_limit=3)
    with (  # two app processes on one database, each browser at its own address
        TestClient(create_app(settings), client=("203.0.113.9", 1)) as attacker,
        TestClient(create_app(settings), client=("203.0.113.10", 1)) as other,
    ):
        for name in ("a1", "a2", "a3"):
            assert post_login(attacker, name, "guess guess guess").status_code == 401
        assert post_login(attacker, staff_user).status_code == 429
        assert post_login(other, staff_user).status_code == 303  # another address is not


def test_known_and_unknown_usernames_take_the_same_work(
    office: TestClient, staff_user: str, monkeypatch: pytest.MonkeyPatch, sessions: sessionmaker[Session]
) -> None:
    calls: list[str] = []
    real = auth.verify_password

    def counted(password: str, stored: str) -> bool:
        calls.append(stored)
        return real(password, stored)

    monkeypatch.setattr(auth, "verify_password", counted)
    post_login(office, staff_user, "wrong password")
    post_login(office, "nobody-here", "wrong password")
    assert len(calls) == 2 and all(c.startswith("scrypt$16384$8$1$") for c in calls)  # one scrypt each
    with sessions() as s:
        assert s.scalar(select(StaffUser.password_hash)) == calls[0]
        assert len(s.scalars(select(LoginFailure)).all()) == 2


@pytest.mark.parametrize(
    ("count", "minutes"),
    [(4, None), (5, 15), (6, 30), (7, 60), (9, 240), (40, 24 * 60)],
)
def test_each_further_failure_doubles_the_lock(count: int, minutes: int | None) -> None:
    at = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    until = locked_until(count, 5, at, dt.timedelta(minutes=15))
    assert until == (None if minutes is None else at + dt.timedelta(minutes=minutes))
