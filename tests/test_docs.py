"""API docs (`app.api_docs`): /docs and /redoc from the app's own files, DOCS_ENABLED, menu, favicon."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from app.main import create_app
from app.settings import ROOT, Settings
from tests.conftest import make_settings, sign_in_as

DOCS_PATHS = ("/docs", "/redoc", "/openapi.json")


class Links(HTMLParser):
    """`href`s of links in the page, those in `<nav>` apart; `src`s of scripts and `href`s of styles."""

    def __init__(self) -> None:
        super().__init__()
        self.nav: list[str] = []
        self.links: list[str] = []
        self.assets: list[str] = []
        self._in_nav = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "nav":
            self._in_nav += 1
        elif tag == "a" and a.get("href"):
            (self.nav if self._in_nav else self.links).append(str(a["href"]))
        elif tag == "script" and a.get("src"):
            self.assets.append(str(a["src"]))
        elif tag == "link" and a.get("href"):
            self.assets.append(str(a["href"]))

    def handle_endtag(self, tag: str) -> None:
        if tag == "nav":
            self._in_nav -= 1


def links(html: str) -> Links:
    parser = Links()
    parser.feed(html)
    return parser


@pytest.mark.parametrize(
    ("app_env", "value", "enabled"),
    [
        ("development", None, True),
        ("test", None, True),
        ("production", None, False),
        ("production", "true", True),
        ("development", "false", False),
    ],
)
def test_docs_enabled_follows_app_env_unless_set(
    monkeypatch: pytest.MonkeyPatch, app_env: str, value: str | None, enabled: bool
) -> None:
    monkeypatch.setenv("APP_ENV", app_env)
    monkeypatch.setenv("SECRET_KEY", "k" * 48)  # production needs one
    if value is not None:
        monkeypatch.setenv("DOCS_ENABLED", value)
    assert Settings(_env_file=None).docs_enabled is enabled


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
def test_docs_pages_load_only_the_apps_own_files(client: TestClient, path: str) -> None:
    r = client.get(path)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    page = links(r.text)
    assert page.assets and all(src.startswith("/static/") for src in page.assets), page.assets
    for src in page.assets:
        assert client.get(src).status_code == 200, src
    assert "/static/api-docs.js" in page.assets
    assert 'data-openapi="/openapi.json"' in r.text
    assert not re.search(r"<script(?![^>]*\bsrc=)", r.text), "inline script"
    assert "cdn" not in r.text.lower()


def test_vendored_docs_files_keep_their_licences() -> None:
    vendor = ROOT / "templates" / "static" / "vendor"
    for name in ("swagger-ui-dist", "redoc"):
        assert (vendor / name / "LICENSE").is_file()
    assert "Apache License" in (vendor / "swagger-ui-dist" / "LICENSE").read_text(encoding="utf-8")
    assert "MIT" in (vendor / "redoc" / "LICENSE").read_text(encoding="utf-8")


def test_docs_off_answer_404(db_url: str) -> None:
    client = TestClient(create_app(make_settings(db_url, docs_enabled=False)))
    for path in DOCS_PATHS:
        assert client.get(path).status_code == 404, path
    assert "/docs" not in links(client.get("/").text).links


def test_production_hides_the_docs_by_default(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The app as production builds it (its start-up, which needs the real database, is not run)."""
    monkeypatch.setattr("app.main.configure_logging", lambda *args: None)
    prod = {"app_env": "production", "secret_key": "k" * 48}
    client = TestClient(create_app(make_settings(db_url, **prod)), base_url="https://testserver")
    for path in DOCS_PATHS:
        r = client.get(path)
        assert r.status_code == 404, path
        assert r.headers["strict-transport-security"] == "max-age=31536000"
    enabled = TestClient(create_app(make_settings(db_url, **prod, docs_enabled=True)))
    for path in DOCS_PATHS:
        assert enabled.get(path).status_code == 200, path


@pytest.mark.parametrize(
    ("docs_enabled", "demo_mode", "menu"),
    [
        (
            True,
            False,
            ["/posts", "/emergency", "/posts/calendar", "/faq", "/kpi", "/reports", "/simulator", "/docs"],
        ),
        (False, False, ["/posts", "/emergency", "/posts/calendar", "/faq", "/kpi", "/reports", "/simulator"]),
        (
            False,
            True,
            ["/posts", "/emergency", "/posts/calendar", "/faq", "/kpi", "/reports", "/simulator", "/demo"],
        ),
    ],
)
def test_the_signed_in_menu_links_every_staff_page(
    db_url: str, sessions: sessionmaker[Session], docs_enabled: bool, demo_mode: bool, menu: list[str]
) -> None:
    settings = make_settings(db_url, docs_enabled=docs_enabled, demo_mode=demo_mode)
    with TestClient(create_app(settings)) as client:
        sign_in_as(client, sessions, "viewer")
        for path in (
            "/",
            "/posts",
            "/posts/calendar",
            "/faq",
            "/kpi",
            "/simulator",
            *(["/demo"] if demo_mode else []),
        ):
            nav = links(client.get(path).text).nav
            assert nav == menu, path


def test_favicon(client: TestClient) -> None:
    r = client.get("/favicon.ico")
    assert r.status_code == 200 and r.headers["content-type"].startswith("image/svg+xml")
    assert r.text.startswith("<svg")
    page = links(client.get("/login").text)
    assert "/static/favicon.svg" in page.assets
    assert client.get("/static/favicon.svg").content == r.content


PAGES = sorted((ROOT / "templates" / "pages").glob("*.html.j2"))


@pytest.mark.parametrize("template", PAGES, ids=lambda p: p.name)
def test_templates_need_nothing_the_csp_forbids(template: Path) -> None:
    """No inline script (JSON data islands are data), no style attribute or block, no event handler
    attribute, no javascript: URL. The browser tests catch what scripts do at run time."""
    text = template.read_text(encoding="utf-8")
    inline_scripts = re.findall(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", text)
    assert inline_scripts == []
    assert not re.search(r"<style|\sstyle=|\son[a-z]+=|javascript:", text, re.IGNORECASE)
