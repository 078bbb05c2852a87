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
from fastapi import FastAPI
from pydantic import SecretStr

from app.settings import Settings
from platforms.line_api import LineApi, RetryPolicy

if TYPE_CHECKING:
    from fakes.fake_line import FakeLine
    from fakes.fake_server import ThreadedServer


MAX_DELIVERIES = 2_000  # the fake keeps the newest deliveries only: anyone may drive a public simulator
SENDS_AT_ONCE = 8  # simulator events in flight to the webhook per process; more wait their turn


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
        self._sending: anyio.CapacityLimiter | None = None
        self._stack = AsyncExitStack()

    @property
    def fake(self) -> FakeLine:
        """The fake platform (imported on first use: a live bot that never simulates pays nothing)."""
        if self._fake is None:
            from fakes.fake_line import FakeLine

            self._fake = FakeLine(access_token=self.access_token, max_deliveries=MAX_DELIVERIES)
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

    async def post_webhook(self, app: FastAPI, body: bytes, headers: dict[str, str]) -> int:
        """Post a signed body to the app's own `POST /line/webhook` in process; its status. At most
        `SENDS_AT_ONCE` at a time, so the simulator cannot crowd out LINE's own webhooks."""
        import httpx  # only the simulator needs it: a live bot does not load it

        if self._sending is None:
            self._sending = anyio.CapacityLimiter(SENDS_AT_ONCE)
        async with self._sending:
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://simulator.internal") as client:
                answer = await client.post("/line/webhook", content=body, headers=headers)
        return answer.status_code

    async def close(self) -> None:
        await self._stack.aclose()
        if self.server is not None:
            await anyio.to_thread.run_sync(self.server.stop)
            self.server = None
