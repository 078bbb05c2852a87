"""X (Twitter) through tweepy's v2 `Client.create_tweet`.

X has no idempotency key: an unclear outcome is never retried blindly; the engine looks for the post
in the account's recent posts (`find_sent`). X returns texts HTML-escaped (`&amp;`, `&lt;`, `&gt;`)
and with links shortened to t.co, so texts are compared unescaped, each link as one placeholder. X's
403 "duplicate content" says an identical text is already on the account: when the lookup finds it,
that post is the delivery's; otherwise the outcome is unclear (`Duplicate`, an `Ambiguous`: a person
checks), never "sent" without an id.

A post with other languages (`X_POST_LANGUAGES`) is a thread: each language a reply
(`reply.in_reply_to_tweet_id`) to the post before it (`notifier.channels.thread_posts`). The look-up
finds each post of the thread by its text.

Rate limits: the 15-minute window (`x-rate-limit-*`) and the 24-hour caps per user and per app
(`x-user-limit-24hour-*`, `x-app-limit-24hour-*`). When a 24-hour cap is spent, the next call waits for
its reset, not for the 15-minute one.

tweepy hard-codes `https://api.twitter.com`, so the client's session (`platforms.x_hosts`) sends
every call to `X_API_BASE_URL` and enforces a timeout.
"""

from __future__ import annotations

import datetime as dt
import html
import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING

import requests

from app.languages import LANGUAGES
from app.settings import Settings
from notifier.channels.channel_base import Channel, Outgoing, Published
from notifier.channels.thread_posts import ThreadStep, find_thread, publish_thread
from platforms.call_errors import Ambiguous, RateInfo, RateLimited, Rejected, ServerError
from platforms.counting import x_weighted_length
from platforms.followers import FollowerCount
from platforms.http_calls import from_requests, in_thread, rate_info, short
from platforms.x_hosts import x_client, x_session

if TYPE_CHECKING:
    import tweepy  # imported on first use (~15 MB): a process that never posts to X never loads it

DUPLICATE = "duplicate content"
# (remaining, reset) header pairs: the 15-minute window, then the 24-hour caps per user and per app
RATE_HEADERS = (
    ("x-rate-limit-remaining", "x-rate-limit-reset"),
    ("x-user-limit-24hour-remaining", "x-user-limit-24hour-reset"),
    ("x-app-limit-24hour-remaining", "x-app-limit-24hour-reset"),
)

# tweepy logs request headers (with the OAuth token) at DEBUG: never let that through.
logging.getLogger("tweepy").setLevel(logging.INFO)


def comparable(text: str) -> str:
    """A text as X may return it, made comparable: HTML entities unescaped, every link (ended where
    twitter-text ends it) replaced by one placeholder, since X rewrites links to t.co."""
    from twitter_text.extract_urls import extract_urls_with_indices  # ~11 MB: loaded on first use

    text = html.unescape(text)
    parts, position = [], 0
    for found in extract_urls_with_indices(text, extract_urls_without_protocol=False):
        start, end = found["indices"]
        parts += [text[position:start], "<url>"]
        position = end
    return ("".join(parts) + text[position:]).strip()


def same_text(posted: str, ours: str) -> bool:
    """Whether the text X returned is `ours`."""
    return comparable(posted) == comparable(ours)


def x_rate(headers: Mapping[str, str]) -> RateInfo | None:
    """What X's headers say: calls left in the 15-minute window, unless a 24-hour cap is spent, whose
    reset then rules (the latest reset among the spent limits)."""
    infos = [info for pair in RATE_HEADERS if (info := rate_info(headers, *pair)) is not None]
    spent = [i.reset_at for i in infos if i.remaining == 0 and i.reset_at is not None]
    if spent:
        return RateInfo(remaining=0, reset_at=max(spent))
    return infos[0] if infos else None


class XChannel(Channel):
    """The city's X account (no idempotency key: unclear outcomes are reconciled by `find_sent`;
    limits come from the x-rate-limit-* headers)."""

    name = "x"
    label = "X"
    limit = 280
    unit = "weighted characters"
    credentials = ("X_API_KEY", "X_API_SECRET", "X_ACCESS_TOKEN", "X_ACCESS_TOKEN_SECRET")
    languages = LANGUAGES
    language_setting = "X_POST_LANGUAGES"
    send_endpoint = "tweets"

    @staticmethod
    def count(text: str) -> int:
        return x_weighted_length(text)

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self._session = x_session(settings.x_api_base_url, settings.notifier_request_timeout)
        self._user_id: str | None = None

    @staticmethod
    def account_of(settings: Settings) -> str:
        """The numeric user id that prefixes an X access token, or "default"."""
        token = settings.x_access_token.get_secret_value() if settings.x_access_token else ""
        prefix = token.split("-", 1)[0]
        return prefix if prefix.isdigit() else "default"

    def _client(self) -> tweepy.Client:
        return x_client(self.settings, self._session)

    async def send(self, out: Outgoing) -> Published:
        async def post(step: ThreadStep) -> Published:
            return await self._post(out, step)

        return await publish_thread(self, out, post)

    async def _post(self, out: Outgoing, step: ThreadStep) -> Published:
        try:
            return await in_thread(self._send, step.text, step.parent)
        except Duplicate as exc:
            since = out.first_attempt_at or dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
            found = _match(await in_thread(self._timeline, since), step.text)
            if found is None:
                raise Duplicate(
                    f"{exc.reason}; the identical post is not among the account's recent posts",
                    http_status=exc.http_status,
                    request_id=exc.request_id,
                ) from None
            return Published(platform_id=found, http_status=exc.http_status, note="already on the timeline")

    def _send(self, text: str, reply_to: str | None) -> Published:
        import tweepy

        try:
            response: requests.Response = self._client().create_tweet(
                text=text, in_reply_to_tweet_id=reply_to, user_auth=True
            )
        except tweepy.HTTPException as exc:
            raise _error(exc) from None
        except requests.RequestException as exc:
            raise from_requests(exc, "X create_tweet") from None
        data = response.json()["data"]
        return Published(
            platform_id=str(data["id"]),
            http_status=response.status_code,
            request_id=response.headers.get("x-transaction-id"),
            rate=x_rate(response.headers),
        )

    async def find_sent(self, out: Outgoing, since: dt.datetime) -> str | None:
        timeline: list[dict[str, object]] | None = None

        async def find_one(step: ThreadStep) -> str | None:
            nonlocal timeline
            if timeline is None:  # one read of the timeline for every post of the thread
                timeline = await in_thread(self._timeline, since)
            return _match(timeline, step.text)

        return await find_thread(self, out, find_one)

    def _timeline(self, since: dt.datetime) -> list[dict[str, object]]:
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
        tweets: list[dict[str, object]] = response.json().get("data") or []
        return tweets

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


def _match(timeline: list[dict[str, object]], text: str) -> str | None:
    """The id of the post in `timeline` whose text is `text`."""
    for tweet in timeline:
        if same_text(str(tweet.get("text", "")), text):
            return str(tweet["id"])
    return None


def _error(exc: tweepy.HTTPException) -> Exception:
    import tweepy

    status = exc.response.status_code
    request_id = exc.response.headers.get("x-transaction-id")
    reason = short(f"X {status}: {'; '.join(exc.api_messages) or exc.response.reason}")
    if isinstance(exc, tweepy.TooManyRequests):
        info = x_rate(exc.response.headers)
        return RateLimited(
            reason, retry_at=info.reset_at if info else None, http_status=status, request_id=request_id
        )
    if isinstance(exc, tweepy.TwitterServerError):
        return ServerError(reason, http_status=status, request_id=request_id)
    if isinstance(exc, tweepy.Forbidden) and any(DUPLICATE in m for m in exc.api_messages):
        return Duplicate(reason, http_status=status, request_id=request_id)
    return Rejected(reason, http_status=status, request_id=request_id)


class Duplicate(Ambiguous):
    """X refused an exact copy of a recent post: the text is on the account already, maybe from an
    earlier attempt of this delivery, maybe from another post (a person decides when the lookup
    does not find it)."""
