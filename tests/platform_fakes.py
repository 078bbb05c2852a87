"""The fake platforms over real HTTP, shared by the notifier and KPI tests: one server per platform
for the whole session (`fake_servers`), emptied before every test that asks for `fakes`, and the
settings that point every channel's real SDK client at them. `tests/conftest.py` registers the
fixtures; helpers are imported from here."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

import pytest

from fakes.fake_bluesky import FakeBluesky
from fakes.fake_facebook import FakeFacebook
from fakes.fake_line import FakeLine
from fakes.fake_mastodon import FakeMastodon
from fakes.fake_server import FakeServer
from fakes.fake_x import FakeX
from notifier.channels.mastodon_channel import forget_instance_limits

SNS = ("x", "facebook", "mastodon", "bluesky")
T = TypeVar("T")
CHANNEL_NAMES = ("line", *SNS)
LINE_TOKEN = "fake-line-token"

FAST = {
    "notifier_request_timeout": 1.0,
    "line_request_timeout": 1.0,
    "notifier_backoff_seconds": 0.05,
    "notifier_poll_seconds": 0.05,
    "notifier_lease_seconds": 30.0,
}


@dataclass
class Fakes:
    line: FakeServer
    x: FakeServer
    facebook: FakeServer
    mastodon: FakeServer
    bluesky: FakeServer

    def __getitem__(self, name: str) -> FakeServer:
        server: FakeServer = getattr(self, name)
        return server

    def settings(self) -> dict[str, Any]:
        """Settings overrides that configure every channel (LINE and the SNS) against these fakes."""
        return {
            "line_api_base_url": self.line.url,
            "line_data_api_base_url": self.line.url,
            "line_channel_access_token": LINE_TOKEN,
            "line_channel_secret": "line-secret",
            "x_api_base_url": self.x.url,
            "x_api_key": "ck",
            "x_api_secret": "cs",
            "x_access_token": "1500000000000000001-token",
            "x_access_token_secret": "ts",
            "facebook_api_base_url": self.facebook.url,
            "facebook_page_id": self.facebook.platform.page_id,  # type: ignore[attr-defined]
            "facebook_page_access_token": self.facebook.platform.token,  # type: ignore[attr-defined]
            "mastodon_api_base_url": self.mastodon.url,
            "mastodon_access_token": self.mastodon.platform.token,  # type: ignore[attr-defined]
            "bluesky_api_base_url": self.bluesky.url,
            "bluesky_handle": self.bluesky.platform.handle,  # type: ignore[attr-defined]
            "bluesky_app_password": self.bluesky.platform.password,  # type: ignore[attr-defined]
        }

    def env(self) -> dict[str, str]:
        """`settings()` as environment variables, for subprocesses."""
        return {k.upper(): str(v) for k, v in self.settings().items()}

    def published(self, name: str) -> list[Any]:
        """What the platform holds now: LINE deliveries, tweets, page posts, statuses or records."""
        key = {"line": "deliveries", "x": "tweets", "facebook": "posts", "mastodon": "statuses"}.get(
            name, "records"
        )
        items: list[Any] = self[name].platform.dump()[key]
        return items


@pytest.fixture(scope="session")
def fake_servers() -> Iterator[Fakes]:
    line = FakeServer(FakeLine(access_token=LINE_TOKEN)).start()
    servers = [line] + [FakeServer(p()).start() for p in (FakeX, FakeFacebook, FakeMastodon, FakeBluesky)]
    yield Fakes(*servers)
    for server in servers:
        server.stop()


@pytest.fixture
def fakes(fake_servers: Fakes) -> Fakes:
    """The fakes, emptied of posts, calls and faults (and the instance limits read from them forgotten)."""
    forget_instance_limits()
    for name in CHANNEL_NAMES:
        server = fake_servers[name]
        server.state.reset()
        server.platform.reset()
        if name != "line":
            server.platform.window.set(10_000, 900)  # type: ignore[attr-defined]
    return fake_servers


def run_async(awaitable: Awaitable[T]) -> T:
    """`asyncio.run` in a thread of its own: the main thread may already run Playwright's event loop
    (the session-scoped browser of the page tests)."""

    async def main() -> T:  # periodic jobs are typed as returning any awaitable
        return await awaitable

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, main()).result()
