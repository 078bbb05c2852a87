"""A Facebook Page through the Graph API (`POST /{version}/{page-id}/feed`) over httpx.

The Graph API has no idempotency key: an unclear outcome is reconciled against `/{page-id}/posts`.

Rate limits never come as 429: a spent limit is a 400 or 403 with error code 4 (application), 17
(user), 32 (Page), 613 (custom) or 80001 (Page business use case); the usage headers (`x-app-usage`,
`x-page-usage`, `x-business-use-case-usage`) say how much is used, the worst of them counts, and
`estimated_time_to_regain_access` (minutes) when to try again.

A post's other languages (`FACEBOOK_POST_LANGUAGES`) go in the same post, below the Japanese: one
call, one post to reconcile, and the Page's followers see every language together (a Page's own
comments under its post are easily missed, and Facebook has no reply thread like X's).

`FACEBOOK_API_VERSION` picks the Graph API version (default: the current one). Meta ends each version
about two years after the next one; `GRAPH_VERSIONS` lists the known end dates and `/readyz` warns 90
days ahead (`readiness`).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from typing import Any

import httpx

from app.languages import LANGUAGES
from app.settings import Settings
from notifier.channels.channel_base import Channel, Outgoing, Published
from platforms.call_errors import RateInfo, RateLimited, Rejected, ServerError
from platforms.counting import characters
from platforms.followers import FollowerCount
from platforms.http_calls import from_httpx, short

# Graph error codes that mean "too many calls" (application, user, page and custom limits).
RATE_LIMIT_CODES = {4, 17, 32, 613, 80001}
# a rate-limit refusal without an estimate: try again after this (Meta's windows are an hour long)
RATE_LIMIT_PAUSE = dt.timedelta(minutes=5)
# Graph API versions and the last day each is available (None: not announced yet), from
# https://developers.facebook.com/docs/graph-api/changelog/versions/ (checked 2026-12-06)
GRAPH_VERSIONS: dict[str, dt.date | None] = {
    "v27.0": None,  # released 2026-11-04
    "v26.0": None,  # released 2026-07-29
    "v25.0": dt.date(2028, 7, 29),
    "v24.0": dt.date(2028, 2, 18),
    "v23.0": dt.date(2027, 10, 8),
    "v22.0": dt.date(2027, 5, 20),
    "v21.0": dt.date(2027, 1, 21),
    "v20.0": dt.date(2026, 9, 24),
    "v19.0": dt.date(2026, 5, 21),
    "v18.0": dt.date(2026, 1, 26),
}
CURRENT_VERSION = "v27.0"
WARN_BEFORE = dt.timedelta(days=90)


def version_warning(version: str, today: dt.date) -> str | None:
    """Why `version` needs attention on `today` (Japanese first), or None while it is safe."""
    fix_ja = f"FACEBOOK_API_VERSION を {CURRENT_VERSION} にしてください"
    fix_en = f"set FACEBOOK_API_VERSION to {CURRENT_VERSION}"
    if version not in GRAPH_VERSIONS:
        return (
            f"FACEBOOK_API_VERSION={version} は既知の Graph API バージョンではなく、"
            f"提供終了日が分かりません。{fix_ja} / "
            f"{version} is not a known Graph API version, so its end date is unknown: {fix_en}"
        )
    ends = GRAPH_VERSIONS[version]
    if ends is None or ends - today > WARN_BEFORE:
        return None
    day = ends.isoformat()
    if ends < today:
        return (
            f"Graph API {version} は {day} に提供終了しました。{fix_ja} / {version} ended on {day}: {fix_en}"
        )
    days = (ends - today).days
    return (
        f"Graph API {version} は {day} に提供終了します(あと {days} 日)。{fix_ja} / "
        f"{version} ends on {day} (in {days} days): {fix_en}"
    )


class FacebookChannel(Channel):
    """The city's Facebook Page (no idempotency key: unclear outcomes are reconciled by
    `find_sent`; limits come from the usage headers and error codes)."""

    name = "facebook"
    label = "Facebook"
    limit = 63_206
    credentials = ("FACEBOOK_PAGE_ID", "FACEBOOK_PAGE_ACCESS_TOKEN")
    languages = LANGUAGES
    language_setting = "FACEBOOK_POST_LANGUAGES"
    combined = True
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

    @classmethod
    def readiness(cls, settings: Settings, today: dt.date) -> dict[str, Any] | None:
        version = settings.facebook_api_version
        ends = GRAPH_VERSIONS.get(version)
        warning = version_warning(version, today)
        return {
            "ok": warning is None,
            "api_version": version,
            "available_until": ends.isoformat() if ends else None,
            "warning": warning,
        }

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
    """Graph usage headers report percentages; the most used of them counts (at 100 % the account is
    blocked for the stated minutes)."""
    infos = [
        info
        for name in ("x-business-use-case-usage", "x-page-usage", "x-app-usage")
        if name in headers and (info := _parse_usage(headers[name])) is not None
    ]
    if not infos:
        return None
    return min(infos, key=lambda i: (i.remaining if i.remaining is not None else 100, -_stamp(i.reset_at)))


def _stamp(when: dt.datetime | None) -> float:
    return when.timestamp() if when else 0.0


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
    minutes = max(int(e.get("estimated_time_to_regain_access", 0)) for e in entries)
    wait = dt.timedelta(minutes=minutes) if minutes > 0 else RATE_LIMIT_PAUSE
    return RateInfo(remaining=0, reset_at=dt.datetime.now(dt.UTC) + wait)


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
        retry_at = info.reset_at if info and info.reset_at else dt.datetime.now(dt.UTC) + RATE_LIMIT_PAUSE
        return RateLimited(reason, retry_at=retry_at, **kw)
    if response.status_code >= 500 or error.get("is_transient"):
        return ServerError(reason, **kw)
    return Rejected(reason, **kw)
