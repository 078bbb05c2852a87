"""Fake Facebook Graph API for one Page: `POST /{version}/{page-id}/feed`, `GET /{version}/{page-id}`
(`fields=followers_count,fan_count`) and `GET /{version}/{page-id}/posts` (`since`, `fields`, `limit`).

Errors use the Graph shape `{"error": {"message", "type", "code", "fbtrace_id"}}`; answers carry
`x-app-usage` and, as calls with a Page access token do, `x-business-use-case-usage`. Like the Graph
API, a spent limit is never a 429: it is a 400 with error code 32 ("Page request limit reached") and
the Page's usage at 100 % with `estimated_time_to_regain_access` (minutes). The page access token comes
as `Authorization: Bearer` or `access_token`.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from fakes.fake_limits import Window
from fakes.fake_server import FakePlatform

PAGE_ID = "100200300400500"
TOKEN = "fake-page-token"


class FakeFacebook(FakePlatform):
    name = "facebook"

    def __init__(self, page_id: str = PAGE_ID, token: str = TOKEN) -> None:
        super().__init__()
        self.page_id, self.token = page_id, token
        self.lock = threading.Lock()
        self.followers, self.fans = 8_765, 8_000
        self.window = Window(limit=10_000, seconds=3600)
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.posts: list[dict[str, Any]] = []
            self._ids = itertools.count(1)

    def dump(self) -> dict[str, Any]:
        with self.lock:
            return {"posts": [{**p, "created": p["created"].isoformat()} for p in self.posts]}

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/{version}/{page}/feed", self.feed, methods=["POST"]),
            Route("/{version}/{page}/posts", self.list_posts, methods=["GET"]),
            Route("/{version}/{page}", self.page, methods=["GET"]),
        ]

    def _answer(self, body: Any, status: int = 200) -> Response:
        allowed, remaining, reset = self.window.hit()
        used = 100 - (100 * remaining // max(self.window.limit, 1))
        regain = max(0, -(-(reset - int(time.time())) // 60)) if not allowed else 0
        page_usage = {
            "type": "pages",
            "call_count": used,
            "total_cputime": 1,
            "total_time": 1,
            "estimated_time_to_regain_access": regain,
        }
        headers = {
            "x-app-usage": json.dumps({"call_count": 1, "total_cputime": 1, "total_time": 1}),
            "x-business-use-case-usage": json.dumps({self.page_id: [page_usage]}),
            "x-fb-trace-id": uuid.uuid4().hex[:11],
        }
        if not allowed:
            return _error(32, "(#32) Page request limit reached", "OAuthException", 400, headers)
        return JSONResponse(body, status, headers)

    async def _check(self, request: Request, form: dict[str, Any]) -> Response | None:
        token = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
        token = token or str(form.get("access_token") or request.query_params.get("access_token", ""))
        if token != self.token:
            return _error(
                190, "Invalid OAuth access token - Cannot parse access token", "OAuthException", 400
            )
        if request.path_params["page"] != self.page_id:
            return _error(
                100, "(#100) Unsupported request: object does not exist", "GraphMethodException", 400
            )
        return None

    async def feed(self, request: Request) -> Response:
        form: dict[str, Any] = dict(await request.form())
        if denied := await self._check(request, form):
            return denied
        message = str(form.get("message", ""))
        if not message and not form.get("link"):
            return _error(100, "(#100) Missing message or attachment", "OAuthException", 400)
        with self.lock:
            post_id = f"{self.page_id}_{next(self._ids)}"
            self.posts.append(
                {"id": post_id, "message": message, "link": form.get("link"), "created": datetime.now(UTC)}
            )
        return self._answer({"id": post_id})

    async def list_posts(self, request: Request) -> Response:
        if denied := await self._check(request, {}):
            return denied
        since = float(request.query_params.get("since", "0"))
        limit = int(request.query_params.get("limit", "25"))
        with self.lock:
            rows = [p for p in reversed(self.posts) if p["created"].timestamp() >= since][:limit]
        data = [
            {
                "id": p["id"],
                "message": p["message"],
                "created_time": p["created"].strftime("%Y-%m-%dT%H:%M:%S+0000"),
            }
            for p in rows
        ]
        return self._answer({"data": data, "paging": {}})

    async def page(self, request: Request) -> Response:
        if denied := await self._check(request, {}):
            return denied
        fields = request.query_params.get("fields", "id,name").split(",")
        known = {
            "id": self.page_id,
            "name": "吹田市",
            "followers_count": self.followers,
            "fan_count": self.fans,
        }
        return self._answer({f: known[f] for f in fields if f in known})


def _error(
    code: int, message: str, kind: str, status: int, headers: dict[str, str] | None = None
) -> Response:
    body = {"error": {"message": message, "type": kind, "code": code, "fbtrace_id": uuid.uuid4().hex[:11]}}
    return JSONResponse(body, status, headers)
