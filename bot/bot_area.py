"""The bot area for `app.main.AREAS`: the webhook and simulator routes, the `line_bot` feature, and the
lifespan that starts what the bot holds while the app runs (`app.state.bot`, a `BotRuntime`): the
channel secret, the LINE adapter, the inbox worker and the simulator's fake LINE platform.

Without LINE credentials (`LINE_CHANNEL_SECRET` and `LINE_CHANNEL_ACCESS_TOKEN`) the bot runs against
the simulator; with them, LINE calls go to `LINE_API_BASE_URL`.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

from fastapi import APIRouter, FastAPI

from app.settings import Settings
from bot import disaster_mode
from bot.inbox.inbox_worker import InboxWorker
from bot.inbox.reply_preparer import Preparer
from bot.inbox.worker_pacing import Tuning
from bot.intake import webhook
from bot.simulator import simulator_page
from bot.simulator.simulator_backend import SimulatorBackend
from faq.unanswered_log import Retention
from platforms.line_api import LineApi
from storage.aio import AsyncDb

# LINE's webhook, the app's busiest route, is answered in front of the whole stack (its FastAPI route
# stays for the OpenAPI document)
FAST_ROUTES = {("POST", webhook.PATH): webhook.fast_webhook}
# authenticated by its signature, not a staff session: no CSRF check (see `app.csrf`)
SESSIONLESS_PATHS = (webhook.PATH,)
# the routes themselves, not included routers (see `app.main.add_routes`)
router = APIRouter(
    routes=[*webhook.router.routes, *simulator_page.router.routes, *disaster_mode.router.routes]
)

SIMULATOR_NOTE = (
    "simulator: no LINE credentials; try the bot at /simulator / LINE 未設定のためシミュレーターで動作中"
)


def live(settings: Settings) -> bool:
    """Whether the bot talks to the real LINE platform: the channel secret (the webhook) and the access
    token (replies) are both set."""
    return all(
        value is not None and value.get_secret_value().strip()
        for value in (settings.line_channel_secret, settings.line_channel_access_token)
    )


def features(settings: Settings) -> dict[str, bool]:
    """For `/readyz` and `check`: the bot is `line_bot` (the LINE channel is the notifier's `line`)."""
    return {"line_bot": live(settings)}


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    runtime = BotRuntime(app, getattr(app.state, "bot_tuning", None))  # tests set `bot_tuning`
    app.state.bot = runtime
    if not runtime.live:
        app.state.feature_notes["line"] = SIMULATOR_NOTE
    async with runtime, disaster_mode.watching(app):
        yield


class BotRuntime:
    """The bot's parts for one app process."""

    def __init__(self, app: FastAPI, tuning: Tuning | None = None) -> None:
        settings: Settings = app.state.settings
        self.settings = settings
        self.sessions = app.state.sessionmaker
        self.live = live(settings)
        secret = settings.line_channel_secret
        self.channel_secret = secret.get_secret_value() if self.live and secret else secrets.token_urlsafe(32)
        self.tuning = tuning or Tuning()
        self.simulator = SimulatorBackend(settings, self.tuning.line_retry)
        self.line_api: LineApi | None = None
        self.db: AsyncDb = app.state.db
        self.intake_db: AsyncDb = app.state.intake_db  # the webhook's inserts (a pool of their own)
        self.preparer = Preparer(
            self.db, settings.topics, lambda: getattr(app.state, "faq", None), Retention.of(settings)
        )
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
        await self.worker.start()
        self._stack.push_async_callback(self.worker.stop)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._stack.aclose()
