"""Security headers on every response of the middleware stack (LINE's webhook is answered before it).

- `Content-Security-Policy`: scripts and styles only from this app's own files (no inline script, no
  `style=` attribute, no `<style>` block), no plugins, no `<base>`, forms post only here, never framed.
  A document that needs more names its path in `PATH_CSP` (or its area's `page_csp(settings)`, for a
  policy that depends on settings, such as the map tiles' host); SVG images get `SVG_CSP`.
- `X-Content-Type-Options: nosniff`, `Referrer-Policy: same-origin`.
- `Strict-Transport-Security` in production only (development runs on plain http://127.0.0.1).
- `Cache-Control: no-store` on staff pages and every `/api/` answer: personal data and staff views
  must not stay in a shared or browser cache.
"""

from __future__ import annotations

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
_CSP, _SVG_CSP = CSP.encode(), SVG_CSP.encode()

NO_STORE_PATHS = frozenset({"/", "/login", "/logout", "/posts", "/faq", "/kpi", "/simulator", "/reports"})
NO_STORE_PREFIXES = ("/api/", "/simulator/")


def no_store(path: str) -> bool:
    """Whether responses to `path` must not be cached (staff pages, the JSON API)."""
    return path in NO_STORE_PATHS or path.startswith(NO_STORE_PREFIXES)


class SecurityHeaders:
    """Pure ASGI middleware setting the headers above on every HTTP response (replacing any the
    response set itself), in one pass over the response's header list."""

    def __init__(self, app: ASGIApp, *, production: bool, page_csp: dict[str, str] | None = None) -> None:
        self.app = app
        self.fixed = [(b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"same-origin")]
        if production:
            self.fixed.append((b"strict-transport-security", HSTS.encode()))
        self.ours = frozenset(name for name, _ in self.fixed) | {b"content-security-policy"}
        # `page_csp`: policies areas give their pages (`app.main`: an area's `page_csp(settings)`)
        self.csp = {path: csp.encode() for path, csp in {**PATH_CSP, **(page_csp or {})}.items()}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        uncached = no_store(path)
        replaced = self.ours | {b"cache-control"} if uncached else self.ours
        page_csp = self.csp.get(path, _CSP)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                svg = False
                headers = []
                for name, value in message.get("headers", ()):
                    lower = name.lower()
                    if lower == b"content-type":
                        svg = value.startswith(b"image/svg+xml")
                    if lower not in replaced:
                        headers.append((name, value))
                headers += self.fixed
                headers.append((b"content-security-policy", _SVG_CSP if svg else page_csp))
                if uncached:
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)
