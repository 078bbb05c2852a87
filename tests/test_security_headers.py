"""Security headers on every answer of the app (`app.security_headers`), over its real middleware stack."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from app.security_headers import CSP, REDOC_CSP, SVG_CSP, SecurityHeaders, no_store
from tests.kpi.conftest import seeded  # noqa: F401  (fixture: follower figures for the chart)

# (path, status) of pages, API answers and files, signed in as an editor
ANSWERS = [
    ("/", 200),
    ("/login", 200),
    ("/posts", 200),
    ("/faq", 200),
    ("/kpi", 200),
    ("/simulator", 200),
    ("/api/v1/posts", 200),
    ("/api/v1/faq/search?q=住民票", 200),
    ("/api/v1/kpi/report", 200),
    ("/api/v1/nothing-here", 404),
    ("/healthz", 200),
    ("/static/site.css", 200),
    ("/favicon.ico", 200),  # an SVG: gets SVG_CSP
    ("/docs", 200),
    ("/openapi.json", 200),
]


@pytest.mark.parametrize(("path", "status"), ANSWERS)
def test_every_answer_has_the_headers(staff_client: TestClient, path: str, status: int) -> None:
    r = staff_client.get(path, follow_redirects=False)
    assert r.status_code == status
    assert r.headers["content-security-policy"] == (SVG_CSP if path == "/favicon.ico" else CSP)
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == "same-origin"
    assert "strict-transport-security" not in r.headers  # not in development or tests: plain http
    staff_area = path.split("?")[0] in {"/", "/login", "/posts", "/faq", "/kpi", "/simulator"}
    if staff_area or path.startswith("/api/"):
        assert r.headers["cache-control"] == "no-store"
    else:
        assert "no-store" not in r.headers.get("cache-control", "")


def test_the_csp_allows_nothing_inline() -> None:
    directives = dict(d.strip().split(" ", 1) for d in CSP.split(";"))
    assert directives["script-src"] == "'self'" and directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'" and directives["object-src"] == "'none'"
    assert "unsafe" not in CSP
    assert "script-src 'self';" in REDOC_CSP  # ReDoc gets inline styles and a blob: worker, no scripts


def test_redirects_to_sign_in_are_not_cached(client: TestClient) -> None:
    r = client.get("/posts", follow_redirects=False)
    assert r.status_code == 303 and r.headers["cache-control"] == "no-store"


@pytest.mark.usefixtures("seeded")
def test_the_svg_chart_gets_its_own_policy_and_no_store(staff_client: TestClient) -> None:
    r = staff_client.get("/api/v1/kpi/chart.svg")
    assert r.status_code == 200 and r.headers["content-type"].startswith("image/svg+xml")
    assert r.headers["content-security-policy"] == SVG_CSP
    assert r.headers["cache-control"] == "no-store"  # replaces the chart's own max-age
    assert "script-src" not in SVG_CSP and "default-src 'none'" in SVG_CSP


def test_redoc_gets_inline_styles_only(client: TestClient) -> None:
    assert client.get("/redoc").headers["content-security-policy"] == REDOC_CSP


@pytest.mark.parametrize("production", [True, False])
def test_hsts_only_in_production(production: bool) -> None:
    app = Starlette(routes=[Route("/", lambda request: PlainTextResponse("ok"))])
    r = TestClient(SecurityHeaders(app, production=production), base_url="https://testserver").get("/")
    assert r.text == "ok"
    assert ("strict-transport-security" in r.headers) is production
    if production:
        assert r.headers["strict-transport-security"] == "max-age=31536000"


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/posts", True),
        ("/posts/", False),
        ("/api/v1/faq/entries", True),
        ("/simulator/api/messages", True),
        ("/static/site.css", False),
        ("/healthz", False),
        ("/docs", False),
        ("/apiary", False),
    ],
)
def test_no_store_paths(path: str, expected: bool) -> None:
    assert no_store(path) is expected
