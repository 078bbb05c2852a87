"""Routes for hot machine endpoints that need none of FastAPI's per-request machinery.

FastAPI resolves dependencies, validates parameters and serialises the return value of every route,
which costs a webhook about as much as verifying its signature. An endpoint that takes only the
`Request` and returns a `Response` itself can skip that: `APIRouter(route_class=PlainRoute)`. The
route stays an `APIRoute`, so it is still described in the OpenAPI document.

The very busiest endpoint (LINE's webhook) goes further: a `FastRoute` is a plain ASGI handler that
`app.main.ServiceApp` calls before the middleware stack and the router (areas list them in `FAST_ROUTES`).
It must do itself whatever the stack would have done for it (request ID, access line, errors).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, cast

from fastapi import FastAPI, Request, Response
from fastapi.routing import APIRoute
from starlette.types import Receive, Scope, Send

# `await handler(app, scope, receive, send)` for one (method, path)
FastRoute = Callable[[FastAPI, Scope, Receive, Send], Awaitable[None]]


class PlainRoute(APIRoute):
    """An `APIRoute` whose endpoint is called as `await endpoint(request)` and must return a `Response`."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        return cast(Callable[[Request], Coroutine[Any, Any, Response]], self.endpoint)
