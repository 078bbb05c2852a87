"""X (Twitter) through tweepy's v2 `Client.create_tweet`.

X has no idempotency key: an unclear outcome is never retried blindly; the engine looks for the post
in the account's recent posts (`find_sent`). tweepy hard-codes `https://api.twitter.com`, so a requests
adapter mounted on the client's session sends every call to `X_API_BASE_URL` and enforces a timeout.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from typing import TYPE_CHECKING, Any

import requests
from requests.adapters import HTTPAdapter

from app.settings import Settings
from notifier.channels.channel_base import Channel, Outgoing, Published
from platforms.call_errors import RateLimited, Rejected, ServerError
from platforms.counting import x_weighted_length
from platforms.followers import FollowerCount
from platforms.http_calls import from_requests, in_thread, rate_info, short

if TYPE_CHECKING:
    import tweepy  # imported on first use (~15 MB): a process that never posts to X never loads it

TWITTER_HOST = "https://api.twitter.com"
DUPLICATE = "duplicate content"
_URL = re.compile(r"https?://\S+")

# tweepy logs request headers (with the OAuth token) at DEBUG: never let that through.
logging.getLogger("tweepy").setLevel(logging.INFO)


class _Redirect(HTTPAdapter):
    """Rewrites tweepy's fixed host to the configured base URL and applies a default timeout."""

    def __init__(self, base_url: str, timeout: float) -> None:
        super().__init__(pool_maxsize=32)
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        if request.url and self.base_url != TWITTER_HOST:
            request.url = request.url.replace(TWITTER_HOST, self.base_url, 1)
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.timeout
        return super().send(request, **kwargs)


def same_text(a: str, b: str) -> bool:
    """X rewrites links to t.co: compare texts with every URL replaced by one placeholder."""
    return _URL.sub("<url>", a).strip() == _URL.sub("<url>", b).strip()


class XChannel(Channel):
    """The city's X account (no idempotency key: unclear outcomes are reconciled by `find_sent`;
    limits come from the x-rate-limit-* headers)."""

    name = "x"
    label = "X"
    limit = 280
    unit = "weighted characters"
    credentials = ("X_API_KEY", "X_API_SECRET", "X_ACCESS_TOKEN", "X_ACCESS_TOKEN_SECRET")
    send_endpoint = "tweets"

    @staticmethod
    def count(text: str) -> int:
        return x_weighted_length(text)

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self._keys = tuple(
            s.get_secret_value() if s is not None else ""
            for s in (settings.x_api_key, settings.x_api_secret, settings.x_access_token)
        ) + (settings.x_access_token_secret.get_secret_value() if settings.x_access_token_secret else "",)
        self._session = requests.Session()
        self._session.mount(
            TWITTER_HOST, _Redirect(settings.x_api_base_url, settings.notifier_request_timeout)
        )
        self._user_id: str | None = None

    @staticmethod
    def account_of(settings: Settings) -> str:
        """The numeric user id that prefixes an X access token, or "default"."""
        token = settings.x_access_token.get_secret_value() if settings.x_access_token else ""
        prefix = token.split("-", 1)[0]
        return prefix if prefix.isdigit() else "default"

    def _client(self) -> tweepy.Client:
        import tweepy

        key, secret, token, token_secret = self._keys
        client = tweepy.Client(
            consumer_key=key,
            consumer_secret=secret,
            access_token=token,
            access_token_secret=token_secret,
            return_type=requests.Response,
            wait_on_rate_limit=False,
        )
        client.session = self._session
        return client

    async def send(self, out: Outgoing) -> Published:
        try:
            return await in_thread(self._send, out.text("ja"))
        except Duplicate as exc:
            since = out.first_attempt_at or dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
            found = await self.find_sent(out, since)
            return Published(platform_id=found, http_status=exc.http_status, note="already on the timeline")

    def _send(self, text: str) -> Published:
        import tweepy

        try:
            response: requests.Response = self._client().create_tweet(text=text, user_auth=True)
        except tweepy.HTTPException as exc:
            raise _error(exc) from None
        except requests.RequestException as exc:
            raise from_requests(exc, "X create_tweet") from None
        data = response.json()["data"]
        return Published(
            platform_id=str(data["id"]),
            http_status=response.status_code,
            request_id=response.headers.get("x-transaction-id"),
            rate=rate_info(response.headers, "x-rate-limit-remaining", "x-rate-limit-reset"),
        )

    async def find_sent(self, out: Outgoing, since: dt.datetime) -> str | None:
        return await in_thread(self._find, out.text("ja"), since)

    def _find(self, text: str, since: dt.datetime) -> str | None:
        import tweepy

        client = self._client()
        try:
            if self._user_id is None:
                self._user_id = str(client.get_me(user_auth=True).json()["data"]["id"])
            start = (since - dt.timedelta(minutes=5)).astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            response = client.get_users_tweets(
                self._user_id, start_time=start, max_results=100, user_auth=True
            )
        except tweepy.HTTPException as exc:
            raise _error(exc) from None
        except requests.RequestException as exc:
            raise from_requests(exc, "X get_users_tweets") from None
        for tweet in response.json().get("data") or []:
            if same_text(str(tweet.get("text", "")), text):
                return str(tweet["id"])
        return None

    async def follower_count(self, date: dt.date) -> FollowerCount:
        return await in_thread(self._followers)

    def _followers(self) -> FollowerCount:
        import tweepy

        try:
            response = self._client().get_me(user_fields=["public_metrics"], user_auth=True)
            metrics = response.json()["data"]["public_metrics"]
        except (tweepy.TweepyException, requests.RequestException, KeyError, ValueError) as exc:
            return FollowerCount("error", reason=short(f"X get_me: {exc}"))
        return FollowerCount.reading(
            metrics.get("followers_count"),
            "X get_me",
            following=metrics.get("following_count"),
            posts=metrics.get("tweet_count"),
        )

    async def aclose(self) -> None:
        self._session.close()


def _error(exc: tweepy.HTTPException) -> Exception:
    import tweepy

    status = exc.response.status_code
    request_id = exc.response.headers.get("x-transaction-id")
    reason = short(f"X {status}: {'; '.join(exc.api_messages) or exc.response.reason}")
    if isinstance(exc, tweepy.TooManyRequests):
        info = rate_info(exc.response.headers, "x-rate-limit-remaining", "x-rate-limit-reset")
        return RateLimited(
            reason, retry_at=info.reset_at if info else None, http_status=status, request_id=request_id
        )
    if isinstance(exc, tweepy.TwitterServerError):
        return ServerError(reason, http_status=status, request_id=request_id)
    if isinstance(exc, tweepy.Forbidden) and any(DUPLICATE in m for m in exc.api_messages):
        return Duplicate(reason, http_status=status, request_id=request_id)
    return Rejected(reason, http_status=status, request_id=request_id)


class Duplicate(Rejected):
    """X refused an exact copy of a recent post: the text is already on the timeline."""
