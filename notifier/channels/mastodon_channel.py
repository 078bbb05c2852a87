"""Mastodon through Mastodon.py `status_post` with an `Idempotency-Key`.

The server remembers a key for up to an hour, so retrying an unclear attempt with the same key within
that hour returns the original status instead of posting again (`key_ttl`).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import TYPE_CHECKING, Any, ClassVar, Self
from urllib.parse import urlsplit

import requests

from app.settings import Settings
from notifier.channels.channel_base import (
    Ambiguous,
    Bucket,
    ChannelError,
    FollowerCount,
    Outgoing,
    RateInfo,
    RateLimited,
    Rejected,
    Sent,
    ServerError,
    one_post,
)
from platforms.counting import mastodon_length
from platforms.http_calls import from_requests, in_thread, short

if TYPE_CHECKING:
    from mastodon import Mastodon
    from mastodon.errors import MastodonError


class MastodonChannel:
    """The city's Mastodon account."""

    name: str = "mastodon"
    label: ClassVar[str] = "Mastodon"
    languages: ClassVar[tuple[str, ...]] = ("ja",)
    limit: ClassVar[int] = 500
    unit: ClassVar[str] = "characters (a URL counts 23)"
    max_messages: ClassVar[int] = 1
    idempotent: ClassVar[bool] = True
    key_ttl: ClassVar[float | None] = 3600.0
    credentials: ClassVar[tuple[str, ...]] = ("MASTODON_API_BASE_URL", "MASTODON_ACCESS_TOKEN")
    buckets: ClassVar[dict[str, Bucket]] = {}  # X-RateLimit-* headers

    @staticmethod
    def count(text: str) -> int:
        return mastodon_length(text)

    @staticmethod
    def message_groups(texts: dict[str, list[str]], topic: str | None) -> list[list[str]]:
        return one_post(texts, topic)

    def __init__(self, settings: Settings) -> None:
        self.account = self.account_of(settings)
        self._base = settings.mastodon_api_base_url or ""
        token = settings.mastodon_access_token
        self._token = token.get_secret_value() if token else ""
        self._timeout = settings.notifier_request_timeout
        self._session = requests.Session()
        self._session.mount(self._base, requests.adapters.HTTPAdapter(pool_maxsize=32))

    @classmethod
    def from_settings(cls, settings: Settings) -> Self:
        return cls(settings)

    @staticmethod
    def account_of(settings: Settings) -> str:
        return urlsplit(settings.mastodon_api_base_url or "").netloc or "default"

    @staticmethod
    def new_key() -> str:
        return uuid.uuid4().hex

    def endpoint(self, out: Outgoing) -> str:
        return "statuses"

    def _api(self) -> Mastodon:
        from mastodon import Mastodon  # imported on first use, like every SDK here

        # One light client per call: Mastodon.py keeps rate-limit figures on the instance.
        return Mastodon(
            access_token=self._token,
            api_base_url=self._base,
            ratelimit_method="throw",
            request_timeout=self._timeout,
            version_check_mode="none",
            session=self._session,
        )

    async def send(self, out: Outgoing) -> Sent:
        return await in_thread(self._send, out)

    def _send(self, out: Outgoing) -> Sent:
        from mastodon.errors import MastodonError

        api = self._api()
        try:
            status = api.status_post(
                out.text("ja"), idempotency_key=out.key, language="ja", visibility="public"
            )
        except MastodonError as exc:
            raise _error(exc, api) from None
        return Sent(platform_id=str(status["id"]), http_status=200, rate=_rate(api))

    async def find_sent(self, out: Outgoing, since: dt.datetime) -> str | None:
        """Not needed: a retry with the same key within the hour returns the original status."""
        return None

    async def follower_count(self, date: dt.date) -> FollowerCount:
        return await in_thread(self._followers)

    def _followers(self) -> FollowerCount:
        from mastodon.errors import MastodonError

        try:
            me: dict[str, Any] = self._api().account_verify_credentials()
        except MastodonError as exc:
            return FollowerCount("error", reason=short(f"Mastodon verify_credentials: {exc}"))
        return FollowerCount.reading(
            me.get("followers_count"), "Mastodon verify_credentials", posts=me.get("statuses_count")
        )

    async def aclose(self) -> None:
        self._session.close()


def _rate(api: Mastodon) -> RateInfo | None:
    reset = getattr(api, "ratelimit_reset", None)
    if reset is None:
        return None
    return RateInfo(
        remaining=getattr(api, "ratelimit_remaining", None),
        reset_at=dt.datetime.fromtimestamp(float(reset), dt.UTC),
    )


def _error(exc: MastodonError, api: Mastodon) -> ChannelError:
    from mastodon.errors import (
        MastodonAPIError,
        MastodonNetworkError,
        MastodonRatelimitError,
        MastodonServerError,
    )

    if isinstance(exc, MastodonRatelimitError):
        info = _rate(api)
        return RateLimited(
            "Mastodon 429: rate limited", retry_at=info.reset_at if info else None, http_status=429
        )
    if isinstance(exc, MastodonNetworkError):
        cause = exc.__context__
        if isinstance(cause, requests.RequestException):
            return from_requests(cause, "Mastodon status_post")
        return Ambiguous(short(f"Mastodon status_post: {exc}"))
    status = exc.args[1] if isinstance(exc, MastodonAPIError) and len(exc.args) > 1 else None
    code = status if isinstance(status, int) else None
    reason = short(f"Mastodon {code or ''}: {exc.args[-1] if exc.args else exc}")
    if isinstance(exc, MastodonServerError):
        return ServerError(reason, http_status=code)
    return Rejected(reason, http_status=code)
