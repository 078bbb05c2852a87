"""Fake X API v2: `POST /2/tweets`, `GET /2/users/me`, `GET /2/users/{id}/tweets` and the recent
search `GET /2/tweets/search/recent` over public posts of others (`add_public_post`).

Follows the official JSON shapes: `{"data": {...}}`, problem-style errors (`detail`, `title`, `type`),
the 403 "duplicate content" refusal, `x-rate-limit-*` headers on every answer and a 429 when the window
is spent. Posting also carries the per-user 24-hour cap, `x-user-limit-24hour-{limit,remaining,reset}`:
once it is spent, X answers 429 with `x-user-limit-24hour-remaining: 0` and the day's reset, even
while the 15-minute window still has calls left. Like X, it shortens links to t.co in the stored text
and HTML-escapes `&`, `<` and `>` in the text it returns. OAuth 1.0a signatures are not checked, only
that a user-context `Authorization: OAuth …` header is present.

A reply names its post in `reply.in_reply_to_tweet_id` (a numeric string, else 400 invalid request);
replying to a post the fake does not hold is refused as X refuses a reply to a deleted or invisible
post: 403 "You attempted to reply to a Tweet that is deleted or not visible to you." The stored tweet
keeps `in_reply_to` and `conversation_id` (the thread's first post).

Recent search follows X's contract with the fake's own query matching (every term of the query must
be in the text; a `#tag` as a whole hashtag; `-is:retweet`, `-is:reply`, `has:geo` and `lang:` are
understood): `query` 1-512 characters, `max_results` 10-100 (else 400), fields only when asked for
(`tweet.fields=geo,author_id,created_at`, `expansions=author_id,geo.place_id`, `includes.users`,
`includes.places`), its own 15-minute window (`search_window`, 429 when spent). With
`search_enrolled = False` it answers as X does for an API tier without search: 403 "client-not-enrolled".

The fake measures a post with its own implementation of twitter-text v3's weighted length
(`weighted_length`), not the library production counts with.
"""

from __future__ import annotations

import itertools
import re
import threading
import time
import unicodedata
from datetime import UTC, datetime
from typing import Any

import regex
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from fakes.fake_limits import Window
from fakes.fake_server import FakePlatform

USER_ID = "1500000000000000001"
DUPLICATE = "You are not allowed to create a Tweet with duplicate content."
REPLY_GONE = "You attempted to reply to a Tweet that is deleted or not visible to you."
INVALID = {
    "title": "Invalid Request",
    "detail": "One or more parameters to your request was invalid.",
    "type": "https://api.twitter.com/2/problems/invalid-request",
}
SEARCH_PER_WINDOW = 180  # recent search calls per 15 minutes (user context)
NOT_ENROLLED = {
    "client_id": "29300000",
    "detail": "When authenticating requests to the Twitter API v2 endpoints, you must use keys and tokens "
    "from a Twitter developer App that is attached to a Project. You can create a project via the "
    "developer portal.",
    "registration_url": "https://developer.twitter.com/en/docs/projects/overview",
    "title": "Client Forbidden",
    "required_enrollment": "Appropriate Level of API Access",
    "reason": "client-not-enrolled",
    "type": "https://api.twitter.com/2/problems/client-forbidden",
}
DAILY_POSTS = 10_000  # the fake's default per-user 24-hour cap (tests lower it)
MAX_WEIGHT = 280
URL_WEIGHT = 23
# twitter-text v3 (config/v3.json): code points in these ranges count 1, everything else 2
LIGHT_RANGES = ((0x0000, 0x10FF), (0x2000, 0x200D), (0x2010, 0x201F), (0x2032, 0x2037))
# a link as X finds one: a scheme, then RFC 3986 characters; trailing punctuation is not part of it
_LINK = re.compile(r"https?://[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+")
_TRAILING = ".,:;!?'\""
_CLUSTER = regex.compile(r"\X")
_PICTOGRAPHIC = regex.compile(r"\p{Extended_Pictographic}|\p{Regional_Indicator}")


def links(text: str) -> list[tuple[int, int]]:
    """The spans of the links in `text`, ended before trailing punctuation and an unopened `)`."""
    spans = []
    for match in _LINK.finditer(text):
        end = match.end()
        while end > match.start() and (
            text[end - 1] in _TRAILING
            or (
                text[end - 1] == ")"
                and text.count("(", match.start(), end) < text.count(")", match.start(), end)
            )
        ):
            end -= 1
        spans.append((match.start(), end))
    return spans


def _weight(cluster: str) -> int:
    if _PICTOGRAPHIC.search(cluster) or "\ufe0f" in cluster or "\u20e3" in cluster:
        return 200  # one emoji, however many code points
    return sum(100 if any(lo <= ord(c) <= hi for lo, hi in LIGHT_RANGES) else 200 for c in cluster)


def weighted_length(text: str) -> int:
    """twitter-text v3's weighted length as the fake computes it: NFC first; a link counts 23, an emoji
    2, a code point in the light ranges 1 and any other 2."""
    text = unicodedata.normalize("NFC", text)
    total, position = 0, 0
    for start, end in [*links(text), (len(text), len(text))]:
        total += sum(_weight(c) for c in _CLUSTER.findall(text[position:start]))
        total += URL_WEIGHT * 100 if end > start else 0
        position = end
    return total // 100


def escaped(text: str) -> str:
    """How X returns a post's text: `&`, `<` and `>` as HTML entities."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class FakeX(FakePlatform):
    name = "x"

    def __init__(self) -> None:
        super().__init__()
        self.lock = threading.Lock()
        self.followers = 12_345
        self.window = Window(limit=10_000, seconds=900)
        self.daily = Window(limit=DAILY_POSTS, seconds=86_400)
        self.search_window = Window(limit=SEARCH_PER_WINDOW, seconds=900)
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.tweets: list[dict[str, Any]] = []
            self.public: list[dict[str, Any]] = []
            self.search_enrolled = True
            self._ids = itertools.count(1_800_000_000_000_000_001)
        self.daily.set(DAILY_POSTS, 86_400)
        self.search_window.set(SEARCH_PER_WINDOW, 900)

    def dump(self) -> dict[str, Any]:
        with self.lock:
            tweets = [{**t, "created_at": t["created_at"].isoformat()} for t in self.tweets]
        return {"tweets": tweets, "followers": self.followers}

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/2/tweets", self.create_tweet, methods=["POST"]),
            Route("/2/users/me", self.me, methods=["GET"]),
            Route("/2/users/{id}/tweets", self.user_tweets, methods=["GET"]),
            Route("/2/tweets/search/recent", self.search_recent, methods=["GET"]),
        ]

    def add_public_post(
        self, text: str, username: str = "suita_taro", coordinates: tuple[float, float] | None = None
    ) -> dict[str, Any]:
        """A public post of someone else; `coordinates` (lon, lat) is its exact location, if shared."""
        with self.lock:
            tweet_id = str(next(self._ids))
            post: dict[str, Any] = {
                "id": tweet_id,
                "text": text,
                "author_id": str(abs(hash(username)) % 10**18),
                "username": username,
                "created_at": datetime.now(UTC),
            }
            if coordinates is not None:
                post["geo"] = {
                    "coordinates": {"type": "Point", "coordinates": list(coordinates)},
                    "place_id": "01a9a39529b27f36",
                }
            self.public.append(post)
            return post

    def _limited(
        self, body: Any, status: int = 200, *, posting: bool = False, window: Window | None = None
    ) -> Response:
        headers: dict[str, str] = {"x-transaction-id": f"tx{time.time_ns()}"}
        allowed_today = True
        if posting:
            allowed_today, left_today, reset_today = self.daily.hit()
            headers |= {
                "x-user-limit-24hour-limit": str(self.daily.limit),
                "x-user-limit-24hour-remaining": str(left_today),
                "x-user-limit-24hour-reset": str(reset_today),
            }
        window = window or self.window
        allowed, remaining, reset = window.hit()
        headers |= {
            "x-rate-limit-limit": str(window.limit),
            "x-rate-limit-remaining": str(remaining),
            "x-rate-limit-reset": str(reset),
        }
        if not (allowed and allowed_today):
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
    def _unauthorized(request: Request, bearer: bool = False) -> Response | None:
        given = request.headers.get("authorization", "")
        if given.startswith("OAuth ") or (bearer and given.startswith("Bearer ")):
            return None
        body = {"title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"}
        return JSONResponse(body, 401)

    async def create_tweet(self, request: Request) -> Response:
        if denied := self._unauthorized(request):
            return denied
        body = await request.json()
        text = str(body.get("text", ""))
        reply = body.get("reply")
        reply_to = reply.get("in_reply_to_tweet_id") if isinstance(reply, dict) else None
        if reply is not None and not (isinstance(reply_to, str) and reply_to.isdigit()):
            problem = {"message": "`reply.in_reply_to_tweet_id` must be a tweet id"}
            return self._limited({**INVALID, "errors": [problem]}, 400, posting=True)
        if not text or weighted_length(text) > MAX_WEIGHT:
            problem = {"message": "Your Tweet text is too long." if text else "text is required"}
            return self._limited(
                {**INVALID, "errors": [problem]},
                400,
                posting=True,
            )
        with self.lock:
            parent = next((t for t in self.tweets if t["id"] == reply_to), None)
            if reply_to is not None and parent is None:
                refused = {"detail": REPLY_GONE, "type": "about:blank", "title": "Forbidden", "status": 403}
                return self._limited(refused, 403, posting=True)
            if any(t["original"] == text for t in self.tweets):
                body = {"detail": DUPLICATE, "type": "about:blank", "title": "Forbidden", "status": 403}
                return self._limited(body, 403, posting=True)
            tweet_id = str(next(self._ids))
            shown = shortened(text, tweet_id)
            self.tweets.append(
                {
                    "id": tweet_id,
                    "text": shown,
                    "original": text,
                    "created_at": datetime.now(UTC),
                    "in_reply_to": reply_to,
                    "conversation_id": parent["conversation_id"] if parent else tweet_id,
                }
            )
        return self._limited(
            {"data": {"id": tweet_id, "text": escaped(shown), "edit_history_tweet_ids": [tweet_id]}},
            201,
            posting=True,
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
        data = [
            {"id": t["id"], "text": escaped(t["text"]), "edit_history_tweet_ids": [t["id"]]} for t in rows
        ]
        meta: dict[str, Any] = {"result_count": len(data)}
        if data:
            meta.update(newest_id=data[0]["id"], oldest_id=data[-1]["id"])
        return self._limited({"data": data, "meta": meta} if data else {"meta": meta})

    async def search_recent(self, request: Request) -> Response:
        """`GET /2/tweets/search/recent`: public posts of the last 7 days matching `query`, newest first."""
        if denied := self._unauthorized(request, bearer=True):
            return denied
        if not self.search_enrolled:
            return JSONResponse(NOT_ENROLLED, 403)
        params = request.query_params
        query = params.get("query", "")
        try:
            limit = int(params.get("max_results", "10"))
        except ValueError:
            limit = 0
        problems = []
        if not 1 <= len(query) <= 512:
            problems.append({"parameters": {"query": [query]}, "message": "query must be 1-512 characters"})
        if not 10 <= limit <= 100:
            problems.append(
                {
                    "parameters": {"max_results": [params.get("max_results", "")]},
                    "message": "The `max_results` query parameter value is not between 10 and 100",
                }
            )
        if problems:
            return self._limited(
                {**INVALID, "errors": problems},
                400,
                window=self.search_window,
            )
        fields = set(params.get("tweet.fields", "").split(","))
        expansions = set(params.get("expansions", "").split(","))
        with self.lock:
            found = [p for p in reversed(self.public) if _matches(query, p)][:limit]
        data = []
        for p in found:
            item: dict[str, Any] = {"id": p["id"], "text": escaped(p["text"]),
                                    "edit_history_tweet_ids": [p["id"]]}  # fmt: skip
            if "author_id" in fields or "author_id" in expansions:
                item["author_id"] = p["author_id"]
            if "created_at" in fields:
                item["created_at"] = p["created_at"].strftime("%Y-%m-%dT%H:%M:%S.000Z")
            if "geo" in fields and "geo" in p:
                item["geo"] = p["geo"]
            data.append(item)
        body: dict[str, Any] = {"meta": {"result_count": len(data)}}
        if data:
            body["data"] = data
            body["meta"] |= {"newest_id": data[0]["id"], "oldest_id": data[-1]["id"]}
            includes: dict[str, Any] = {}
            if "author_id" in expansions:
                users = {p["author_id"]: p["username"] for p in found}
                includes["users"] = [{"id": i, "name": u, "username": u} for i, u in users.items()]
            if "geo.place_id" in expansions and any("geo" in p for p in found):
                includes["places"] = [{"id": "01a9a39529b27f36", "full_name": "Suita-shi, Osaka"}]
            if includes:
                body["includes"] = includes
        return self._limited(body, window=self.search_window)


def _matches(query: str, post: dict[str, Any]) -> bool:
    """The fake's reading of a search query: terms joined by AND; `-is:retweet`, `-is:reply` and
    `lang:` hold for every public post of the fake, `has:geo` needs coordinates."""
    text = post["text"].casefold()
    for term in query.split():
        if term in ("-is:retweet", "-is:reply") or term.startswith("lang:"):
            continue
        if term == "has:geo":
            if "geo" not in post:
                return False
        elif term.startswith("#"):
            if not regex.search(regex.escape(term.casefold()) + r"(?!\w)", text):
                return False
        elif term.casefold() not in text:
            return False
    return True


def shortened(text: str, tweet_id: str) -> str:
    """The text with every link replaced by a t.co link, as X stores it."""
    parts, position = [], 0
    for n, (start, end) in enumerate(links(text)):
        parts += [text[position:start], f"https://t.co/{tweet_id[-8:]}{n:02d}"]
        position = end
    return "".join(parts) + text[position:]
