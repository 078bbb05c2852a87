"""The reports area for `app.main.AREAS`: damage reports from residents (LINE), staff (phone) and
other networks (hashtags), triaged on `/reports`. Its lifespan hooks the LINE report flow into the
bot's conversation and runs the background work: fetching photos from LINE and pushing status changes
to reporters."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from reports.reports_api import router

__all__ = ["lifespan", "router"]


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    yield
