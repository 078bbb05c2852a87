"""Demo mode: each channel without credentials runs against the project's fake of its platform, inside
the app, as the LINE simulator does (`fakes.fake_server.FakeServer` on a free loopback port).

The notifier's lifespan starts one fake per demo channel and binds the channels to them
(`Settings.with_demo_channels`: base URL and the fake's own credentials); the in-app worker, the
composer, the staff pages and the KPI collection then use those bound settings (`ChannelSettingsDep`).
Deliveries and follower figures of a bound channel are recorded under `DEMO_ACCOUNT`, apart from every
real account; `/demo` shows what each fake received. Demo mode is on with APP_ENV=development unless
DEMO_MODE=false, and never with APP_ENV=production (the settings refuse it), so production never starts
a fake. Layering: `app` may not import `fakes`, the notifier may, so the runtime lives here.

The fakes live in this process: a standalone `python -m notifier worker` has none, and refuses demo
deliveries (see `notifier.delivery.dispatcher`); demo mode is for the one-process `make run`.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Depends, Request
from pydantic import SecretStr

from app.settings import Settings

if TYPE_CHECKING:
    from fakes.fake_server import FakePlatform, FakeServer

JST = dt.timezone(dt.timedelta(hours=9), "JST")
INSIGHT_DAYS = (-400, 60)  # LINE insight figures the fake knows, in days from the start (past, future)
SHOWN_AT_MOST = 200


@dataclass(frozen=True)
class Received:
    """One text a fake platform accepted: a LINE message, an X post, a Page post, a status, a record."""

    channel: str
    received_at: dt.datetime
    text: str

    def as_json(self) -> dict[str, str]:
        """`{"channel", "received_at", "text"}`, the time in Japan time without fractions of a second."""
        when = self.received_at.astimezone(JST).replace(microsecond=0).isoformat()
        return {"channel": self.channel, "received_at": when, "text": self.text}


def line_insight(day: dt.date) -> tuple[int, int, int]:
    """The demo LINE account's insight figures for a day (followers, blocks, targeted reaches): a slow,
    steady rise (pure)."""
    n = (day - dt.date(2024, 1, 1)).days
    followers = 40_000 + 9 * n
    return followers, 3_000 + n, followers * 7 // 10


def _line(token: str) -> FakePlatform:
    from fakes.fake_line import FakeLine

    fake = FakeLine(access_token=token)
    today = dt.datetime.now(JST).date()
    for offset in range(*INSIGHT_DAYS):
        day = today + dt.timedelta(days=offset)
        followers, blocks, reaches = line_insight(day)
        fake.set_insight(day, followers=followers, blocks=blocks, targeted_reaches=reaches)
    return fake


def _x(_token: str) -> FakePlatform:
    from fakes.fake_x import FakeX

    return FakeX()


def _facebook(token: str) -> FakePlatform:
    from fakes.fake_facebook import FakeFacebook

    return FakeFacebook(token=token)


def _mastodon(token: str) -> FakePlatform:
    from fakes.fake_mastodon import FakeMastodon

    return FakeMastodon(token=token)


def _bluesky(token: str) -> FakePlatform:
    from fakes.fake_bluesky import FakeBluesky

    return FakeBluesky(password=token)


def _overrides(name: str, url: str, token: str, fake: Any) -> dict[str, object]:
    """The settings that bind channel `name` to its fake at `url` (the fake's own credentials)."""
    secret = SecretStr(token)
    if name == "line":
        return {"line_api_base_url": url, "line_data_api_base_url": url, "line_channel_access_token": secret}
    if name == "x":
        return {
            "x_api_base_url": url,
            "x_api_key": SecretStr("demo-key"),
            "x_api_secret": SecretStr("demo-secret"),
            "x_access_token": secret,
            "x_access_token_secret": SecretStr("demo-token-secret"),
        }
    if name == "facebook":
        return {
            "facebook_api_base_url": url,
            "facebook_page_id": fake.page_id,
            "facebook_page_access_token": secret,
        }
    if name == "mastodon":
        return {"mastodon_api_base_url": url, "mastodon_access_token": secret}
    return {"bluesky_api_base_url": url, "bluesky_handle": fake.handle, "bluesky_app_password": secret}


FAKES: dict[str, Callable[[str], FakePlatform]] = {
    "line": _line,
    "x": _x,
    "facebook": _facebook,
    "mastodon": _mastodon,
    "bluesky": _bluesky,
}


def _parse_time(value: str) -> dt.datetime:
    when = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


def received_texts(name: str, state: dict[str, Any]) -> list[Received]:
    """What the fake of channel `name` accepted, from its `dump()` (pure)."""
    if name == "line":
        return [
            Received("line", dt.datetime.fromtimestamp(d["at"], dt.UTC), m["text"])
            for d in state.get("deliveries", [])
            if d["kind"] != "reply"
            for m in d["messages"]
            if m.get("type") == "text"
        ]
    if name == "x":
        return [Received("x", _parse_time(t["created_at"]), t["text"]) for t in state.get("tweets", [])]
    if name == "facebook":
        return [Received("facebook", _parse_time(p["created"]), p["message"]) for p in state.get("posts", [])]
    if name == "mastodon":
        return [
            Received("mastodon", _parse_time(s["created_at"]), s["text"]) for s in state.get("statuses", [])
        ]
    return [
        Received("bluesky", _parse_time(r["value"]["createdAt"]), r["value"]["text"])
        for r in state.get("records", [])
        if "createdAt" in r.get("value", {})
    ]


class DemoPlatforms:
    """The fakes of the demo channels of one app, on loopback ports, and the settings bound to them."""

    def __init__(self, names: Sequence[str]) -> None:
        self.names = tuple(names)
        self.servers: dict[str, FakeServer] = {}
        self._overrides: dict[str, dict[str, object]] = {}

    def start(self) -> None:
        """Start every fake (blocking: run it in a thread from async code)."""
        from fakes.fake_server import FakeServer

        for name in self.names:
            token = secrets.token_urlsafe(24)
            fake = FAKES[name](token)
            server = FakeServer(fake).start()
            self.servers[name] = server
            self._overrides[name] = _overrides(name, server.url, token, fake)

    def stop(self) -> None:
        for server in self.servers.values():
            server.stop()
        self.servers.clear()

    def bind(self, settings: Settings) -> Settings:
        """`settings` with every started demo channel bound to its fake."""
        return settings.with_demo_channels(self._overrides)

    def received(self, limit: int = SHOWN_AT_MOST) -> list[Received]:
        """What the fakes received, newest first (at most `limit`)."""
        found = [
            item
            for name, server in self.servers.items()
            for item in received_texts(name, server.platform.dump())
        ]
        return sorted(found, key=lambda r: r.received_at, reverse=True)[:limit]


def channel_settings(request: Request) -> Settings:
    """The settings the app's channels are bound with: the app's settings, with the demo channels bound
    to their fakes once the notifier has started them."""
    bound: Settings | None = getattr(request.app.state, "channel_settings", None)
    return bound if bound is not None else request.app.state.settings


ChannelSettingsDep = Annotated[Settings, Depends(channel_settings)]
