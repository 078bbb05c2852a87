"""CSRF: every unsafe request with the session cookie carries the session's token; requests a browser
marks as cross-origin are refused; the sign-in form needs its own token; LINE's webhook is exempt."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.csrf import csrf_token, origin_of
from fakes import fake_line_events as ev
from tests.conftest import post_login

ENTRY = {"id": "csrf-test", "question": "CSRF のテスト", "answer": "答え", "lang": "ja"}
JSONL = json.dumps(
    {"id": "phish", "question": "住民票", "answer": "https://evil.example"}, ensure_ascii=False
)

# (method, path, how the body is sent)
UNSAFE_REQUESTS: list[tuple[str, str, str]] = [
    ("POST", "/api/v1/faq/entries", "json"),
    ("PUT", "/api/v1/faq/entries/ja/csrf-test", "json"),
    ("DELETE", "/api/v1/faq/entries/ja/csrf-test", "none"),
    ("POST", "/api/v1/faq/import", "multipart"),
    ("POST", "/api/v1/posts/1/cancel", "none"),
    ("POST", "/logout", "form"),
    ("POST", "/api/v1/session/password", "json"),
    ("POST", "/simulator/api/send", "json"),
]


def _send(client: TestClient, method: str, path: str, kind: str, headers: dict[str, str]) -> Any:
    options: dict[str, Any] = {"headers": headers}
    if kind == "json":
        options["json"] = ENTRY
    elif kind == "multipart":
        options["files"] = {"file": ("faq.jsonl", JSONL.encode(), "application/jsonl")}
    elif kind == "form":
        options["data"] = {"x": "1"}
    return client.request(method, path, follow_redirects=False, **options)


@pytest.mark.parametrize(("method", "path", "kind"), UNSAFE_REQUESTS)
def test_a_request_without_the_token_is_refused(
    staff_client: TestClient, method: str, path: str, kind: str
) -> None:
    token = staff_client.headers.pop("X-CSRF-Token")
    for headers in ({}, {"X-CSRF-Token": "not-the-token"}, {"X-CSRF-Token": token[:-1]}):
        r = _send(staff_client, method, path, kind, headers)
        assert r.status_code == 403, (headers, r.text)
        assert "CSRF" in r.text
    assert staff_client.get("/api/v1/session").status_code == 200  # still signed in: nothing happened


@pytest.mark.parametrize(("method", "path", "kind"), UNSAFE_REQUESTS[:4])
def test_with_the_token_the_request_goes_through(
    staff_client: TestClient, method: str, path: str, kind: str
) -> None:
    if method != "POST" or path.endswith("import"):
        staff_client.post("/api/v1/faq/entries", json=ENTRY)
    r = _send(staff_client, method, path, kind, {})
    assert r.status_code < 400, r.text


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "http://evil.example"},
        {"Origin": "http://testserver:8081"},  # the same host on another port is another origin
        {"Origin": "https://testserver"},
        {"Origin": "null"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},
    ],
)
def test_cross_origin_requests_are_refused_even_with_the_token(
    staff_client: TestClient, headers: dict[str, str]
) -> None:
    r = staff_client.post("/api/v1/faq/entries", json=ENTRY, headers=headers)
    assert r.status_code == 403
    assert staff_client.get("/api/v1/faq/entries/ja/csrf-test").status_code == 404


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "http://testserver"},
        {"Origin": "http://127.0.0.1:8000"},  # PUBLIC_BASE_URL (behind a proxy that rewrites Host)
        {"Sec-Fetch-Site": "same-origin", "Origin": "http://testserver"},
    ],
)
def test_same_origin_requests_with_the_token_pass(staff_client: TestClient, headers: dict[str, str]) -> None:
    assert staff_client.post("/api/v1/faq/entries", json=ENTRY, headers=headers).status_code == 201


def test_the_form_token_works_for_plain_forms(staff_client: TestClient) -> None:
    token = staff_client.headers.pop("X-CSRF-Token")
    page = staff_client.get("/posts").text
    assert f'<meta name="csrf-token" content="{token}">' in page
    assert f'name="csrf_token" value="{token}"' in page  # the sign-out form
    r = staff_client.post("/logout", data={"csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303
    assert staff_client.get("/api/v1/session").status_code == 401


def test_the_sign_in_form_needs_its_token(client: TestClient, staff_user: str) -> None:
    form = {"username": staff_user, "password": "correct horse battery"}
    assert client.post("/login", data=form, follow_redirects=False).status_code == 403  # no cookie yet
    client.get("/login")
    assert client.post("/login", data=form, follow_redirects=False).status_code == 403  # no field
    wrong = client.post("/login", data={**form, "csrf_token": "x"}, follow_redirects=False)
    assert wrong.status_code == 403 and "text/html" in wrong.headers["content-type"]
    assert post_login(client, staff_user).status_code == 303


def test_requests_without_a_session_cookie_need_no_token(client: TestClient) -> None:
    """An anonymous caller has nothing to forge (the public simulator, API clients)."""
    r = client.post("/simulator/api/send", json={"kind": "text", "text": "こんにちは"})
    assert r.status_code == 200
    assert client.post("/api/v1/faq/entries", json=ENTRY).status_code == 401


def test_the_line_webhook_is_exempt(client: TestClient) -> None:
    from bot.bot_area import SESSIONLESS_PATHS
    from bot.intake import webhook

    assert webhook.PATH in SESSIONLESS_PATHS
    client.get("/login")  # a cookie in the jar: a browser's request would need a token
    body = ev.body([])
    secret = client.app.state.bot.channel_secret  # type: ignore[attr-defined]
    headers = {**ev.signed(body, secret), "Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}
    assert client.post("/line/webhook", content=body, headers=headers).status_code == 200
    headers["x-line-signature"] = "forged"
    assert client.post("/line/webhook", content=body, headers=headers).status_code == 400


def test_the_token_is_bound_to_the_cookie() -> None:
    a, b = csrf_token(b"k" * 32, "cookie-a"), csrf_token(b"k" * 32, "cookie-b")
    assert a != b and a == csrf_token(b"k" * 32, "cookie-a") and a != csrf_token(b"j" * 32, "cookie-a")


@pytest.mark.parametrize(
    ("url", "origin"),
    [
        ("http://Example.org:80/x", "http://example.org"),
        ("https://example.org:443", "https://example.org"),
        ("http://127.0.0.1:8000/", "http://127.0.0.1:8000"),
        ("http://[::1]:8080", "http://[::1]:8080"),
        ("http://host:notaport", ""),
    ],
)
def test_origin_of(url: str, origin: str) -> None:
    assert origin_of(url) == origin
