"""Shared fixtures: a fresh migrated database per test (SQLite, or PostgreSQL when TEST_DATABASE_URL
points at one), settings isolated from the environment, the app, a live server, a headless browser.

Worker-safe under pytest-xdist (`make test` runs `pytest -n N -m "not serial"`, then `pytest -m serial`):
each worker migrates its own template database, named after the worker, and per-test databases carry
the worker's name too; session fixtures (fake servers, the browser) exist once per worker."""

from __future__ import annotations

import itertools
import os
import re
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NoReturn

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

from app.settings import Settings
from fakes.fake_server import ThreadedServer
from storage import migrate
from storage.db import make_engine, make_sessionmaker, session_scope
from tests.platform_fakes import fake_servers, fakes  # noqa: F401  (fixtures: the platform fakes)

pytest_plugins = ["tests.line_fixtures"]

PG_URL = os.environ.get("TEST_DATABASE_URL", "")
ON_POSTGRES = PG_URL.startswith("postgresql")
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")  # gw0, gw1, ... under pytest-xdist
_counter = itertools.count()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Browser tests run last: Playwright's sync API leaves an event loop registered in the main
    thread for the rest of the session, which breaks `asyncio.run` and anyio tests after it."""
    items.sort(key=lambda item: "browser" in getattr(item, "fixturenames", ()))


def pytest_report_header() -> str:
    return f"database backend: {'postgresql' if ON_POSTGRES else 'sqlite'}"


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    """No setting leaks in from the developer's shell or CI environment."""
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)


# ---- databases ---------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A migrated database that each test copies: a file on SQLite, a template database on PostgreSQL."""
    if ON_POSTGRES:
        name = f"tmpl_{WORKER}_{uuid.uuid4().hex[:8]}"
        admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT", poolclass=NullPool)
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
        migrate.upgrade(url)
        yield name
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    else:
        path = tmp_path_factory.mktemp("template") / "template.db"
        migrate.upgrade(f"sqlite:///{path}")
        yield str(path)


@pytest.fixture
def db_url(template_db: str, tmp_path: Path) -> Iterator[str]:
    """URL of a fresh, migrated, empty database for this test only."""
    yield from fresh_database(template_db, tmp_path)


def fresh_database(template_db: str, tmp_path: Path) -> Iterator[str]:
    """A copy of the migrated template database (a file in `tmp_path` on SQLite), dropped afterwards:
    `yield from` it in a fixture of any scope."""
    if ON_POSTGRES:
        name = f"t_{WORKER}_{os.getpid()}_{next(_counter)}"
        # no pooled connections here: teardowns must still work after restart_postgres()
        admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT", poolclass=NullPool)
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template_db}"'))
        yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    else:
        path = tmp_path / "test.db"
        shutil.copyfile(template_db, path)
        yield f"sqlite:///{path}"


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    return make_sessionmaker(engine)


@pytest.fixture
def session(sessions: sessionmaker[Session]) -> Iterator[Session]:
    with sessions() as s:
        yield s


# ---- settings and app -----------------------------------------------------------------------


def make_settings(db_url: str, **overrides: Any) -> Settings:
    """Settings for a test: nothing from the environment or `.env`, nothing configured by default."""
    # approval off unless a test turns it on: most tests are about one step of a post's life
    values: dict[str, Any] = {
        "app_env": "test",
        "database_url": db_url,
        "run_worker_in_app": False,
        "approval_required": False,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)


@pytest.fixture
def settings(db_url: str) -> Settings:
    return make_settings(db_url)


@pytest.fixture
def app(settings: Settings) -> FastAPI:
    from app.main import create_app

    return create_app(settings)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as c:
        yield c


STAFF_PASSWORD = "correct horse battery"


@pytest.fixture
def staff_user(sessions: sessionmaker[Session]) -> str:
    from app.auth import create_staff_user

    with session_scope(sessions) as s:
        create_staff_user(s, username="kouhou", password=STAFF_PASSWORD, role="editor")
    return "kouhou"


def login_form_token(client: TestClient) -> str:
    """Open the sign-in page as a browser does (it sets the token cookie) and return its form's token."""
    page = client.get("/login")
    assert page.status_code == 200
    match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert match, "the sign-in form has no CSRF token"
    return match.group(1)


def post_login(client: TestClient, username: str, password: str = STAFF_PASSWORD) -> Any:
    """Post the sign-in form as a browser does (with the form's token); the response, not followed."""
    client.headers.pop("X-CSRF-Token", None)  # a previous session's token (after a sign-out)
    token = login_form_token(client)
    form = {"username": username, "password": password, "csrf_token": token}
    return client.post("/login", data=form, follow_redirects=False)


def sign_in(client: TestClient, username: str, password: str = STAFF_PASSWORD) -> TestClient:
    """Sign `client` in; from then on it sends the session's CSRF token with every request, as the
    pages' scripts do."""
    r = post_login(client, username, password)
    assert r.status_code == 303, r.text
    client.headers["X-CSRF-Token"] = client.get("/api/v1/session").json()["csrf_token"]
    return client


@pytest.fixture
def staff_client(client: TestClient, staff_user: str) -> TestClient:
    """A client signed in as an editor."""
    return sign_in(client, staff_user)


def sign_in_as(client: TestClient, sessions: sessionmaker[Session], role: str) -> str:
    """Create a staff account with `role` and sign `client` in with it; returns the username."""
    from app.auth import create_staff_user

    username = f"u-{role}"
    with session_scope(sessions) as s:
        create_staff_user(s, username=username, password=STAFF_PASSWORD, role=role)
    sign_in(client, username)
    return username


def browser_sign_in(page: Any, server: ThreadedServer, path: str, username: str) -> None:
    """Open the staff page `path`, sign in on the login page it leads to, and wait to be back."""
    page.goto(f"{server.url}{path}")
    page.get_by_label("ユーザー名 / Username").fill(username)
    page.get_by_label("パスワード / Password").fill(STAFF_PASSWORD)
    page.get_by_role("button", name="ログイン / Sign in").click()
    page.wait_for_url(f"{server.url}{path}")


@pytest.fixture
def live_server(app: FastAPI) -> Iterator[ThreadedServer]:
    """The app served over real HTTP on a loopback port (lifespan included)."""
    with ThreadedServer(app, name="app") as server:
        yield server


# ---- PostgreSQL server control (fault tests) ---------------------------------------------------


def restart_postgres() -> None:
    """Restart the throwaway PostgreSQL server of the PostgreSQL leg (fast shutdown, then start). Only in
    the serial pass: other tests' connections would break."""
    if "PYTEST_XDIST_WORKER" in os.environ:
        raise RuntimeError("restart_postgres() beside other tests: mark the test `serial`")
    bindir, data = os.environ["TEST_PG_BIN"], os.environ["TEST_PG_DATA"]
    run_as = os.environ.get("TEST_PG_RUN_AS", "").split()
    subprocess.run(
        [
            *run_as,
            f"{bindir}/pg_ctl",
            "-D",
            data,
            "-o",
            os.environ["TEST_PG_OPTIONS"],
            "-l",
            os.environ["TEST_PG_LOG"],
            "-m",
            "fast",
            "-w",
            "restart",
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )


# ---- browser ------------------------------------------------------------------------------------

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def system_part_missing(message: str) -> NoReturn:
    """Skip a test that needs Chromium or a CJK font when it is absent (a bare machine passes `make
    test`), unless REQUIRE_BROWSER=1 (CI installs both), where the absence fails the run."""
    if os.environ.get("REQUIRE_BROWSER") == "1":
        pytest.fail(f"{message} but REQUIRE_BROWSER=1")
    pytest.skip(message)


@pytest.fixture(scope="session")
def cjk_font() -> Path:
    """A Japanese font for drawn images (skipped without one, see `system_part_missing`)."""
    from bot.rich_menu import FontNotFound, find_font

    try:
        return find_font()
    except FontNotFound:
        system_part_missing("no CJK font installed (apt install fonts-noto-cjk)")


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """A headless Chromium driven by Playwright (skipped without it, see `system_part_missing`)."""
    if not Path(CHROMIUM).exists():
        system_part_missing("Chromium not installed (apt install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(locale="ja-JP")
    pg = context.new_page()
    yield pg
    context.close()
