"""Fake Mastodon instance: `POST /api/v1/statuses` (honouring `Idempotency-Key`: a repeated key returns
the original status) and `GET /api/v1/accounts/verify_credentials`, with `X-RateLimit-*` headers and
Mastodon's error shape `{"error": "..."}` (422 for a status over 500 characters)."""

from __future__ import annotations

import itertools
import threading
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from fakes.fake_limits import Window
from fakes.fake_server import FakePlatform
from platforms.counting import mastodon_length

TOKEN = "fake-mastodon-token"
MAX_CHARS = 500


class FakeMastodon(FakePlatform):
    name = "mastodon"

    def __init__(self, token: str = TOKEN) -> None:
        super().__init__()
        self.token = token
        self.lock = threading.Lock()
        self.followers = 2_345
        self.window = Window(limit=10_000, seconds=300)
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.statuses: list[dict[str, Any]] = []
            self.by_key: dict[str, dict[str, Any]] = {}
            self._ids = itertools.count(110_000_000_000_000_001)

    def dump(self) -> dict[str, Any]:
        with self.lock:
            return {"statuses": list(self.statuses), "keys": sorted(self.by_key)}

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/api/v1/statuses", self.post_status, methods=["POST"]),
            Route("/api/v1/accounts/verify_credentials", self.verify, methods=["GET"]),
        ]

    def _answer(self, body: Any, status: int = 200) -> Response:
        allowed, remaining, reset = self.window.hit()
        headers = {
            "X-RateLimit-Limit": str(self.window.limit),
            "X-RateLimit-Remaining": str(remaining),
            "X-RateLimit-Reset": datetime.fromtimestamp(reset, UTC).isoformat(timespec="milliseconds"),
            "X-Request-Id": uuid.uuid4().hex,
        }
        if not allowed:
            return JSONResponse({"error": "Too many requests"}, 429, headers)
        return JSONResponse(body, status, headers)

    def _authorized(self, request: Request) -> bool:
        return request.headers.get("authorization", "") == f"Bearer {self.token}"

    async def post_status(self, request: Request) -> Response:
        if not self._authorized(request):
            return JSONResponse({"error": "The access token is invalid"}, 401)
        data = await _params(request)
        text = str(data.get("status", ""))
        if not text.strip():
            return self._answer({"error": "Validation failed: Text can't be blank"}, 422)
        if mastodon_length(text) > MAX_CHARS:
            return self._answer(
                {"error": f"Validation failed: Text character limit of {MAX_CHARS} exceeded"}, 422
            )
        key = request.headers.get("idempotency-key")
        with self.lock:
            if key and key in self.by_key:
                return self._answer(self.by_key[key])
            status = _status(str(next(self._ids)), text, str(data.get("language") or "ja"))
            self.statuses.append(status)
            if key:
                self.by_key[key] = status
        return self._answer(status)

    async def verify(self, request: Request) -> Response:
        if not self._authorized(request):
            return JSONResponse({"error": "The access token is invalid"}, 401)
        with self.lock:
            count = len(self.statuses)
        return self._answer({**_account(), "followers_count": self.followers, "statuses_count": count})


async def _params(request: Request) -> dict[str, Any]:
    if request.headers.get("content-type", "").startswith("application/json"):
        body: dict[str, Any] = await request.json()
        return body
    return dict(await request.form())


def _account() -> dict[str, Any]:
    created = (datetime.now(UTC) - timedelta(days=400)).isoformat()
    return {
        "id": "109000000000000001",
        "username": "suita",
        "acct": "suita",
        "display_name": "吹田市",
        "created_at": created,
        "followers_count": 0,
        "following_count": 0,
        "statuses_count": 0,
        "url": "https://mastodon.example/@suita",
    }


def _status(status_id: str, text: str, language: str) -> dict[str, Any]:
    return {
        "id": status_id,
        "created_at": datetime.now(UTC).isoformat(timespec="milliseconds"),
        "content": f"<p>{text}</p>",
        "text": text,
        "visibility": "public",
        "language": language,
        "uri": f"https://mastodon.example/users/suita/statuses/{status_id}",
        "url": f"https://mastodon.example/@suita/{status_id}",
        "account": _account(),
    }
