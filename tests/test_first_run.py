"""First run: with no staff account the server prints a one-time link that creates the first admin in
the browser; the link works once, until a restart, and never once a staff account exists."""

from __future__ import annotations

import re

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.main import create_app
from app.settings import Settings
from app.staff_tables import StaffUser

GOOD = {"username": "kanri", "password": "plum kettle orbit 42", "password_again": "plum kettle orbit 42"}


def printed_token(err: str) -> str:
    match = re.search(r"http://127\.0\.0\.1:8000/setup\?token=([\w-]+)", err)
    assert match is not None, err
    return match.group(1)


def test_the_printed_link_creates_the_first_admin_once(
    app: FastAPI, sessions: sessionmaker[Session], capsys: pytest.CaptureFixture[str]
) -> None:
    with TestClient(app) as client:
        token = printed_token(capsys.readouterr().err)
        assert client.get("/setup", params={"token": "wrong"}).status_code == 404
        form = client.get("/setup", params={"token": token})
        assert form.status_code == 200 and "最初の管理者を作成" in form.text and token in form.text

        mismatch = client.post("/setup", data={**GOOD, "token": token, "password_again": "another one!"})
        assert (
            mismatch.status_code == 422
            and "パスワードが一致しません / The passwords do not match" in mismatch.text
        )
        short = client.post(
            "/setup",
            data={"token": token, "username": "kanri", "password": "short", "password_again": "short"},
        )
        assert short.status_code == 422 and "12文字以上" in short.text
        with sessions() as s:
            assert s.scalars(select(StaffUser)).all() == []

        done = client.post("/setup", data={**GOOD, "token": token}, follow_redirects=False)
        assert done.status_code == 303 and done.headers["location"] == "/"
        assert client.get("/posts").status_code == 200  # signed in as the new admin
        with sessions() as s:
            (user,) = s.scalars(select(StaffUser)).all()
            assert (user.username, user.role) == ("kanri", "admin")

        assert client.get("/setup", params={"token": token}).status_code == 404
        csrf = {"X-CSRF-Token": client.get("/api/v1/session").json()["csrf_token"]}  # signed in now
        again = client.post("/setup", data={**GOOD, "username": "other", "token": token}, headers=csrf)
        assert again.status_code == 404
    with sessions() as s:
        assert len(s.scalars(select(StaffUser)).all()) == 1


def test_no_link_once_a_staff_account_exists(
    settings: Settings, staff_user: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with TestClient(create_app(settings)) as client:
        assert "/setup?token=" not in capsys.readouterr().err
        assert client.app.state.setup_token is None  # type: ignore[attr-defined]
        assert client.get("/setup", params={"token": ""}).status_code == 404


def test_a_restart_prints_a_new_link(settings: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    with TestClient(create_app(settings)):
        first = printed_token(capsys.readouterr().err)
    with TestClient(create_app(settings)) as client:
        second = printed_token(capsys.readouterr().err)
        assert first != second
        assert client.get("/setup", params={"token": first}).status_code == 404
        assert client.get("/setup", params={"token": second}).status_code == 200
