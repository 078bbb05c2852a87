"""The reports area for `app.main.AREAS`: damage reports from residents (LINE), staff (phone) and
other networks (hashtags), triaged on `/reports`. Its lifespan hooks the LINE report flow into the
bot's conversation (`app.state.bot.preparer.hooks`) and runs the background work (`ReportJobs`:
photos fetched from LINE, status pushes to reporters, retention)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from reports.flow_hook import ReportFlowHook
from reports.report_jobs import JobTuning, ReportJobs
from reports.reports_api import router

__all__ = ["lifespan", "router"]


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
