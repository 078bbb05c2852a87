"""Routes for hot machine endpoints that need none of FastAPI's per-request machinery.

FastAPI resolves dependencies, validates parameters and serialises the return value of every route,
which costs a webhook about as much as verifying its signature. An endpoint that takes only the
`Request` and returns a `Response` itself can skip that: `APIRouter(route_class=PlainRoute)`. The
route stays an `APIRoute`, so it is still described in the OpenAPI document.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any, cast

from fastapi import Request, Response
from fastapi.routing import APIRoute


class PlainRoute(APIRoute):
    """An `APIRoute` whose endpoint is called as `await endpoint(request)` and must return a `Response`."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        return cast(Callable[[Request], Coroutine[Any, Any, Response]], self.endpoint)
