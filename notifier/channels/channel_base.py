"""The channel interface. `FollowerCount`/`FollowerSource` are what the KPI collector relies on."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Protocol, Self

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from app.settings import Settings

FollowerStatus = Literal["ok", "unready", "error"]


@dataclass(frozen=True)
class FollowerCount:
    """One reading of an account's audience.

    `followers` is None unless `status == "ok"`. `unready` (LINE insight not computed yet) is retried
    later and never stored as a number; `error` carries the reason. `details` holds the extra figures a
    platform gives (LINE: targeted_reaches, blocks, friends; Facebook: fan_count).
    """

    status: FollowerStatus
    followers: int | None = None
    details: dict[str, int | None] = field(default_factory=dict)
    reason: str | None = None

    @classmethod
    def reading(cls, value: object, source: str, **details: int | None) -> FollowerCount:
        """`ok` with the platform's figure, or `error` when the answer lacks a usable one (absent,
        null or negative): a count is never guessed, and a missing one is never zero."""
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            return cls("error", reason=f"{source}: no follower count in the answer ({value!r})")
        return cls("ok", followers=value, details=dict(details))


class FollowerSource(Protocol):
    """Anything that can report an account's followers for a (JST) date."""

    name: str  # channel: "line", "x", "facebook", "mastodon", "bluesky"
    account: str  # the account on that channel (page id, handle, ...)

    async def follower_count(self, date: dt.date) -> FollowerCount: ...


# ---- sending ---------------------------------------------------------------------------------------
#
# Errors a channel raises from `send`, by what the engine may safely do next:
#
#   ChannelError
#   ├── Rejected      the platform refused the post (4xx): never retried, delivery failed
#   ├── RateLimited   429 or quota: retried at `retry_at` (from the reset headers), account blocked until then
#   ├── Retryable     the request certainly did not take effect (connection refused, 5xx answer
#   │                 that handled nothing): retried with backoff
#   └── Ambiguous     it may have taken effect (timeout or dropped connection after sending):
#       │             retried with the same key on keyed channels, `unknown` + reconciliation otherwise
#       └── ServerError   the platform answered 5xx: retried with the same key on keyed channels; on
#                         X and Facebook retried only after the account's recent posts show no copy


class ChannelError(Exception):
    """Base of the errors `Channel.send` raises; `reason` is safe to store and show to staff."""

    def __init__(self, reason: str, *, http_status: int | None = None, request_id: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.http_status = http_status
        self.request_id = request_id


class Rejected(ChannelError):
    """Permanent refusal (validation, authentication, permission)."""


class Retryable(ChannelError):
    """Nothing was published; try again later."""


class Ambiguous(ChannelError):
    """The platform may have published the post."""


class ServerError(Ambiguous):
    """The platform answered with a 5xx status (it probably, but not certainly, published nothing)."""


class RateLimited(ChannelError):
    """Too many requests; try again at `retry_at` (None: use backoff)."""

    def __init__(self, reason: str, *, retry_at: dt.datetime | None = None, **kw: Any) -> None:
        super().__init__(reason, **kw)
        self.retry_at = retry_at


@dataclass(frozen=True)
class Bucket:
    """A documented token-bucket limit: `capacity` calls, refilled evenly over `per_seconds`."""

    capacity: int
    per_seconds: float


@dataclass(frozen=True)
class RateInfo:
    """What a response's rate-limit headers said: calls left and when the window resets."""

    remaining: int | None = None
    reset_at: dt.datetime | None = None


@dataclass(frozen=True)
class Sent:
    """A successful publication."""

    platform_id: str | None
    http_status: int | None = None
    request_id: str | None = None
    rate: RateInfo | None = None
    note: str | None = None


class PartStore(Protocol):
    """Durable sub-steps of one delivery (LINE chunks), provided by the engine."""

    async def snapshot(self, plan: Callable[[Session], list[PartPlan]]) -> list[Part]:
        """The delivery's parts: the stored ones, or else `plan(session)`'s (run in the same database
        transaction that stores them, each with a new retry key)."""
        ...

    async def mark_sent(self, done: list[tuple[Part, str | None]]) -> None:
        """Record parts as sent, each with its request id (and keep the lease)."""
        ...

    async def throttle(self, endpoint: str, bucket: Bucket | None, calls: int = 1) -> None:
        """Wait until the account's rate limit for `endpoint` allows `calls` more calls, and take them."""
        ...


@dataclass(frozen=True)
class PartPlan:
    """One planned call: multicast to `recipients` in `language`, or a broadcast (no recipients)."""

    kind: str
    language: str
    recipients: tuple[str, ...] = ()


@dataclass(frozen=True)
class Part:
    """A stored sub-step with its stable retry key."""

    id: int
    seq: int
    kind: str
    language: str
    recipients: tuple[str, ...]
    retry_key: str
    sent: bool


@dataclass(frozen=True)
class Outgoing:
    """What the engine asks a channel to publish for one delivery.

    `texts` maps language to the text rendered at scheduling time (checked against the limit then);
    `key` is the delivery's stable idempotency key; `resumed` says an earlier attempt may have reached
    the platform (a timeout, or a worker that died mid-call)."""

    delivery_id: int
    key: str
    texts: dict[str, list[str]]
    link: str | None
    topic: str | None
    attempt: int
    resumed: bool
    first_attempt_at: dt.datetime | None = None
    parts: PartStore | None = None

    def text(self, language: str = "ja") -> str:
        """The single text of `language` (SNS channels publish one message)."""
        return "\n\n".join(self.texts.get(language) or self.texts["ja"])


class Channel(Protocol):
    """One publishing channel. Class attributes are the declarative header the registry and the
    composer read; instances are bound to one configured account."""

    name: str  # an instance attribute for `FollowerSource`; each class sets it as a constant
    label: ClassVar[str]
    languages: ClassVar[tuple[str, ...]]  # languages it publishes (templates `<name>.<lang>.txt.j2`)
    limit: ClassVar[int]
    unit: ClassVar[str]  # what `count` counts, for error messages
    max_messages: ClassVar[int]  # LINE: message objects per call; others 1
    idempotent: ClassVar[bool]  # retrying an ambiguous call with the same key cannot publish twice
    key_ttl: ClassVar[float | None]  # seconds the platform remembers a key (None: forever)
    credentials: ClassVar[tuple[str, ...]]  # settings that must be set to use it
    account: str  # the bound account (as in `FollowerSource`)

    @staticmethod
    def new_key() -> str:
        """A fresh idempotency key in the platform's format."""
        ...

    @staticmethod
    def account_of(settings: Settings) -> str:
        """The configured account's name on the platform (page id, handle, ...), without any call."""
        ...

    @classmethod
    def from_settings(cls, settings: Settings) -> Self:
        """The channel bound to the configured account (clients are created lazily)."""
        ...

    @staticmethod
    def count(text: str) -> int:
        """Length of `text` as the platform counts it."""
        ...

    @staticmethod
    def message_groups(texts: dict[str, list[str]], topic: str | None) -> list[list[str]]:
        """The message lists sent together in one call (checked against `max_messages`)."""
        ...

    buckets: ClassVar[dict[str, Bucket]]  # documented static limits per endpoint; others come from headers

    def endpoint(self, out: Outgoing) -> str:
        """The endpoint (rate-limit bucket name) the delivery's call uses."""
        ...

    async def send(self, out: Outgoing) -> Sent:
        """Publish; raise a `ChannelError` subclass on failure."""
        ...

    async def find_sent(self, out: Outgoing, since: dt.datetime) -> str | None:
        """Reconciliation: the platform id of this post among the account's posts since `since`."""
        ...

    async def follower_count(self, date: dt.date) -> FollowerCount:
        """The account's followers (`FollowerSource`)."""
        ...

    async def aclose(self) -> None:
        """Release network clients."""
        ...


def one_post(texts: dict[str, list[str]], topic: str | None) -> list[list[str]]:
    """`message_groups` of a channel that publishes the Japanese text as one post."""
    return [texts.get("ja") or []]
