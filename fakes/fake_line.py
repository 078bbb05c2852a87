"""A fake LINE Messaging API server for tests, demos and benchmarks.

Official paths, headers and JSON shapes: reply (single-use reply tokens that expire), push,
multicast, broadcast and narrowcast (with `X-Line-Retry-Key`: a UUID; a repeat of an accepted key
within 24 h answers 409 with `x-line-accepted-request-id` and is not delivered again), narrowcast
progress (`waiting` at the first look, then `succeeded`),
message content (`add_content`), profiles, insight follower counts, follower IDs, quota, loading
animation, validate endpoints and rich menus (`fakes.fake_line_rich_menus`). Every answer of the fake
itself carries `x-line-request-id`.
Requests are checked as LINE checks them (`fakes.fake_line_rules`); with an expected `access_token`, a
missing or wrong bearer token is 401. Optional per-endpoint rate limits answer 429 like LINE: without
`Retry-After`, which LINE does not document.

Whoever plays the LINE platform (tests, the simulator) issues reply tokens with
`issue_reply_token(user_id)`; other processes use `POST /__fake__/line/reply-tokens`. What was
delivered is in `deliveries()`, `messages_for(user_id)`, `messages_since(user_id, after)`,
`broadcasts()` and `dump()`. With `max_deliveries` (the simulator's fake, which anyone may drive) the fake
keeps at most that many deliveries, reply tokens and friends, the oldest forgotten first.

    python -m fakes line --port 9001
"""

from __future__ import annotations

import datetime as dt
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from fakes import fake_line_rules as rules
from fakes.fake_line_account import LineAccount
from fakes.fake_line_http import Ctx, answer, bad_request, not_found, parse_object
from fakes.fake_line_rich_menus import RichMenus
from fakes.fake_line_rules import detail, error_body
from fakes.fake_server import FakePlatform

DeliveryKind = Literal["reply", "push", "multicast", "broadcast", "narrowcast"]
Handler = Callable[[Ctx], Response]
API = "/v2/bot"
RETRY_KEY_TTL = 24 * 3600.0
RETRY_KEY_ENDPOINTS: tuple[DeliveryKind, ...] = ("push", "multicast", "broadcast", "narrowcast")
NO_JSON_BODY = ("richmenu_image", "richmenu_default_set")
RATE_LIMITED = "The API rate limit has been exceeded. Try again later."
MONTHLY_LIMIT = "You have reached your monthly limit."


@dataclass(frozen=True)
class ReceivedMessages:
    """Messages the fake accepted: `to` is empty for broadcast and narrowcast."""

    kind: DeliveryKind
    to: list[str]
    messages: list[dict[str, Any]]
    request_id: str
    retry_key: str | None
    at: float
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class _ReplyToken:
    user_id: str
    issued: float
    used: bool = False


@dataclass(frozen=True)
class _Accepted:
    request_id: str
    at: float
    sent: list[dict[str, str]]


class FakeLine(LineAccount, FakePlatform):
    """The fake LINE platform. `clock` (seconds, monotonic) lets tests expire tokens without sleeping."""

    name = "line"

    def __init__(
        self,
        access_token: str | None = None,
        *,
        reply_token_ttl: float = 60.0,
        rate_limits: Mapping[str, tuple[int, float]] | None = None,
        clock: Callable[[], float] = time.monotonic,
        max_deliveries: int | None = None,
    ) -> None:
        super().__init__()
        self.max_deliveries = max_deliveries
        self.access_token = access_token
        self.reply_token_ttl = reply_token_ttl
        self.rate_limits: dict[str, tuple[int, float]] = dict(rate_limits or {})
        self.clock = clock
        self.rich_menus = RichMenus()
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self._tokens: dict[str, _ReplyToken] = {}
            self._accepted: dict[str, _Accepted] = {}
            self._deliveries: deque[ReceivedMessages] = deque(maxlen=self.max_deliveries)
            self._received: dict[str, int] = {}  # messages ever delivered to each user (kept for the newest)
            self._hits: dict[str, deque[float]] = {}
            self._narrowcasts: dict[str, dict[str, Any]] = {}
            self._message_seq = 0
            self._contents: dict[str, tuple[bytes, str]] = {}
            self.reset_account()
        self.rich_menus.reset()

    # ---- test and simulator API ----

    def issue_reply_token(self, user_id: str, age: float = 0.0) -> str:
        """A reply token for an event of `user_id` (what LINE puts in a webhook event), issued `age`
        seconds ago (a redelivered event carries the token LINE issued when it first sent it)."""
        token = uuid.uuid4().hex
        with self._lock:
            self._tokens[token] = _ReplyToken(user_id, self.clock() - age)
            _forget_oldest(self._tokens, self.max_deliveries)
        return token

    def add_follower(
        self, user_id: str, display_name: str = "LINEユーザー", language: str | None = "ja"
    ) -> None:
        super().add_follower(user_id, display_name, language)
        if self.max_deliveries is not None:
            with self._lock:
                for gone in self.followers[: -self.max_deliveries]:
                    self.profiles.pop(gone, None)
                del self.followers[: -self.max_deliveries]

    def add_content(self, message_id: str, data: bytes, content_type: str = "image/jpeg") -> None:
        """What `GET /v2/bot/message/{messageId}/content` answers for a message a user sent (an image)."""
        with self._lock:
            self._contents[message_id] = (data, content_type)
            _forget_oldest(self._contents, self.max_deliveries)

    def set_narrowcast_progress(self, request_id: str, **fields: Any) -> None:
        """Set what the progress answers from now on (e.g. `phase="failed"`)."""
        with self._lock:
            self._narrowcasts[request_id].update(fields, _set=True)

    def deliveries(self, kind: DeliveryKind | None = None) -> list[ReceivedMessages]:
        with self._lock:
            return [d for d in self._deliveries if kind is None or d.kind == kind]

    def messages_for(self, user_id: str) -> list[dict[str, Any]]:
        """Messages sent to this user by reply, push or multicast, in order (those still kept)."""
        return [m for d in self.deliveries() if user_id in d.to for m in d.messages]

    def messages_since(self, user_id: str, after: int) -> tuple[list[dict[str, Any]], int]:
        """The user's messages from the `after`-th on (counting every message ever delivered to them,
        also those no longer kept), and how many they received in all."""
        with self._lock:
            total = self._received.get(user_id, 0)
        kept = self.messages_for(user_id)
        first = total - len(kept)
        return kept[max(0, after - first) :], total

    def broadcasts(self) -> list[ReceivedMessages]:
        return self.deliveries("broadcast")

    def dump(self) -> dict[str, Any]:
        with self._lock:
            state = {"deliveries": [asdict(d) for d in self._deliveries], **self.dump_account()}
        return state | self.rich_menus.dump()

    # ---- routing ----

    def routes(self) -> list[BaseRoute]:
        m, rm = f"{API}/message", self.rich_menus
        table: list[tuple[str, str, str, Handler]] = [
            ("POST", f"{m}/reply", "reply", self._reply),
            *[("POST", f"{m}/{kind}", kind, self._sender(kind)) for kind in RETRY_KEY_ENDPOINTS],
            ("GET", f"{m}/progress/narrowcast", "narrowcast_progress", self._narrowcast_progress),
            *[
                ("POST", f"{m}/validate/{k}", f"validate_{k}", self._validate)
                for k in ("reply", *RETRY_KEY_ENDPOINTS)
            ],
            ("GET", f"{m}/quota", "quota", self._quota),
            ("GET", f"{m}/{{id}}/content", "content", self._content),
            ("GET", f"{m}/quota/consumption", "quota_consumption", self._consumption),
            ("GET", f"{API}/profile/{{id}}", "profile", self._profile),
            ("GET", f"{API}/followers/ids", "followers_ids", self._follower_ids),
            ("GET", f"{API}/insight/followers", "insight_followers", self._insight),
            ("POST", f"{API}/chat/loading/start", "loading", self._loading),
            ("POST", f"{API}/richmenu/validate", "richmenu_validate", rm.validate),
            ("POST", f"{API}/richmenu/alias", "richmenu_alias", rm.create_alias),
            ("GET", f"{API}/richmenu/list", "richmenu_list", rm.list),
            ("POST", f"{API}/richmenu", "richmenu_create", rm.create),
            ("GET", f"{API}/richmenu/{{id}}", "richmenu_get", rm.get),
            ("DELETE", f"{API}/richmenu/{{id}}", "richmenu_delete", rm.delete),
            ("POST", f"{API}/richmenu/{{id}}/content", "richmenu_image", rm.upload),
            ("GET", f"{API}/user/all/richmenu", "richmenu_default_get", rm.get_default),
            ("DELETE", f"{API}/user/all/richmenu", "richmenu_default_cancel", rm.cancel_default),
            ("POST", f"{API}/user/all/richmenu/{{id}}", "richmenu_default_set", rm.set_default),
        ]
        control: list[BaseRoute] = [
            Route("/__fake__/line/reply-tokens", self._control_token, methods=["POST"]),
            Route("/__fake__/line/followers", self._control_follower, methods=["POST"]),
            Route("/__fake__/line/insight", self._control_insight, methods=["POST"]),
            Route("/__fake__/line/content/{id}", self._control_content, methods=["POST"]),
        ]
        return control + [self._route(method, path, name, h) for method, path, name, h in table]

    def _route(self, method: str, path: str, name: str, handler: Handler) -> Route:
        takes_json = method == "POST" and name not in NO_JSON_BODY

        async def endpoint(request: Request) -> Response:
            ctx = Ctx(request, str(uuid.uuid4()), await request.body())
            response = self._guard(ctx, name, takes_json) or handler(ctx)
            response.headers["x-line-request-id"] = ctx.request_id
            return response

        return Route(path, endpoint, methods=[method], name=name)

    def _guard(self, ctx: Ctx, name: str, takes_json: bool) -> Response | None:
        """The checks LINE makes before an endpoint's own: token, size, retry key, JSON, rate limit."""
        auth = ctx.request.headers.get("authorization", "")
        if self.access_token is not None and auth != f"Bearer {self.access_token}":
            return answer(error_body("Authentication failed. Confirm that the access token is valid."), 401)
        if len(ctx.body) > rules.MAX_BODY:
            return answer(error_body("Request entity too large"), 413)
        key = ctx.retry_key
        if key is not None and name not in RETRY_KEY_ENDPOINTS:
            return bad_request(
                [detail("Not supported by this endpoint", "X-Line-Retry-Key")], "Invalid header"
            )
        if key is not None and not rules.is_uuid(key):
            return bad_request([detail("Must be a UUID", "X-Line-Retry-Key")], "Invalid header")
        if takes_json:
            parsed = parse_object(ctx.body)
            if parsed is None:
                return answer(error_body("The request body has 1 error(s)"), 400)
            ctx.json = parsed
        return answer(error_body(RATE_LIMITED), 429) if self._rate_limited(name) else None

    def _rate_limited(self, name: str) -> bool:
        limit = self.rate_limits.get(name)
        if limit is None:
            return False
        count, period = limit
        now = self.clock()
        with self._lock:
            hits = self._hits.setdefault(name, deque())
            while hits and now - hits[0] >= period:
                hits.popleft()
            if len(hits) >= count:
                return True
            hits.append(now)
        return False

    # ---- sending ----

    def _deliver(self, kind: DeliveryKind, to: list[str], ctx: Ctx, **extra: Any) -> list[dict[str, str]]:
        """Record a delivery (caller holds the lock); returns `sentMessages`."""
        messages = ctx.json["messages"]
        self._deliveries.append(
            ReceivedMessages(kind, to, messages, ctx.request_id, ctx.retry_key, time.time(), extra)
        )
        for user_id in dict.fromkeys(to):
            self._received[user_id] = self._received.pop(user_id, 0) + len(messages)
        _forget_oldest(self._received, self.max_deliveries)
        sent = []
        for _ in messages:
            self._message_seq += 1
            sent.append({"id": str(500000000000000000 + self._message_seq), "quoteToken": uuid.uuid4().hex})
        return sent

    def _reply(self, ctx: Ctx) -> Response:
        errors = rules.message_errors(ctx.json.get("messages"))
        if errors:
            return bad_request(errors)
        token_value = ctx.json.get("replyToken")
        with self._lock:
            token = self._tokens.get(token_value) if isinstance(token_value, str) else None
            if token is None or token.used or self.clock() - token.issued > self.reply_token_ttl:
                return answer(error_body("Invalid reply token"), 400)
            token.used = True
            sent = self._deliver("reply", [token.user_id], ctx)
        return answer({"sentMessages": sent})

    def _sender(self, kind: DeliveryKind) -> Handler:
        def handler(ctx: Ctx) -> Response:
            errors = rules.message_errors(ctx.json.get("messages"))
            if kind in ("push", "multicast"):
                errors = rules.recipient_errors(ctx.json.get("to"), many=kind == "multicast") + errors
            if errors:
                return bad_request(errors)
            with self._lock:
                repeat = self._accepted_before(ctx.retry_key)
                if repeat is not None:
                    return self._conflict(kind, repeat)
                to = self._recipients(kind, ctx.json)
                if self.quota_limit is not None and self.usage + len(to) > self.quota_limit:
                    return answer(error_body(MONTHLY_LIMIT), 429)
                self.usage += len(to)
                extra = {k: ctx.json[k] for k in ("recipient", "filter", "limit") if k in ctx.json}
                sent = self._deliver(kind, to if kind in ("push", "multicast") else [], ctx, **extra)
                if ctx.retry_key:
                    self._accepted[ctx.retry_key] = _Accepted(ctx.request_id, self.clock(), sent)
                if kind == "narrowcast":
                    self._narrowcasts[ctx.request_id] = _progress(len(to))
            if kind == "push":
                return answer({"sentMessages": sent})
            return answer({}, 202 if kind == "narrowcast" else 200)

        return handler

    def _recipients(self, kind: DeliveryKind, body: dict[str, Any]) -> list[str]:
        if kind == "push":
            return [body["to"]]
        if kind == "multicast":
            return list(dict.fromkeys(body["to"]))
        return list(self.followers)  # broadcast; narrowcast filters are not evaluated by the fake

    def _accepted_before(self, key: str | None) -> _Accepted | None:
        if key is None:
            return None
        now = self.clock()
        self._accepted = {k: a for k, a in self._accepted.items() if now - a.at < RETRY_KEY_TTL}
        return self._accepted.get(key)

    @staticmethod
    def _conflict(kind: DeliveryKind, accepted: _Accepted) -> Response:
        body: dict[str, Any] = error_body("The retry key is already accepted")
        if kind == "push":
            body["sentMessages"] = accepted.sent
        return answer(body, 409, {"x-line-accepted-request-id": accepted.request_id})

    def _narrowcast_progress(self, ctx: Ctx) -> Response:
        """`waiting` (only `phase` and `acceptedTime`) at the first look, then the final state."""
        with self._lock:
            progress = self._narrowcasts.get(ctx.request.query_params.get("requestId", ""))
            if progress is None:
                return not_found("Not found")
            looks = progress.get("_looks", 0)
            progress["_looks"] = looks + 1
            shown = {k: v for k, v in progress.items() if not k.startswith("_")}
        if looks == 0 and not progress.get("_set"):
            return answer({"phase": "waiting", "acceptedTime": shown["acceptedTime"]})
        return answer(shown)

    def _validate(self, ctx: Ctx) -> Response:
        errors = rules.message_errors(ctx.json.get("messages"))
        return bad_request(errors) if errors else answer({})

    # ---- control API for other processes ----

    def _content(self, ctx: Ctx) -> Response:
        """A message's content as LINE's data API serves it: the bytes, or 404 for an unknown ID."""
        with self._lock:
            found = self._contents.get(ctx.param("id"))
        if found is None:
            return not_found()
        return Response(found[0], media_type=found[1])

    async def _control_content(self, request: Request) -> Response:
        """`POST /__fake__/line/content/{id}` (raw body, its content type): content for another process."""
        kind = request.headers.get("content-type", "image/jpeg")
        self.add_content(str(request.path_params["id"]), await request.body(), kind)
        return answer({"ok": True})

    async def _control_token(self, request: Request) -> Response:
        body = await request.json()
        return answer({"replyToken": self.issue_reply_token(str(body["userId"]))})


def _forget_oldest(items: dict[str, Any], keep: int | None) -> None:
    """Drop the oldest entries of an insertion-ordered dict beyond `keep` (None: keep all)."""
    while keep is not None and len(items) > keep:
        del items[next(iter(items))]


def _progress(target: int) -> dict[str, Any]:
    now = dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return {
        "phase": "succeeded",
        "successCount": target,
        "failureCount": 0,
        "targetCount": target,
        "acceptedTime": now,
        "completedTime": now,
    }
