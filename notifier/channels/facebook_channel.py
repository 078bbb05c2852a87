"""A Facebook Page through the Graph API (`POST /{version}/{page-id}/feed`) over httpx.

The Graph API has no idempotency key: an unclear outcome is reconciled against `/{page-id}/posts`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from typing import Any

import httpx

from app.settings import Settings
from notifier.channels.channel_base import Channel, Outgoing, Published
from platforms.call_errors import RateInfo, RateLimited, Rejected, ServerError
from platforms.counting import characters
from platforms.followers import FollowerCount
from platforms.http_calls import from_httpx, short

# Graph error codes that mean "too many calls" (application, user, page and custom limits).
RATE_LIMIT_CODES = {4, 17, 32, 613, 80001}


class FacebookChannel(Channel):
    """The city's Facebook Page (no idempotency key: unclear outcomes are reconciled by
    `find_sent`; limits come from the usage headers and error codes)."""

    name = "facebook"
    label = "Facebook"
    limit = 63_206
    credentials = ("FACEBOOK_PAGE_ID", "FACEBOOK_PAGE_ACCESS_TOKEN")
    send_endpoint = "feed"

    @staticmethod
    def count(text: str) -> int:
        return characters(text)

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self._base = f"{settings.facebook_api_base_url.rstrip('/')}/{settings.facebook_api_version}"
        token = settings.facebook_page_access_token
        self._headers = {"Authorization": f"Bearer {token.get_secret_value() if token else ''}"}
        self._timeout = settings.notifier_request_timeout
        self._clients: dict[int, httpx.AsyncClient] = {}

    @staticmethod
    def account_of(settings: Settings) -> str:
        return settings.facebook_page_id or "default"

    def _client(self) -> httpx.AsyncClient:
        # An AsyncClient belongs to one event loop; the CLI and tests may run several loops.
        loop = id(asyncio.get_running_loop())
        client = self._clients.get(loop)
        if client is None or client.is_closed:
            client = httpx.AsyncClient(headers=self._headers, timeout=self._timeout)
            self._clients[loop] = client
        return client

    async def _call(self, method: str, path: str, what: str, **kw: Any) -> httpx.Response:
        try:
            response = await self._client().request(method, f"{self._base}/{path}", **kw)
        except httpx.TransportError as exc:
            raise from_httpx(exc, what) from None
        if response.status_code >= 400:
            raise _error(response, what)
        return response

    async def send(self, out: Outgoing) -> Published:
        data = {"message": out.text("ja")}
        if out.link:
            data["link"] = out.link
        response = await self._call("POST", f"{self.platform_account}/feed", "Facebook feed", data=data)
        return Published(
            platform_id=str(response.json()["id"]),
            http_status=response.status_code,
            request_id=response.headers.get("x-fb-trace-id"),
            rate=_usage(response.headers),
        )

    async def find_sent(self, out: Outgoing, since: dt.datetime) -> str | None:
        params = {
            "since": str(int((since - dt.timedelta(minutes=5)).timestamp())),
            "fields": "id,message,created_time",
            "limit": "100",
        }
        response = await self._call("GET", f"{self.platform_account}/posts", "Facebook posts", params=params)
        text = out.text("ja").strip()
        for post in response.json().get("data") or []:
            if str(post.get("message", "")).strip() == text:
                return str(post["id"])
        return None

    async def follower_count(self, date: dt.date) -> FollowerCount:
        params = {"fields": "followers_count,fan_count"}
        try:
            body = (await self._call("GET", self.platform_account, "Facebook page", params=params)).json()
        except Exception as exc:  # a KPI reading never raises
            return FollowerCount("error", reason=short(getattr(exc, "reason", exc)))
        return FollowerCount.reading(
            body.get("followers_count"), "Facebook page", fan_count=body.get("fan_count")
        )

    async def aclose(self) -> None:
        for client in self._clients.values():
            if not client.is_closed:
                await client.aclose()
        self._clients.clear()


def _usage(headers: httpx.Headers) -> RateInfo | None:
    """Graph usage headers report percentages; at 100 % the account is blocked for the stated minutes."""
    for name in ("x-business-use-case-usage", "x-page-usage", "x-app-usage"):
        if name in headers:
            return _parse_usage(headers[name])
    return None


def _parse_usage(value: str) -> RateInfo | None:
    try:
        data = json.loads(value)
    except ValueError:
        return None
    entries = [e for v in data.values() for e in v] if name_keyed(data) else [data]
    if not entries:
        return None
    worst = max(int(e.get(k, 0)) for e in entries for k in ("call_count", "total_time", "total_cputime"))
    if worst < 100:
        return RateInfo(remaining=100 - worst)
    minutes = max(int(e.get("estimated_time_to_regain_access", 0)) for e in entries) or 1
    return RateInfo(remaining=0, reset_at=dt.datetime.now(dt.UTC) + dt.timedelta(minutes=minutes))


def name_keyed(data: dict[str, Any]) -> bool:
    """X-Business-Use-Case-Usage is keyed by object id with a list of entries; the others are flat."""
    return bool(data) and all(isinstance(v, list) for v in data.values())


def _error(response: httpx.Response, what: str) -> Exception:
    try:
        error = response.json().get("error", {})
    except ValueError:
        error = {}
    code = error.get("code")
    reason = short(f"{what} {response.status_code}: {error.get('message') or response.reason_phrase}")
    kw: dict[str, Any] = {"http_status": response.status_code, "request_id": error.get("fbtrace_id")}
    if response.status_code == 429 or code in RATE_LIMIT_CODES:
        info = _usage(response.headers)
        retry_at = info.reset_at if info else None
        return RateLimited(reason, retry_at=retry_at, **kw)
    if response.status_code >= 500 or error.get("is_transient"):
        return ServerError(reason, **kw)
    return Rejected(reason, **kw)
