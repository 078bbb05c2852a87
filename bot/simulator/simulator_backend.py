"""The fake LINE platform behind `/simulator`: an in-app fake LINE server (`fakes.fake_line.FakeLine`
on a free loopback port, started on first use) and a LINE adapter pointed at it.

Without LINE credentials the whole bot runs against it (a generated channel secret signs the
simulator's webhooks); with credentials, only the simulator's own events are answered through it.
"""

from __future__ import annotations

import asyncio
import secrets
from contextlib import AsyncExitStack
from typing import TYPE_CHECKING

import anyio
from pydantic import SecretStr

from app.settings import Settings
from platforms.line_api import LineApi, RetryPolicy

if TYPE_CHECKING:
    from fakes.fake_line import FakeLine
    from fakes.fake_server import ThreadedServer


class SimulatorBackend:
    """The fake LINE platform behind `/simulator`, and an adapter pointed at it (started lazily, so apps
    that never use it pay nothing)."""

    def __init__(self, settings: Settings, retry: RetryPolicy | None = None) -> None:
        self.settings = settings
        self.retry = retry
        self.access_token = secrets.token_urlsafe(24)
        self._fake: FakeLine | None = None
        self.server: ThreadedServer | None = None
        self._api: LineApi | None = None
        self._lock = asyncio.Lock()
        self._stack = AsyncExitStack()

    @property
    def fake(self) -> FakeLine:
        """The fake platform (imported on first use: a live bot that never simulates pays nothing)."""
        if self._fake is None:
            from fakes.fake_line import FakeLine

            self._fake = FakeLine(access_token=self.access_token)
        return self._fake

    @property
    def url(self) -> str | None:
        return self.server.url if self.server is not None else None

    async def api(self) -> LineApi:
        """The adapter for simulator events; starts the fake server on first use."""
        async with self._lock:
            if self._api is None:
                from fakes.fake_server import ThreadedServer

                server = ThreadedServer(self.fake.app(), name="simulator-line")
                await anyio.to_thread.run_sync(server.start)
                self.server = server
                fake_settings = self.settings.model_copy(
                    update={
                        "line_api_base_url": server.url,
                        "line_data_api_base_url": server.url,
                        "line_channel_access_token": SecretStr(self.access_token),
                    }
                )
                self._api = await self._stack.enter_async_context(
                    LineApi.open(fake_settings, retry=self.retry)
                )
            return self._api

    async def close(self) -> None:
        await self._stack.aclose()
        if self.server is not None:
            await anyio.to_thread.run_sync(self.server.stop)
            self.server = None
