"""Fake X API v2: `POST /2/tweets`, `GET /2/users/me`, `GET /2/users/{id}/tweets`.

Follows the official JSON shapes: `{"data": {...}}`, problem-style errors (`detail`, `title`, `type`),
the 403 "duplicate content" refusal, `x-rate-limit-*` headers on every answer and a 429 when the window
is spent. Like X, it shortens links to t.co in the stored text. OAuth 1.0a signatures are not checked,
only that a user-context `Authorization: OAuth …` header is present.
"""

from __future__ import annotations

import itertools
import re
import threading
import time
from datetime import UTC, datetime
from typing import Any

import twitter_text
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from fakes.fake_limits import Window
from fakes.fake_server import FakePlatform

USER_ID = "1500000000000000001"
DUPLICATE = "You are not allowed to create a Tweet with duplicate content."
_URL = re.compile(r"https?://\S+")


class FakeX(FakePlatform):
    name = "x"

    def __init__(self) -> None:
        super().__init__()
        self.lock = threading.Lock()
        self.followers = 12_345
        self.window = Window(limit=10_000, seconds=900)
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.tweets: list[dict[str, Any]] = []
            self._ids = itertools.count(1_800_000_000_000_000_001)

    def dump(self) -> dict[str, Any]:
        with self.lock:
            tweets = [{**t, "created_at": t["created_at"].isoformat()} for t in self.tweets]
        return {"tweets": tweets, "followers": self.followers}

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/2/tweets", self.create_tweet, methods=["POST"]),
            Route("/2/users/me", self.me, methods=["GET"]),
            Route("/2/users/{id}/tweets", self.user_tweets, methods=["GET"]),
        ]

    def _limited(self, body: Any, status: int = 200) -> Response:
        allowed, remaining, reset = self.window.hit()
        headers = {
            "x-rate-limit-limit": str(self.window.limit),
            "x-rate-limit-remaining": str(remaining),
            "x-rate-limit-reset": str(reset),
            "x-transaction-id": f"tx{time.time_ns()}",
        }
        if not allowed:
            return JSONResponse(
                {
                    "title": "Too Many Requests",
                    "detail": "Too Many Requests",
                    "type": "about:blank",
                    "status": 429,
                },
                429,
                headers,
            )
        return JSONResponse(body, status, headers)

    @staticmethod
    def _unauthorized(request: Request) -> Response | None:
        if request.headers.get("authorization", "").startswith("OAuth "):
            return None
        body = {"title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"}
        return JSONResponse(body, 401)

    async def create_tweet(self, request: Request) -> Response:
        if denied := self._unauthorized(request):
            return denied
        text = str((await request.json()).get("text", ""))
        if not text or twitter_text.parse_tweet(text).weightedLength > 280:
            problem = {"message": "Your Tweet text is too long." if text else "text is required"}
            return self._limited(
                {
                    "errors": [problem],
                    "title": "Invalid Request",
                    "detail": "One or more parameters to your request was invalid.",
                    "type": "https://api.twitter.com/2/problems/invalid-request",
                },
                400,
            )
        with self.lock:
            if any(t["original"] == text for t in self.tweets):
                return self._limited(
                    {"detail": DUPLICATE, "type": "about:blank", "title": "Forbidden", "status": 403}, 403
                )
            tweet_id = str(next(self._ids))
            shown = _URL.sub(lambda _m: f"https://t.co/{tweet_id[-10:]}", text)
            self.tweets.append(
                {"id": tweet_id, "text": shown, "original": text, "created_at": datetime.now(UTC)}
            )
        return self._limited(
            {"data": {"id": tweet_id, "text": shown, "edit_history_tweet_ids": [tweet_id]}}, 201
        )

    async def me(self, request: Request) -> Response:
        if denied := self._unauthorized(request):
            return denied
        with self.lock:
            count = len(self.tweets)
        metrics = {
            "followers_count": self.followers,
            "following_count": 10,
            "tweet_count": count,
            "listed_count": 0,
            "like_count": 0,
        }
        return self._limited(
            {"data": {"id": USER_ID, "name": "吹田市", "username": "suita_city", "public_metrics": metrics}}
        )

    async def user_tweets(self, request: Request) -> Response:
        if denied := self._unauthorized(request):
            return denied
        if request.path_params["id"] != USER_ID:
            return self._limited(
                {"errors": [{"detail": "Could not find user", "title": "Not Found Error"}]}, 200
            )
        start = datetime.fromisoformat(request.query_params.get("start_time", "1970-01-01T00:00:00Z"))
        limit = int(request.query_params.get("max_results", "10"))
        with self.lock:
            rows = [t for t in reversed(self.tweets) if t["created_at"] >= start][:limit]
        data = [{"id": t["id"], "text": t["text"], "edit_history_tweet_ids": [t["id"]]} for t in rows]
        meta: dict[str, Any] = {"result_count": len(data)}
        if data:
            meta.update(newest_id=data[0]["id"], oldest_id=data[-1]["id"])
        return self._limited({"data": data, "meta": meta} if data else {"meta": meta})
