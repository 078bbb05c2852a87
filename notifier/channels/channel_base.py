"""The channel interface: what the delivery engine asks of every publishing channel.

A channel module (`notifier/channels/<name>_channel.py`) subclasses `Channel` and states only what
differs from the defaults here: its declarative header (name, label, limit, counting, credentials,
idempotency, rate buckets) and `send`, `find_sent` (reconciliation, for channels without a key) and
`follower_count` (every channel is also a `platforms.followers.FollowerSource` for the KPI).

Text limits: the composer asks `limits(settings)` for the configured account's `TextLimits`. By default
they are the class header (`limit`, `unit`, `count`, `max_bytes`); a channel whose limit depends on
the account's server (Mastodon) reads it from the platform once and caches it.
"""

from __future__ import annotations

import datetime as dt
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Protocol, Self

from pydantic import SecretStr

from platforms.call_errors import RateInfo
from platforms.followers import CountingRules, FollowerCount
from storage.rate_budgets import Bucket

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from app.settings import Settings


# The account name of a channel bound to the app's own fake (demo mode): its deliveries and follower
# figures are kept apart from every real account's.
DEMO_ACCOUNT = "demo"
# live: credentials set (the real platform); demo: the app's own fake; off: not configured
ChannelMode = Literal["live", "demo", "off"]


@dataclass(frozen=True)
class TextLimits:
    """What one message may hold on the configured account: at most `limit` as `count` measures it
    (in `unit`s) and, when set, at most `max_bytes` UTF-8 bytes. `source` says where the figures come
    from (shown to staff when they are not the platform's answer)."""

    limit: int
    unit: str
    count: Callable[[str], int]
    max_bytes: int | None = None
    source: str = "documented"

    def problems(self, text: str, label: str) -> list[tuple[str, str]]:
        """What is wrong with `text` on this channel, each in Japanese and English (empty: it fits)."""
        found = []
        if (n := self.count(text)) > self.limit:
            found.append(
                (
                    f"{label} には長すぎます({n:,}、上限 {self.limit:,})",
                    f"too long for {label}: {n} {self.unit}, the limit is {self.limit}",
                )
            )
        if self.max_bytes is not None and (size := len(text.encode("utf-8"))) > self.max_bytes:
            found.append(
                (
                    f"{label} には長すぎます(UTF-8 で {size:,} バイト、上限 {self.max_bytes:,})",
                    f"too long for {label}: {size} bytes (UTF-8), the limit is {self.max_bytes}",
                )
            )
        return found


@dataclass(frozen=True)
class Published:
    """A successful publication."""

    platform_id: str | None
    http_status: int | None = None
    request_id: str | None = None
    rate: RateInfo | None = None
    note: str | None = None


class PartStore(Protocol):
    """Durable sub-steps of one delivery (LINE chunks, the posts of a thread), provided by the engine."""

    async def snapshot(self, plan: Callable[[Session], list[PartPlan]]) -> list[Part]:
        """The delivery's parts: the stored ones, or else `plan(session)`'s (run in the same database
        transaction that stores them, each with a new retry key)."""
        ...

    async def mark_sent(self, done: list[tuple[Part, str | None]]) -> None:
        """Record parts as sent, each with its request id (and keep the lease)."""
        ...

    async def mark_published(self, part: Part, platform_id: str, request_id: str | None = None) -> None:
        """Record one post of a thread as published, with its platform id (and keep the lease)."""
        ...

    async def throttle(self, endpoint: str, bucket: Bucket | None, calls: int = 1) -> None:
        """Wait until the account's rate limit for `endpoint` allows `calls` more calls, and take them."""
        ...


@dataclass(frozen=True)
class PartPlan:
    """One planned call: multicast to `recipients` in `language`, a broadcast (no recipients), or one
    post of a thread; `key`: its idempotency key when the channel derives it (else a new UUID)."""

    kind: str
    language: str
    recipients: tuple[str, ...] = ()
    key: str | None = None


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
    platform_id: str | None = None


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


class Channel(ABC):
    """One publishing channel bound to one configured account. Class attributes are the declarative
    header that the registry, the composer and `/readyz` read; a subclass overrides what differs."""

    name: ClassVar[str]  # "line", "x", ...: templates, settings prefix, delivery rows
    label: ClassVar[str]  # shown to staff
    limit: ClassVar[int]  # per message, in `unit`s as `count` measures them (the documented default)
    unit: ClassVar[str] = "characters"
    max_bytes: ClassVar[int | None] = None  # per message, in UTF-8 bytes, when the platform also caps that
    credentials: ClassVar[tuple[str, ...]]  # settings (upper case) that must be set to use it
    languages: ClassVar[tuple[str, ...]] = ("ja",)  # templates `<name>.<lang>.txt.j2` it publishes
    # the setting that chooses which of `languages` the account publishes (None: all of them)
    language_setting: ClassVar[str | None] = None
    # how a post's other languages go out: a reply each below the Japanese (X, Mastodon, Bluesky), or
    # in the Japanese post itself (Facebook)
    combined: ClassVar[bool] = False
    max_messages: ClassVar[int] = 1  # message objects per call (LINE: 5)
    idempotent: ClassVar[bool] = False  # retrying an unclear call with the same key cannot publish twice
    key_ttl: ClassVar[float | None] = None  # seconds the platform remembers a key (None: forever)
    buckets: ClassVar[dict[str, Bucket]] = {}  # documented static limits per endpoint; others from headers
    send_endpoint: ClassVar[str] = "post"  # the rate-limit bucket name of `send`
    counting: ClassVar[CountingRules] = CountingRules()  # how `follower_count` reports (KPI)

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.platform_account = self.account_of(settings)  # who the calls act as (page id, handle)
        self.account = self.bound_account(settings)  # what deliveries and figures are recorded under

    @classmethod
    def from_settings(cls, settings: Settings) -> Self:
        """The channel bound to the configured account (network clients are created lazily)."""
        return cls(settings)

    @classmethod
    def follower_source(cls, settings: Settings) -> Self:
        """The channel as the KPI collector opens it (a channel may tune its client for counting)."""
        return cls.from_settings(settings)

    @staticmethod
    def account_of(settings: Settings) -> str:
        """The configured account's name on the platform (page id, handle, ...), without any call."""
        return "default"

    @classmethod
    def bound_account(cls, settings: Settings) -> str:
        """The account deliveries and follower figures are recorded under: `DEMO_ACCOUNT` when the
        channel runs against the app's fake, else `account_of`."""
        return DEMO_ACCOUNT if settings.demo_bound(cls.name) else cls.account_of(settings)

    @classmethod
    def mode(cls, settings: Settings) -> ChannelMode:
        """`demo` when bound to (or, in demo mode without credentials, about to be bound to) the
        app's fake, `live` with credentials, else `off`. Production never has a demo channel."""
        if settings.demo_bound(cls.name):
            return "demo"
        if not cls.missing_settings(settings):
            return "live"
        return "demo" if settings.demo_mode else "off"

    @classmethod
    def missing_settings(cls, settings: Settings) -> list[str]:
        """The settings in `credentials` that are empty (the one rule for "configured")."""
        missing = []
        for setting in cls.credentials:
            value = getattr(settings, setting.lower(), None)
            text = value.get_secret_value() if isinstance(value, SecretStr) else value
            if not (isinstance(text, str) and text.strip()):
                missing.append(setting)
        return missing

    @classmethod
    def limits(cls, settings: Settings) -> TextLimits:
        """The text limits of the configured account (by default the documented ones)."""
        return TextLimits(cls.limit, cls.unit, cls.count, cls.max_bytes)

    @classmethod
    def post_languages(cls, settings: Settings) -> tuple[str, ...]:
        """The languages the configured account publishes, Japanese first (`language_setting`)."""
        if cls.language_setting is None:
            return cls.languages
        chosen: tuple[str, ...] = getattr(settings, cls.language_setting.lower())
        return tuple(lang for lang in chosen if lang in cls.languages)

    @classmethod
    def readiness(cls, settings: Settings, today: dt.date) -> dict[str, Any] | None:
        """A note on the configured account for `/readyz` (`ok`, and a `warning` when something needs
        doing soon), or None when there is nothing to say."""
        return None

    @staticmethod
    def new_key() -> str:
        """A fresh idempotency key in the platform's format."""
        return uuid.uuid4().hex

    @staticmethod
    def part_key(key: str, seq: int) -> str:
        """The idempotency key of a thread's post `seq` (0: the Japanese post, which keeps the
        delivery's key): derived, so a look-up without the stored parts can find every post."""
        return key if seq == 0 else f"{key}-{seq}"

    @staticmethod
    @abstractmethod
    def count(text: str) -> int:
        """Length of `text` as the platform counts it."""

    @staticmethod
    def message_groups(texts: dict[str, list[str]], topic: str | None) -> list[list[str]]:
        """The message lists sent together in one call (checked against `max_messages`): by default
        the Japanese text as one post."""
        return [texts.get("ja") or []]

    def endpoint(self, out: Outgoing) -> str:
        """The endpoint (rate-limit bucket name) the delivery's call uses."""
        return self.send_endpoint

    @abstractmethod
    async def send(self, out: Outgoing) -> Published:
        """Publish; raise a `platforms.call_errors.ChannelError` subclass on failure."""

    async def find_sent(self, out: Outgoing, since: dt.datetime) -> str | None:
        """Reconciliation: the platform id of this post among the account's posts since `since`.
        Channels with an idempotency key need none (a retry with the key settles it)."""
        return None

    @abstractmethod
    async def follower_count(self, date: dt.date) -> FollowerCount:
        """The account's followers (`platforms.followers.FollowerSource`); never raises."""

    async def aclose(self) -> None:
        """Release network clients."""
        return None
