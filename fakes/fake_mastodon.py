"""Fake Mastodon instance: `POST /api/v1/statuses` (honouring `Idempotency-Key`: a repeated key within
an hour returns the original status; the server forgets keys after that), `GET /api/v1/accounts/
verify_credentials` and `GET /api/v2/instance` (whose `configuration.statuses` states this instance's
`max_characters` and `characters_reserved_per_url`), with `X-RateLimit-*` headers and Mastodon's error
shape `{"error": "..."}` (422 for a status over the instance's limit, counted by the fake's own rule).

A reply names its status in `in_reply_to_id`; a status the instance does not hold is refused as
Mastodon does, 404 `{"error": "Record not found"}`. The stored status keeps `in_reply_to_id`.

`max_characters`, `url_length` and `clock` (seconds, for key expiry) can be changed by tests."""

from __future__ import annotations

import itertools
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import regex
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from fakes.fake_limits import Window
from fakes.fake_server import FakePlatform

TOKEN = "fake-mastodon-token"
MAX_CHARS = 500  # vanilla Mastodon's limit; other servers configure their own
URL_LENGTH = 23  # the server counts every link as this many characters
KEY_TTL = 3600.0  # Mastodon keeps an Idempotency-Key for one hour
_LINK = regex.compile(r"https?://[^\s]+")
_REMOTE_MENTION = regex.compile(r"(?<![/\w])@(\w+)@[\w.-]+\w", regex.IGNORECASE)


def status_length(text: str, url_length: int = URL_LENGTH) -> int:
    """The server's own count (not the adapter's): grapheme clusters, each link as `url_length`
    characters and a remote mention as its local part."""
    text = _LINK.sub("x" * url_length, text)
    text = _REMOTE_MENTION.sub(r"@\1", text)
    return len(regex.findall(r"\X", text))


class FakeMastodon(FakePlatform):
    name = "mastodon"

    def __init__(self, token: str = TOKEN, clock: Callable[[], float] = time.time) -> None:
        super().__init__()
        self.token = token
        self.clock = clock
        self.lock = threading.Lock()
        self.followers = 2_345
        self.window = Window(limit=10_000, seconds=300)
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.statuses: list[dict[str, Any]] = []
            self.public: list[dict[str, Any]] = []  # other people's public posts (hashtag timelines)
            self.by_key: dict[str, tuple[float, dict[str, Any]]] = {}
            self._ids = itertools.count(110_000_000_000_000_001)
            self.max_characters = MAX_CHARS
            self.url_length = URL_LENGTH

    def dump(self) -> dict[str, Any]:
        with self.lock:
            return {"statuses": list(self.statuses), "keys": sorted(self.by_key)}

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/api/v1/statuses", self.post_status, methods=["POST"]),
            Route("/api/v1/accounts/verify_credentials", self.verify, methods=["GET"]),
            Route("/api/v2/instance", self.instance, methods=["GET"]),
            Route("/api/v1/timelines/tag/{hashtag}", self.tag_timeline, methods=["GET"]),
        ]

    def add_public_post(self, text: str, acct: str = "taro@example.social") -> dict[str, Any]:
        """A public status of someone else; its `#tags` appear in `tags`, as Mastodon parses them."""
        with self.lock:
            status = _status(str(next(self._ids)), text, "ja")
            user = acct.split("@")[0]
            status["account"] = {**_account(), "id": str(abs(hash(acct)) % 10**17), "username": user,
                                 "acct": acct, "url": f"https://example.social/@{user}"}  # fmt: skip
            status["url"] = f"https://example.social/@{user}/{status['id']}"
            status["tags"] = [{"name": t.lower()} for t in regex.findall(r"#(\w+)", text)]
            self.public.append(status)
            return status

    async def tag_timeline(self, request: Request) -> Response:
        """`GET /api/v1/timelines/tag/:hashtag` (public): newest first, `limit` (≤ 40), `since_id`."""
        tag = str(request.path_params["hashtag"]).lower()
        try:
            limit = min(40, max(1, int(request.query_params.get("limit", "20"))))
            since = int(request.query_params.get("since_id", "0"))
        except ValueError:
            return JSONResponse({"error": "Invalid parameter"}, 400)
        with self.lock:
            found = [
                s
                for s in reversed(self.public)
                if tag in {t["name"] for t in s["tags"]} and int(s["id"]) > since
            ]
        return JSONResponse(found[:limit])

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
        if status_length(text, self.url_length) > self.max_characters:
            return self._answer(
                {"error": f"Validation failed: Text character limit of {self.max_characters} exceeded"}, 422
            )
        key = request.headers.get("idempotency-key")
        reply_to = str(data["in_reply_to_id"]) if data.get("in_reply_to_id") else None
        with self.lock:
            now = self.clock()
            self.by_key = {k: kept for k, kept in self.by_key.items() if now - kept[0] < KEY_TTL}
            if key and key in self.by_key:
                return self._answer(self.by_key[key][1])
            if reply_to is not None and all(s["id"] != reply_to for s in self.statuses):
                return self._answer({"error": "Record not found"}, 404)
            status = _status(str(next(self._ids)), text, str(data.get("language") or "ja"))
            status["in_reply_to_id"] = reply_to
            self.statuses.append(status)
            if key:
                self.by_key[key] = (now, status)
        return self._answer(status)

    async def instance(self, request: Request) -> Response:
        """`GET /api/v2/instance` (public): the server's configuration, as Mastodon 4 reports it."""
        statuses = {
            "max_characters": self.max_characters,
            "max_media_attachments": 4,
            "characters_reserved_per_url": self.url_length,
        }
        body = {
            "domain": "mastodon.example",
            "title": "Mastodon (fake)",
            "version": "4.3.0",
            "source_url": "https://github.com/mastodon/mastodon",
            "languages": ["ja", "en"],
            "configuration": {"urls": {}, "accounts": {"max_featured_tags": 10}, "statuses": statuses},
            "registrations": {"enabled": False, "approval_required": False, "message": None},
        }
        return JSONResponse(body)  # public: not counted against the account's rate limit

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
