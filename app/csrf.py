"""Cross-site request forgery: every unsafe request (POST, PUT, PATCH, DELETE) is checked before any
route sees it (`CsrfGuard`, pure ASGI middleware).

1. A request that a browser marks as coming from another site or origin (`Sec-Fetch-Site` other than
   `same-origin` or `none`), or whose `Origin` is neither this request's own origin nor that of
   `PUBLIC_BASE_URL`, is refused: a page on the same host but another port is another origin.
2. A request carrying the session cookie (`app.staff_sessions.COOKIE`) must carry its CSRF token in
   the `X-CSRF-Token` header (scripts: JSON, multipart, anything), or, for a plain HTML form
   (`application/x-www-form-urlencoded`), in the hidden field `csrf_token`. The token is an HMAC of the
   cookie's token with the service's secret: pages get it in `<meta name="csrf-token">`, scripts also
   from `GET /api/v1/session`. Paths in `always` (the sign-in form) need the token even without a
   cookie, so a sign-in can only be posted from the form this service served (no login CSRF).

Refusals answer 403 (JSON, or a short page for a form). Machine endpoints authenticated otherwise (LINE's
webhook: its signature) are exempt. Requests that are not unsafe pass untouched.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Iterable
from http.cookies import SimpleCookie
from urllib.parse import parse_qs, urlsplit

from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.request_limits import read_limited
from app.staff_sessions import COOKIE

UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
HEADER = b"x-csrf-token"
FORM_FIELD = "csrf_token"
FORM_TYPE = "application/x-www-form-urlencoded"
MAX_FORM_BYTES = 64 * 1024  # a form read here for its token (the app's forms are tiny)
SAME_SITE_OK = frozenset({"same-origin", "none"})
REFUSED = (
    "リクエストを確認できませんでした。ページを再読み込みしてやり直してください / "
    "Request refused (CSRF check): reload the page and try again"
)


def csrf_token(secret: bytes, session_token: str) -> str:
    """The CSRF token bound to a session cookie's token."""
    digest = hmac.new(secret, b"csrf:" + session_token.encode("utf-8"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def cookie_value(headers: Iterable[tuple[bytes, bytes]], name: str) -> str | None:
    """One cookie of a request's `Cookie` headers (None when absent)."""
    for key, value in headers:
        if key == b"cookie":
            jar: SimpleCookie = SimpleCookie()
            try:
                jar.load(value.decode("latin-1"))
            except Exception:  # a malformed Cookie header: no cookie (SimpleCookie raises CookieError)
                continue
            if name in jar:
                return jar[name].value
    return None


def origin_of(url: str) -> str:
    """`scheme://host[:port]` of a URL, lower-case, without a default port."""
    parts = urlsplit(url.strip())
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    default = {"http": 80, "https": 443}.get(scheme)
    try:
        port = parts.port
    except ValueError:
        return ""
    if ":" in host:
        host = f"[{host}]"
    return f"{scheme}://{host}" + (f":{port}" if port and port != default else "")


class CsrfGuard:
    """The checks above in front of the app."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        secret: bytes,
        public_origin: str,
        exempt: Iterable[str] = (),
        always: Iterable[str] = (),
    ) -> None:
        self.app = app
        self.secret = secret
        self.public_origin = origin_of(public_origin)
        self.exempt = frozenset(exempt)
        self.always = frozenset(always)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in UNSAFE or scope["path"] in self.exempt:
            await self.app(scope, receive, send)
            return
        headers: dict[bytes, bytes] = {}
        for name, value in scope["headers"]:
            headers.setdefault(name, value)
        form = headers.get(b"content-type", b"").split(b";")[0].strip().decode("latin-1").lower() == FORM_TYPE
        if not self._same_origin(scope, headers):
            await _refuse(send, form)
            return
        cookie = cookie_value(scope["headers"], COOKIE)
        if cookie is None and scope["path"] not in self.always:
            await self.app(scope, receive, send)
            return
        given = headers.get(HEADER, b"").decode("latin-1") or None
        if given is None and form:
            try:
                body = await read_limited(receive, MAX_FORM_BYTES)
            except ClientDisconnect:
                return
            if body is None:
                await _refuse(send, form, status=413)
                return
            receive = _replay(body, receive)
            values = parse_qs(body.decode("utf-8", "replace")).get(FORM_FIELD)
            given = values[0] if values else None
        expected = csrf_token(self.secret, cookie) if cookie else None
        if expected is None or given is None or not hmac.compare_digest(expected, given):
            await _refuse(send, form)
            return
        await self.app(scope, receive, send)

    def _same_origin(self, scope: Scope, headers: dict[bytes, bytes]) -> bool:
        site = headers.get(b"sec-fetch-site")
        if site is not None and site.decode("latin-1").lower() not in SAME_SITE_OK:
            return False
        origin = headers.get(b"origin")
        if origin is None:
            return True
        claimed = origin_of(origin.decode("latin-1"))
        host = headers.get(b"host", b"").decode("latin-1")
        own = origin_of(f"{scope.get('scheme', 'http')}://{host}") if host else ""
        return bool(claimed) and claimed in (own, self.public_origin)


def _replay(body: bytes, then: Receive) -> Receive:
    """`receive` giving the body already read, then the client's own messages (its disconnect)."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return await then()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


async def _refuse(send: Send, form: bool, status: int = 403) -> None:
    if form:
        body = (
            '<!doctype html><html lang="ja"><head><meta charset="utf-8"><title>403</title></head>'
            f"<body><main><h1>403</h1><p>{REFUSED}</p>"
            '<p><a href="/login">ログイン / Sign in</a></p></main></body></html>'
        ).encode()
        kind = b"text/html; charset=utf-8"
    else:
        body = json.dumps({"detail": REFUSED}, ensure_ascii=False).encode()
        kind = b"application/json"
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", kind), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})
