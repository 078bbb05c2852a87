"""tweepy hard-codes `https://api.twitter.com`: a requests adapter mounted on a client's session that
sends every call to the configured `X_API_BASE_URL` instead (the fakes in tests) and enforces a
timeout; and the tweepy client with the account's user-context keys on such a session. Shared by the
notifier's X channel and the reports area's X search."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import requests
from requests.adapters import HTTPAdapter

from app.settings import Settings

if TYPE_CHECKING:
    import tweepy

TWITTER_HOST = "https://api.twitter.com"


class XHostRedirect(HTTPAdapter):
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


def x_session(base_url: str, timeout: float) -> requests.Session:
    """A requests session whose calls to X go to `base_url`."""
    session = requests.Session()
    session.mount(TWITTER_HOST, XHostRedirect(base_url, timeout))
    return session


def x_client(settings: Settings, session: requests.Session) -> tweepy.Client:
    """A tweepy client acting as the city's account (OAuth 1.0a user context, the four `X_*` keys),
    answering with `requests.Response`s, never sleeping on rate limits, calling through `session`."""
    import tweepy  # ~15 MB: loaded only when X is used

    def secret(value: Any) -> str:
        return str(value.get_secret_value()) if value is not None else ""

    client = tweepy.Client(
        consumer_key=secret(settings.x_api_key),
        consumer_secret=secret(settings.x_api_secret),
        access_token=secret(settings.x_access_token),
        access_token_secret=secret(settings.x_access_token_secret),
        return_type=requests.Response,
        wait_on_rate_limit=False,
    )
    client.session = session
    return client
