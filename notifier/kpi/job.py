"""The daily collection as a periodic job: `run_due` is idempotent and cheap when nothing is due,
so it runs every few minutes (in the web process when RUN_WORKER_IN_APP, or from cron/systemd with
`python -m notifier kpi collect`)."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import AsyncIterator

from fastapi import FastAPI
from sqlalchemy.orm import Session, sessionmaker

from app.settings import Settings
from notifier.kpi.collect import Collector, Outcome
from notifier.kpi.sources import configured_channels, open_sources

log = logging.getLogger(__name__)
INTERVAL_SECONDS = 600.0


async def run_due(
    sessions: sessionmaker[Session], settings: Settings, now: dt.datetime | None = None
) -> list[Outcome]:
    """Collect whatever is due for the configured channels (see `Collector.run_due`)."""
    async with open_sources(settings) as sources:
        return await Collector(sessions, sources).run_due(now) if sources else []


async def _loop(app: FastAPI, interval: float) -> None:
    while True:
        try:
            await run_due(app.state.sessionmaker, app.state.settings)
        except Exception:  # a bad run must not stop tomorrow's; the error is logged
            log.exception("kpi collection failed")
        await asyncio.sleep(interval)


@contextlib.asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Run the collection loop inside the web process when RUN_WORKER_IN_APP and a channel is set."""
    settings: Settings = app.state.settings
    if not settings.run_worker_in_app or not configured_channels(settings):
        yield
        return
    task = asyncio.create_task(_loop(app, INTERVAL_SECONDS), name="kpi-collect")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
