"""The staff session cookie, only where a session can be used.

Starlette's `SessionMiddleware` parses and verifies the cookie on every request and wraps every
response. Machine endpoints (LINE's webhook, health probes) and static files never use the staff
session, and they are the busiest paths: they skip it. A route on a skipped path that touched
`request.session` would fail loudly (Starlette asserts the middleware is installed), so a mistake in
the list cannot silently drop someone's session.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from starlette.middleware.sessions import SessionMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send


class SessionsExcept:
    """`SessionMiddleware(app, **options)` for every path except `paths` (exact) and `prefixes`."""

    def __init__(
        self,
        app: ASGIApp,
        options: dict[str, Any],
        paths: Iterable[str] = (),
        prefixes: Iterable[str] = (),
    ) -> None:
        self.app = app
        self.with_session = SessionMiddleware(app, **options)
        self.paths = frozenset(paths)
        self.prefixes = tuple(prefixes)

    def skips(self, path: str) -> bool:
        """Whether requests to `path` go without the session."""
        return path in self.paths or (bool(self.prefixes) and path.startswith(self.prefixes))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket") and self.skips(scope["path"]):
            await self.app(scope, receive, send)
        else:
            await self.with_session(scope, receive, send)
