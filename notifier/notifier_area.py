"""The notifier's place in the app (`app.main.AREAS`): the staff API and console page routes, and a
lifespan that starts the demo channels' fakes (demo mode, `notifier.demo_platforms`), runs one delivery
worker inside the app when RUN_WORKER_IN_APP is true and keeps the `/readyz` notes current: `notifier`
(workers, overdue deliveries, paused channels) and one per configured channel that has something to say
(`Channel.readiness`, e.g. Facebook's API version)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
from fastapi import APIRouter, FastAPI
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from app.settings import Settings
from app.tokyo_time import JST
from notifier import delivery_health, demo_page, emergency_api, emergency_page, posts_api, posts_page
from notifier.channels.channel_registry import CHANNELS, demo_candidates, modes
from notifier.delivery.delivery_worker import DeliveryWorker
from notifier.demo_platforms import DemoPlatforms
from storage.base import utcnow

log = logging.getLogger(__name__)
NOTE_REFRESH_SECONDS = 15.0

__all__ = ["lifespan", "router"]

router = APIRouter(
    routes=[
        *posts_api.router.routes,
        *emergency_api.router.routes,
        *emergency_page.router.routes,
        *posts_page.router.routes,
        *demo_page.router.routes,
    ]
)


FEATURE_OF_MODE = {"live": "ready", "demo": "demo", "off": "not configured"}


def features(settings: Settings) -> dict[str, str]:
    """For `/readyz` and `check`: each channel of the registry, "ready" with its credentials, "demo"
    when it runs against the app's own fake (demo mode), else "not configured"."""
    return {name: FEATURE_OF_MODE[mode] for name, mode in modes(settings).items()}


def demo_note(names: list[str], worker_in_app: bool) -> str:
    """The `/readyz` note of demo mode."""
    labels = ", ".join(CHANNELS[n].label for n in names)
    note = (
        f"デモモード: {labels} はアプリ内の模擬サーバーに投稿します(/demo)/ "
        f"demo mode: {labels} post to the app's own fakes (see /demo), nowhere real"
    )
    if not worker_in_app:
        note += "; RUN_WORKER_IN_APP=false: only the in-app worker can deliver demo posts"
    return note


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    demo = DemoPlatforms(demo_candidates(settings))
    if demo.names:
        await anyio.to_thread.run_sync(demo.start)
        app.state.feature_notes["demo"] = demo_note(list(demo.names), settings.run_worker_in_app)
    app.state.demo_platforms = demo
    app.state.demo_labels = [CHANNELS[name].label for name in demo.names]  # the banner on every page
    app.state.channel_settings = bound = demo.bind(settings) if demo.names else settings
    app.state.feature_notes.update(channel_notes(settings))
    worker = DeliveryWorker(bound, mode="in-app") if settings.run_worker_in_app else None
    stop = asyncio.Event()
    tasks: list[asyncio.Task[Any]] = [asyncio.create_task(_keep_note(app, stop), name="notifier-note")]
    if worker is not None:
        tasks.append(asyncio.create_task(worker.run(), name="notifier-worker"))
    app.state.notifier_worker = worker
    try:
        yield
    finally:
        # stop (never cancel) both, so no thread still holds a database connection at shutdown
        stop.set()
        if worker is not None:
            worker.stop()
        await asyncio.gather(*tasks)
        await anyio.to_thread.run_sync(demo.stop)


async def _keep_note(app: FastAPI, stop: asyncio.Event) -> None:
    """Refresh `app.state.feature_notes["notifier"]` (workers alive, overdue deliveries) until `stop`."""
    while not stop.is_set():
        try:
            note = await app.state.db.read(_note, app)
        except SQLAlchemyError as exc:
            note = {"ok": False, "problems": [f"status unavailable: {type(exc).__name__}"]}
        app.state.feature_notes["notifier"] = note
        app.state.feature_notes.update(channel_notes(app.state.settings))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), NOTE_REFRESH_SECONDS)


def channel_notes(settings: Settings) -> dict[str, dict[str, Any]]:
    """The `/readyz` note of each configured channel that has one, for today in Japan."""
    today = utcnow().astimezone(JST).date()
    notes = {}
    for name, cls in CHANNELS.items():
        if not cls.missing_settings(settings) and (note := cls.readiness(settings, today)) is not None:
            notes[name] = note
    return notes


def _note(session: Session, app: FastAPI) -> dict[str, object]:
    data = delivery_health.summary(session, utcnow())
    in_app = app.state.settings.run_worker_in_app
    keys = ("ok", "problems", "workers_alive", "overdue", "oldest_overdue_at")
    return {**{k: data[k] for k in keys}, "worker_in_app": in_app}
