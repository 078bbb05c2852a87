"""What the bot area holds while the app runs (`app.state.bot`): the channel secret, the LINE adapter,
the inbox worker and the simulator's fake LINE platform.

Without LINE credentials the bot runs against the simulator: a generated channel secret signs the
simulator's webhooks, and every LINE call goes to an in-app fake LINE server (`fakes.fake_line.FakeLine`
on a free loopback port, started on first use). With credentials, LINE calls go to
`LINE_API_BASE_URL`, and only the simulator's own events are answered through the fake.
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
from bot.inbox.inbox_worker import InboxWorker
from bot.inbox.reply_preparer import Preparer
from bot.inbox.worker_pacing import Tuning
from platforms.line_api import LineApi, RetryPolicy
from storage.aio import Db

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


class BotRuntime:
    """The bot's parts for one app process."""

    def __init__(self, app: FastAPI, tuning: Tuning | None = None) -> None:
        settings: Settings = app.state.settings
        self.settings = settings
        self.sessions = app.state.sessionmaker
        self.live = settings.features()["line"]
        secret = settings.line_channel_secret
        self.channel_secret = secret.get_secret_value() if self.live and secret else secrets.token_urlsafe(32)
        self.tuning = tuning or Tuning()
        self.simulator = SimulatorBackend(settings, self.tuning.line_retry)
        self.line_api: LineApi | None = None
        self.db = Db(self.sessions)
        self.preparer = Preparer(self.db, settings.topics, lambda: getattr(app.state, "faq", None))
        self.worker = InboxWorker(self.db, self.preparer, self.api_for, self.tuning)

    async def api_for(self, channel: str) -> LineApi:
        """The adapter for events of `channel` ("line" or "simulator")."""
        if channel == "simulator" or self.line_api is None:
            return await self.simulator.api()
        return self.line_api

    async def __aenter__(self) -> BotRuntime:
        self._stack = AsyncExitStack()
        if self.live:
            api = LineApi.open(self.settings, retry=self.tuning.line_retry)
            self.line_api = await self._stack.enter_async_context(api)
        self._stack.push_async_callback(self.simulator.close)
        self._stack.push_async_callback(self.db.close)  # after the worker: its last writes land
        await self.worker.start()
        self._stack.push_async_callback(self.worker.stop)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._stack.aclose()
