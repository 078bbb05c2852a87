"""The bot area for `app.main.AREAS`: the webhook and simulator routes, and the lifespan that starts the
LINE adapter and the inbox worker (`app.state.bot`, a `bot.simulator.simulator_backend.BotRuntime`)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI

from bot.intake import webhook
from bot.simulator import simulator_page
from bot.simulator.simulator_backend import BotRuntime

# LINE's webhook, the app's busiest route, is answered in front of the whole stack (its FastAPI route
# stays for the OpenAPI document)
FAST_ROUTES = {("POST", webhook.PATH): webhook.fast_webhook}
# the routes themselves, not included routers (see `app.main.add_routes`)
router = APIRouter(routes=[*webhook.router.routes, *simulator_page.router.routes])

SIMULATOR_NOTE = (
    "simulator: no LINE credentials; try the bot at /simulator / LINE 未設定のためシミュレーターで動作中"
)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    runtime = BotRuntime(app, getattr(app.state, "bot_tuning", None))  # tests set `bot_tuning`
    app.state.bot = runtime
    if not runtime.live:
        app.state.feature_notes["line"] = SIMULATOR_NOTE
    async with runtime:
        yield
