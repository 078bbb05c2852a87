"""Security headers on every response of the middleware stack (LINE's webhook is answered before it).

- `Content-Security-Policy`: scripts and styles only from this app's own files (no inline script, no
  `style=` attribute, no `<style>` block), no plugins, no `<base>`, forms post only here, never framed.
  A document that needs more names its path in `PATH_CSP`; SVG images get `SVG_CSP`.
- `X-Content-Type-Options: nosniff`, `Referrer-Policy: same-origin`.
- `Strict-Transport-Security` in production only (development runs on plain http://127.0.0.1).
- `Cache-Control: no-store` on staff pages and every `/api/` answer: personal data and staff views
  must not stay in a shared or browser cache.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
# ReDoc's bundle (styled-components) writes its styles into <style> elements it creates, and runs its
# search index in a Web Worker made from a blob: URL. Scripts stay 'self' only.
REDOC_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "worker-src 'self' blob:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
PATH_CSP = {"/redoc": REDOC_CSP}
# matplotlib's SVG styles its shapes with `style=` attributes and a <style> block; an SVG opened on its
# own is a document, so it gets a policy of its own: no scripts, nothing loaded, inline styles only.
SVG_CSP = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"
HSTS = "max-age=31536000"

NO_STORE_PATHS = frozenset({"/", "/login", "/logout", "/posts", "/faq", "/kpi", "/simulator"})
NO_STORE_PREFIXES = ("/api/", "/simulator/")


def no_store(path: str) -> bool:
    """Whether responses to `path` must not be cached (staff pages, the JSON API)."""
    return path in NO_STORE_PATHS or path.startswith(NO_STORE_PREFIXES)


class SecurityHeaders:
    """Pure ASGI middleware adding the headers above to every HTTP response start."""

    def __init__(self, app: ASGIApp, *, production: bool) -> None:
        self.app = app
        self.fixed = [("X-Content-Type-Options", "nosniff"), ("Referrer-Policy", "same-origin")]
        if production:
            self.fixed.append(("Strict-Transport-Security", HSTS))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in self.fixed:
                    headers[name] = value
                svg = headers.get("content-type", "").startswith("image/svg+xml")
                headers["Content-Security-Policy"] = SVG_CSP if svg else PATH_CSP.get(path, CSP)
                if no_store(path):
                    headers["Cache-Control"] = "no-store"
            await send(message)

        await self.app(scope, receive, send_with_headers)
