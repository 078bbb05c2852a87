"""The reports area for `app.main.AREAS`: damage reports from residents (LINE), staff (phone) and
other networks (hashtags), triaged on `/reports`. Its lifespan hooks the LINE report flow into the
bot's conversation (`app.state.bot.preparer.hooks`) and runs the background work (`ReportJobs`:
photos fetched from LINE, status pushes to reporters, retention)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import urlsplit

from fastapi import FastAPI

from app.security_headers import CSP
from app.settings import Settings
from reports.flow_hook import ReportFlowHook
from reports.report_jobs import JobTuning, ReportJobs
from reports.reports_api import router

__all__ = ["lifespan", "page_csp", "router"]


def tile_origin(url: str) -> str | None:
    """The scheme and host of the map tiles' URL template (None for tiles served by the app)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme in ("http", "https") and parts.netloc else None


def page_csp(settings: Settings) -> dict[str, str]:
    """`/reports` also loads images (map tiles) from the tile server's origin."""
    origin = tile_origin(settings.report_map_tile_url)
    if origin is None:
        return {}
    return {"/reports": CSP.replace("img-src 'self' data:", f"img-src 'self' data: {origin}")}


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    bot = app.state.bot  # started before: `bot.bot_area` comes first in AREAS
    hook = ReportFlowHook()
    bot.preparer.hooks.append(hook)
    tuning: JobTuning | None = getattr(app.state, "report_tuning", None)  # tests set `report_tuning`
    jobs = ReportJobs(app.state.db, bot.api_for, app.state.settings, tuning)
    app.state.report_jobs = jobs
    app.state.report_notices_wake = jobs.wake
    await jobs.start()
    try:
        yield
    finally:
        await jobs.stop()
        bot.preparer.hooks.remove(hook)
