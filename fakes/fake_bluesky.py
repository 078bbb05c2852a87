"""Fake Bluesky PDS (XRPC): `com.atproto.server.createSession` / `refreshSession`,
`com.atproto.repo.createRecord` / `getRecord` and `app.bsky.actor.getProfile`, with `ratelimit-*`
headers and XRPC errors `{"error", "message"}`.

It checks with its own rules, as a PDS does:
- sessions: a missing token is 401 `AuthMissing`; an unknown one 400 `InvalidToken`; a refresh token
  used as an access token (or the reverse) 400 `InvalidToken` "Bad token scope"; an expired or revoked
  one 400 `ExpiredToken`. `refreshSession` rotates the refresh token. `revoke_tokens()` ends the
  sessions the way a PDS does when tokens expire or are revoked early.
- records: the record key of a post must be a TID (`key: "tid"` in the lexicon); the text at most
  300 graphemes and 3,000 UTF-8 bytes; every facet's byte range lies inside the text on character
  boundaries, and a link facet covers exactly its `uri`, a URI made of RFC 3986 characters (stricter
  than the PDS, so a link that runs into the words after it is caught).
- replies: `reply.root` and `reply.parent` are strong references, each `{uri, cid}` with an `at://`
  URI and a CID (the lexicon's shape, 400 `InvalidRecord` otherwise). Stricter than a PDS, which
  does not look the posts up: a reference to a post of this repository that the fake does not hold,
  or with another CID, is refused with 400 `InvalidRequest` "Could not locate record" (so a reply to
  a post that was never published is caught).

Like the real PDS today, creating a record whose key already exists answers 500, not a conflict
(bluesky-social/atproto#3718), and a missing record is a 400 `RecordNotFound`.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
import threading
import time
from dataclasses import dataclass
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
POST = "app.bsky.feed.post"
LINK = "app.bsky.richtext.facet#link"
ACCESS, REFRESH = "com.atproto.appPass", "com.atproto.refresh"
ACCESS_SECONDS, REFRESH_SECONDS = 7200, 90 * 86400
TID = re.compile(r"[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}")
URI = re.compile(r"https?://[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+")
_S32 = "234567abcdefghijklmnopqrstuvwxyz"
CID = re.compile(r"b[a-z2-7]{20,100}")


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def fake_jwt(scope: str, seconds: int) -> str:
    """An unsigned-looking JWT the SDK can decode (it reads `exp` to know when to refresh)."""
    now = int(time.time())
    payload = {"scope": scope, "sub": DID, "iat": now, "exp": now + seconds, "jti": secrets.token_hex(8)}
    return f"{_b64({'alg': 'HS256', 'typ': 'JWT'})}.{_b64(payload)}.c2lnbmF0dXJl"


def server_tid() -> str:
    """A record key the way a PDS makes one when the client names none."""
    value = (time.time_ns() // 1000) << 10 | secrets.randbelow(1024)
    return "".join(_S32[(value >> shift) & 31] for shift in range(60, -1, -5))


@dataclass
class _Token:
    scope: str
    expires: float
    revoked: bool = False


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
            self.public: list[dict[str, Any]] = []  # other people's posts (search)
            self.tokens: dict[str, _Token] = {}

    def dump(self) -> dict[str, Any]:
        with self.lock:
            return {"records": [{"rkey": k, **v} for k, v in self.records.items()]}

    def revoke_tokens(self, *, access: bool = True, refresh: bool = False) -> None:
        """End the current sessions early, as a PDS does: access tokens (and refresh tokens) answer
        `ExpiredToken` from now on."""
        with self.lock:
            for token in self.tokens.values():
                if (token.scope == ACCESS and access) or (token.scope == REFRESH and refresh):
                    token.revoked = True

    def routes(self) -> list[BaseRoute]:
        return [
            Route(f"{XRPC}/com.atproto.server.createSession", self.create_session, methods=["POST"]),
            Route(f"{XRPC}/com.atproto.server.refreshSession", self.refresh_session, methods=["POST"]),
            Route(f"{XRPC}/com.atproto.repo.createRecord", self.create_record, methods=["POST"]),
            Route(f"{XRPC}/com.atproto.repo.getRecord", self.get_record, methods=["GET"]),
            Route(f"{XRPC}/app.bsky.actor.getProfile", self.get_profile, methods=["GET"]),
            Route(f"{XRPC}/app.bsky.feed.searchPosts", self.search_posts, methods=["GET"]),
        ]

    def add_public_post(self, text: str, handle: str = "hanako.bsky.social") -> dict[str, Any]:
        """Someone else's post, as `app.bsky.feed.searchPosts` lists it (a post view)."""
        rkey = server_tid()
        did = "did:plc:" + hashlib.sha256(handle.encode()).hexdigest()[:24]
        record = {"$type": "app.bsky.feed.post", "text": text, "createdAt": _now_iso(), "langs": ["ja"]}
        view = {
            "uri": f"at://{did}/app.bsky.feed.post/{rkey}",
            "cid": _cid(record),
            "author": {"did": did, "handle": handle},
            "record": record,
            "indexedAt": _now_iso(),
        }
        with self.lock:
            self.public.append(view)
        return view

    async def search_posts(self, request: Request) -> Response:
        """`app.bsky.feed.searchPosts` (public on the AppView): `q` (a `#tag` matches the tag), `limit`
        (1–100), newest first."""
        q = request.query_params.get("q", "").strip().lower()
        try:
            limit = int(request.query_params.get("limit", "25"))
        except ValueError:
            limit = 0
        if not q or not 1 <= limit <= 100:
            return _xrpc_error("InvalidRequest", "Error: q and limit (1-100) are required", 400)
        with self.lock:
            found = [p for p in reversed(self.public) if q in p["record"]["text"].lower()]
        return JSONResponse({"posts": found[:limit], "hitsTotal": len(found)})

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
        access, refresh = fake_jwt(ACCESS, ACCESS_SECONDS), fake_jwt(REFRESH, REFRESH_SECONDS)
        now = time.time()
        with self.lock:
            self.tokens[access] = _Token(ACCESS, now + ACCESS_SECONDS)
            self.tokens[refresh] = _Token(REFRESH, now + REFRESH_SECONDS)
        return {"did": DID, "handle": self.handle, "accessJwt": access, "refreshJwt": refresh, "active": True}

    def _refused(self, request: Request, scope: str = ACCESS, *, optional: bool = False) -> Response | None:
        """The PDS's answer to the request's bearer token, or None when it may go on."""
        header = request.headers.get("authorization", "")
        if not header:
            return None if optional else _xrpc_error("AuthMissing", "Authentication Required", 401)
        with self.lock:
            token = self.tokens.get(header.removeprefix("Bearer ").strip())
        if token is None:
            return _xrpc_error("InvalidToken", "Token could not be verified", 400)
        if token.scope != scope:
            return _xrpc_error("InvalidToken", "Bad token scope", 400)
        if token.revoked:
            return _xrpc_error("ExpiredToken", "Token has been revoked", 400)
        if token.expires <= time.time():
            return _xrpc_error("ExpiredToken", "Token has expired", 400)
        return None

    async def create_session(self, request: Request) -> Response:
        body = await request.json()
        if body.get("identifier") not in (self.handle, DID) or body.get("password") != self.password:
            return _xrpc_error("AuthenticationRequired", "Invalid identifier or password", 401)
        return self._answer(self._session())

    async def refresh_session(self, request: Request) -> Response:
        if refused := self._refused(request, REFRESH):
            return refused
        used = request.headers["authorization"].removeprefix("Bearer ").strip()
        with self.lock:
            self.tokens[used].revoked = True  # rotation: a refresh token is used once
        return self._answer(self._session())

    async def create_record(self, request: Request) -> Response:
        if refused := self._refused(request):
            return refused
        body = await request.json()
        record = body.get("record") or {}
        collection = body.get("collection")
        rkey = body.get("rkey")
        if rkey is not None and (collection != POST or not TID.fullmatch(str(rkey))):
            return self._answer({"error": "InvalidRequest", "message": f"Invalid record key: {rkey!r}"}, 400)
        problem = record_problem(record) if collection == POST else None
        if problem:
            return self._answer({"error": "InvalidRecord", "message": problem}, 400)
        key = str(rkey) if rkey is not None else server_tid()
        with self.lock:
            if missing := self._missing_reference(record.get("reply")):
                return self._answer(
                    {"error": "InvalidRequest", "message": f"Could not locate record: {missing}"}, 400
                )
            if key in self.records:
                return _xrpc_error("InternalServerError", "Internal Server Error", 500)
            self.records[key] = {"collection": collection, "value": record}
        return self._answer({"uri": _uri(collection, key), "cid": _cid(record), "validationStatus": "valid"})

    def _missing_reference(self, reply: Any) -> str | None:
        """The first reply reference to a post of this repository that the fake does not hold with
        that CID (called with the lock held)."""
        if not isinstance(reply, dict):
            return None
        for ref in (reply["root"], reply["parent"]):
            prefix = f"at://{DID}/{POST}/"
            if ref["uri"].startswith(prefix):
                found = self.records.get(ref["uri"][len(prefix) :])
                if found is None or _cid(found["value"]) != ref["cid"]:
                    return str(ref["uri"])
        return None

    async def get_record(self, request: Request) -> Response:
        if refused := self._refused(request, optional=True):
            return refused
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
        if refused := self._refused(request):
            return refused
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


def record_problem(record: dict[str, Any]) -> str | None:
    """Why the PDS would refuse an `app.bsky.feed.post` record (None: valid)."""
    text = record.get("text")
    if not isinstance(text, str):
        return "Record/text must be a string"
    data = text.encode("utf-8")
    if len(data) > 3000:  # the lexicon's maxLength (UTF-8 bytes), checked before maxGraphemes
        return "Record/text must not be longer than 3000 characters"
    if len(regex.findall(r"\X", text)) > 300:
        return "Record/text must not be longer than 300 graphemes"
    if "reply" in record and (problem := _reply_problem(record["reply"])):
        return problem
    facets = record.get("facets") or []
    if not isinstance(facets, list):
        return "Record/facets must be an array"
    for i, facet in enumerate(facets):
        problem = _facet_problem(data, facet)
        if problem:
            return f"Record/facets/{i}: {problem}"
    return None


def _reply_problem(reply: Any) -> str | None:
    """Why `reply` is not the lexicon's `{root, parent}` pair of strong references (None: it is)."""
    if not isinstance(reply, dict):
        return "Record/reply must be an object"
    for name in ("root", "parent"):
        ref = reply.get(name)
        if not isinstance(ref, dict):
            return f"Record/reply/{name} must be an object"
        if not isinstance(ref.get("uri"), str) or not ref["uri"].startswith("at://"):
            return f"Record/reply/{name}/uri must be a valid at-uri"
        if not isinstance(ref.get("cid"), str) or not CID.fullmatch(ref["cid"]):
            return f"Record/reply/{name}/cid must be a cid string"
    return None


def _facet_problem(data: bytes, facet: Any) -> str | None:
    index = facet.get("index") if isinstance(facet, dict) else None
    start = index.get("byteStart") if isinstance(index, dict) else None
    end = index.get("byteEnd") if isinstance(index, dict) else None
    if not (type(start) is int and type(end) is int and 0 <= start < end <= len(data)):
        return f"byte range {start}..{end} is not inside the text ({len(data)} bytes)"
    try:
        covered = data[start:end].decode("utf-8")
    except UnicodeDecodeError:
        return f"byte range {start}..{end} does not fall on character boundaries"
    for feature in facet.get("features") or []:
        if isinstance(feature, dict) and feature.get("$type") == LINK:
            uri = feature.get("uri")
            if not isinstance(uri, str) or not URI.fullmatch(uri):
                return f"link uri {uri!r} is not a URI"
            if covered != uri:
                return f"the link covers {covered!r}, not its uri {uri!r}"
    return None


def _uri(collection: Any, rkey: str) -> str:
    return f"at://{DID}/{collection}/{rkey}"


def _cid(record: Any) -> str:
    digest = hashlib.sha256(json.dumps(record, sort_keys=True).encode()).digest()
    return "bafyrei" + base64.b32encode(digest).decode().lower().rstrip("=")


def _xrpc_error(error: str, message: str, status: int) -> Response:
    return JSONResponse({"error": error, "message": message}, status)


def _now_iso() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
