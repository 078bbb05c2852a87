"""Mastodon through Mastodon.py `status_post` with an `Idempotency-Key`.

The server remembers a key for up to an hour, so retrying an unclear attempt with the same key within
that hour returns the original status instead of posting again (`key_ttl`).

The length limit is the instance's own: `limits(settings)` reads `configuration.statuses` of
`GET /api/v2/instance` (`max_characters`, `characters_reserved_per_url`) once per account and keeps it
for a day; when the instance cannot be reached the documented default (500, a URL 23) applies and the
read is tried again after five minutes.

A post with other languages (`MASTODON_POST_LANGUAGES`) is a thread: each language a reply
(`in_reply_to_id`) to the status before it, each with its own idempotency key
(`notifier.channels.thread_posts`).
"""

from __future__ import annotations

import datetime as dt
import functools
import threading
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx
import requests

from app.languages import LANGUAGES
from app.settings import Settings
from notifier.channels.channel_base import Channel, Outgoing, Published, TextLimits
from notifier.channels.thread_posts import ThreadStep, language_tag, publish_thread
from platforms.call_errors import Ambiguous, ChannelError, RateInfo, RateLimited, Rejected, ServerError
from platforms.counting import MASTODON_URL_LENGTH, mastodon_length
from platforms.followers import FollowerCount
from platforms.http_calls import from_requests, in_thread, short

if TYPE_CHECKING:
    from mastodon import Mastodon
    from mastodon.errors import MastodonError

INSTANCE_TTL = 24 * 3600.0  # seconds an instance's configuration is kept
UNREACHABLE_TTL = 300.0  # seconds the default applies after the instance could not be read
MAX_CONFIGURED = 1_000_000  # a larger figure from an instance is not believed
_instances: dict[str, tuple[float, TextLimits]] = {}  # base URL -> (valid until, monotonic), limits
_instances_lock = threading.Lock()


class MastodonChannel(Channel):
    """The city's Mastodon account (limits from the X-RateLimit-* headers)."""

    name = "mastodon"
    label = "Mastodon"
    limit = 500
    unit = "characters (a URL counts 23)"
    credentials = ("MASTODON_API_BASE_URL", "MASTODON_ACCESS_TOKEN")
    languages = LANGUAGES
    language_setting = "MASTODON_POST_LANGUAGES"
    idempotent = True
    key_ttl = 3600.0
    send_endpoint = "statuses"

    @staticmethod
    def count(text: str) -> int:
        return mastodon_length(text)

    @classmethod
    def limits(cls, settings: Settings) -> TextLimits:
        """The instance's limits, read once per account (`GET /api/v2/instance`) and cached."""
        base = (settings.mastodon_api_base_url or "").rstrip("/")
        if not base:
            return super().limits(settings)
        now = time.monotonic()
        with _instances_lock:
            cached = _instances.get(base)
        if cached is not None and cached[0] > now:
            return cached[1]
        limits, ttl = instance_limits(base, settings.notifier_request_timeout)
        with _instances_lock:
            _instances[base] = (now + ttl, limits)
        return limits

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self._base = settings.mastodon_api_base_url or ""
        token = settings.mastodon_access_token
        self._token = token.get_secret_value() if token else ""
        self._timeout = settings.notifier_request_timeout
        self._session = requests.Session()
        self._session.mount(self._base, requests.adapters.HTTPAdapter(pool_maxsize=32))

    @staticmethod
    def account_of(settings: Settings) -> str:
        return urlsplit(settings.mastodon_api_base_url or "").netloc or "default"

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

    async def send(self, out: Outgoing) -> Published:
        async def post(step: ThreadStep) -> Published:
            result: Published = await in_thread(self._send, step)
            return result

        return await publish_thread(self, out, post)

    def _send(self, step: ThreadStep) -> Published:
        from mastodon.errors import MastodonError

        api = self._api()
        try:
            status = api.status_post(
                step.text,
                in_reply_to_id=step.parent,
                idempotency_key=step.key,
                language=language_tag(step.language),
                visibility="public",
            )
        except MastodonError as exc:
            raise _error(exc, api) from None
        return Published(platform_id=str(status["id"]), http_status=200, rate=_rate(api))

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


def instance_limits(base: str, timeout: float) -> tuple[TextLimits, float]:
    """The limits `GET {base}/api/v2/instance` states, and how long to keep them; the documented
    default (kept briefly) when the instance does not answer with them."""
    try:
        response = httpx.get(f"{base}/api/v2/instance", timeout=timeout, follow_redirects=False)
        response.raise_for_status()
        statuses = response.json()["configuration"]["statuses"]
        limit = statuses["max_characters"]
        url_length = statuses.get("characters_reserved_per_url", MASTODON_URL_LENGTH)
        if not all(type(n) is int and 0 < n <= MAX_CONFIGURED for n in (limit, url_length)):
            raise ValueError(f"unusable figures {limit!r}, {url_length!r}")
    except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
        reason = short(f"default: the instance's limits could not be read ({type(exc).__name__})", 120)
        default = TextLimits(MastodonChannel.limit, MastodonChannel.unit, mastodon_length, source=reason)
        return default, UNREACHABLE_TTL
    count = functools.partial(mastodon_length, url_length=url_length)
    unit = f"characters (a URL counts {url_length})"
    return TextLimits(limit, unit, count, source="instance"), INSTANCE_TTL


def forget_instance_limits() -> None:
    """Drop the cached instance limits (tests; a changed instance configuration)."""
    with _instances_lock:
        _instances.clear()


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
