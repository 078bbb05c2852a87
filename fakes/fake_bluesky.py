"""Fake Bluesky PDS (XRPC): `com.atproto.server.createSession` / `refreshSession`,
`com.atproto.repo.createRecord` / `getRecord` and `app.bsky.actor.getProfile`, with `ratelimit-*`
headers and XRPC errors `{"error", "message"}`.

Like the real PDS today, creating a record whose key already exists answers 500, not a conflict
(bluesky-social/atproto#3718), and a missing record is a 400 `RecordNotFound`.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import time
from typing import Any

import regex
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from fakes.fake_limits import Window
from fakes.fake_server import FakePlatform

HANDLE = "suita-city.bsky.social"
PASSWORD = "fake-app-password"
DID = "did:plc:suitacityfake0000000000"
XRPC = "/xrpc"


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def fake_jwt(scope: str, seconds: int) -> str:
    """An unsigned-looking JWT the SDK can decode (it reads `exp` to know when to refresh)."""
    now = int(time.time())
    payload = {
        "scope": scope,
        "sub": DID,
        "iat": now,
        "exp": now + seconds,
        "jti": f"{scope}-{time.time_ns()}",
    }
    return f"{_b64({'alg': 'HS256', 'typ': 'JWT'})}.{_b64(payload)}.c2lnbmF0dXJl"


class FakeBluesky(FakePlatform):
    name = "bluesky"

    def __init__(self, handle: str = HANDLE, password: str = PASSWORD) -> None:
        super().__init__()
        self.handle, self.password = handle, password
        self.lock = threading.Lock()
        self.followers = 1_234
        self.window = Window(limit=5_000, seconds=3600)
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.records: dict[str, dict[str, Any]] = {}
            self.tokens: set[str] = set()

    def dump(self) -> dict[str, Any]:
        with self.lock:
            return {"records": [{"rkey": k, **v} for k, v in self.records.items()]}

    def routes(self) -> list[BaseRoute]:
        return [
            Route(f"{XRPC}/com.atproto.server.createSession", self.create_session, methods=["POST"]),
            Route(f"{XRPC}/com.atproto.server.refreshSession", self.refresh_session, methods=["POST"]),
            Route(f"{XRPC}/com.atproto.repo.createRecord", self.create_record, methods=["POST"]),
            Route(f"{XRPC}/com.atproto.repo.getRecord", self.get_record, methods=["GET"]),
            Route(f"{XRPC}/app.bsky.actor.getProfile", self.get_profile, methods=["GET"]),
        ]

    def _answer(self, body: Any, status: int = 200) -> Response:
        allowed, remaining, reset = self.window.hit()
        headers = {
            "ratelimit-limit": str(self.window.limit),
            "ratelimit-remaining": str(remaining),
            "ratelimit-reset": str(reset),
            "ratelimit-policy": f"{self.window.limit};w={int(self.window.seconds)}",
        }
        if not allowed:
            return JSONResponse(
                {"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"}, 429, headers
            )
        return JSONResponse(body, status, headers)

    def _session(self) -> dict[str, Any]:
        access, refresh = fake_jwt("com.atproto.appPass", 7200), fake_jwt("com.atproto.refresh", 86400)
        with self.lock:
            self.tokens.update((access, refresh))
        return {"did": DID, "handle": self.handle, "accessJwt": access, "refreshJwt": refresh, "active": True}

    def _authorized(self, request: Request) -> bool:
        token = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
        with self.lock:
            return token in self.tokens

    async def create_session(self, request: Request) -> Response:
        body = await request.json()
        if body.get("identifier") not in (self.handle, DID) or body.get("password") != self.password:
            return _xrpc_error("AuthenticationRequired", "Invalid identifier or password", 401)
        return self._answer(self._session())

    async def refresh_session(self, request: Request) -> Response:
        if not self._authorized(request):
            return _xrpc_error("ExpiredToken", "Token has expired", 400)
        return self._answer(self._session())

    async def create_record(self, request: Request) -> Response:
        if not self._authorized(request):
            return _xrpc_error("AuthenticationRequired", "Authentication Required", 401)
        body = await request.json()
        record = body.get("record") or {}
        text = str(record.get("text", ""))
        if len(regex.findall(r"\X", text)) > 300 or len(text.encode()) > 3000:
            return self._answer(
                {"error": "InvalidRecord", "message": "Record/text must not be longer than 300 graphemes"},
                400,
            )
        rkey = str(body.get("rkey") or f"auto{time.time_ns()}")
        with self.lock:
            if rkey in self.records:
                return _xrpc_error("InternalServerError", "Internal Server Error", 500)
            self.records[rkey] = {"collection": body.get("collection"), "value": record}
        return self._answer(
            {"uri": _uri(body.get("collection"), rkey), "cid": _cid(record), "validationStatus": "valid"}
        )

    async def get_record(self, request: Request) -> Response:
        rkey = request.query_params.get("rkey", "")
        collection = request.query_params.get("collection", "")
        with self.lock:
            found = self.records.get(rkey)
        if found is None:
            return self._answer(
                {"error": "RecordNotFound", "message": f"Could not locate record: {_uri(collection, rkey)}"},
                400,
            )
        return self._answer(
            {"uri": _uri(collection, rkey), "cid": _cid(found["value"]), "value": found["value"]}
        )

    async def get_profile(self, request: Request) -> Response:
        if not self._authorized(request):
            return _xrpc_error("AuthenticationRequired", "Authentication Required", 401)
        with self.lock:
            posts = len(self.records)
        profile = {
            "did": DID,
            "handle": self.handle,
            "displayName": "吹田市",
            "followersCount": self.followers,
            "followsCount": 3,
            "postsCount": posts,
        }
        return self._answer(profile)


def _uri(collection: Any, rkey: str) -> str:
    return f"at://{DID}/{collection}/{rkey}"


def _cid(record: Any) -> str:
    return "bafyrei" + hashlib.sha256(json.dumps(record, sort_keys=True).encode()).hexdigest()[:52]


def _xrpc_error(error: str, message: str, status: int) -> Response:
    return JSONResponse({"error": error, "message": message}, status)
