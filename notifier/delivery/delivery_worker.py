"""The delivery worker loop: claim due deliveries, send up to N at once, run periodic jobs, heartbeat.

Runs standalone (`python -m notifier worker [--once]`) or inside the app (RUN_WORKER_IN_APP). Any
number of workers can share one PostgreSQL database; on SQLite they share one file.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import functools
import logging
import os
import socket
from typing import Any

from sqlalchemy import update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from app.settings import Settings
from notifier import periodic_jobs
from notifier.channels.channel_base import Channel
from notifier.delivery import claims
from notifier.delivery.dispatcher import Dispatcher
from notifier.ledger_tables import NotifierWorker
from storage.aio import AsyncDb
from storage.base import utcnow
from storage.db import make_engine, make_sessionmaker
from storage.leases import owner_name

log = logging.getLogger(__name__)
HEARTBEAT_SECONDS = 5.0
DB_PATIENCE = 60.0  # seconds a database step is retried while the database restarts
MIN_PAUSE = 0.01  # seconds: a due time just passed (another worker is claiming it) is not a busy loop


class DeliveryWorker:
    """One delivery worker."""

    def __init__(
        self,
        settings: Settings,
        *,
        mode: str = "standalone",
        worker_id: str | None = None,
        channels: dict[str, Channel] | None = None,
    ) -> None:
        self.settings = settings
        self.mode = mode
        self.id = worker_id or owner_name()
        self.concurrency = settings.notifier_concurrency
        self.db_engine = make_engine(settings.database_url, pool_size=self.concurrency + 2)
        self.sessions = make_sessionmaker(self.db_engine)
        self.db = AsyncDb(self.sessions, threads=2 * self.concurrency + 4, patience=DB_PATIENCE)
        self.dispatcher = Dispatcher(settings, self.db, worker=self.id, channels=channels)
        self.processed = 0
        self._stop = asyncio.Event()
        self._wake = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._inflight: set[asyncio.Task[None]] = set()
        self._jobs: dict[str, asyncio.Task[None]] = {}
        self._last_beat = 0.0
        self._due_by: dt.datetime | None = None

    def stop(self) -> None:
        """Finish what is in flight, then return from `run`."""
        self._stop.set()

    def wake(self) -> None:
        """Look for due deliveries now instead of at the next poll (thread-safe: the staff API calls it
        from its request threads after scheduling something in this process)."""
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._wake.set)

    async def run(self, *, once: bool = False) -> int:
        """Work until `stop()` (or, with `once`, until what was due when it started is done: a retry
        scheduled meanwhile waits for the next run); returns deliveries processed."""
        self._due_by = utcnow() if once else None
        log.info("notifier worker %s started (%s)", self.id, self.mode, extra={"worker": self.id})
        self._loop = asyncio.get_running_loop()
        try:
            while not self._stop.is_set():
                await self._housekeeping(once)
                claimed, asked = await self._fill()
                if once and not claimed and not self._inflight:
                    break
                # a full claim means more may be due: go on as soon as a slot frees up
                more = asked > 0 and claimed == asked
                timeout = None if more or once else await self._until_next_due()
                await self._pause(
                    wake_on_slot=more or once or len(self._inflight) >= self.concurrency, timeout=timeout
                )
        finally:
            await self._drain()
        log.info("notifier worker %s stopped after %d deliveries", self.id, self.processed)
        return self.processed

    async def _fill(self) -> tuple[int, int]:
        """Claim up to the free slots and start them: (claimed, asked)."""
        free = self.concurrency - len(self._inflight)
        if free <= 0:
            return 0, 0
        try:
            ids = await self.db.run(
                claims.claim,
                worker=self.id,
                now=utcnow(),
                lease=self.settings.notifier_lease_seconds,
                limit=free,
                due_by=self._due_by,
            )
        except SQLAlchemyError as exc:
            log.warning("claim failed (%s); retrying", type(exc).__name__)
            return 0, 0
        for delivery_id in ids:
            task = asyncio.create_task(self._process(delivery_id))
            self._inflight.add(task)
            task.add_done_callback(self._inflight.discard)
        return len(ids), free

    async def _process(self, delivery_id: int) -> None:
        try:
            await self.dispatcher.process(delivery_id)
        except Exception:  # its lease runs out and another claim settles it
            log.exception("delivery %s could not be processed", delivery_id)
        finally:
            self.processed += 1

    async def _until_next_due(self) -> float | None:
        """Seconds until the earliest pending delivery is due, so a post scheduled for 09:00:00 goes out
        then and not at the next poll; None when nothing is pending (or the database cannot say)."""
        try:
            when = await self.db.run(claims.next_due)
        except SQLAlchemyError:
            return None
        return None if when is None else max((when - utcnow()).total_seconds(), MIN_PAUSE)

    async def _pause(self, *, wake_on_slot: bool, timeout: float | None = None) -> None:
        """Wait for the poll interval, or less: until `timeout`, `wake()`, stopped, or a slot frees up if
        `wake_on_slot`."""
        stop = asyncio.create_task(self._stop.wait())
        woken = asyncio.create_task(self._wake.wait())
        waiters: set[asyncio.Future[Any]] = {stop, woken}
        if wake_on_slot:
            waiters |= set(self._inflight)
        poll = self.settings.notifier_poll_seconds
        await asyncio.wait(waiters, timeout=min(poll, timeout or poll), return_when=asyncio.FIRST_COMPLETED)
        stop.cancel()
        woken.cancel()
        self._wake.clear()

    async def _drain(self) -> None:
        if self._inflight:
            await asyncio.gather(*self._inflight, return_exceptions=True)
        if self._jobs:
            await asyncio.gather(*self._jobs.values(), return_exceptions=True)
        with contextlib.suppress(SQLAlchemyError):
            await self.db.run(_beat, self.id, self.mode, self.processed, stopped=True)
        await self.dispatcher.aclose()
        self.db_engine.dispose()

    async def _housekeeping(self, once: bool) -> None:
        """Heartbeat and periodic jobs, every few seconds (and at once on the first round)."""
        loop = asyncio.get_running_loop()
        if self._last_beat and loop.time() - self._last_beat < HEARTBEAT_SECONDS:
            return
        self._last_beat = loop.time()
        try:
            await self.db.run(_beat, self.id, self.mode, self.processed)
            for job in periodic_jobs.registered():
                if job.name not in self._jobs and await self.db.run(
                    periodic_jobs.take, job, worker=self.id, now=utcnow()
                ):
                    task = asyncio.create_task(self._run_job(job))
                    self._jobs[job.name] = task
                    task.add_done_callback(functools.partial(self._job_done, job.name))
        except SQLAlchemyError as exc:
            log.warning("heartbeat failed (%s)", type(exc).__name__)

    def _job_done(self, name: str, _task: asyncio.Task[None]) -> None:
        self._jobs.pop(name, None)

    async def _run_job(self, job: periodic_jobs.PeriodicJob) -> None:
        ctx = periodic_jobs.JobContext(self.settings, self.sessions, self.id, utcnow())
        error = None
        try:
            await job.run(ctx)
        except Exception as exc:
            log.exception("periodic job %s failed", job.name)
            error = f"{type(exc).__name__}: {exc}"[:500]
        try:
            await self.db.run(periodic_jobs.done, job, worker=self.id, now=utcnow(), error=error)
        except SQLAlchemyError:
            log.warning("could not record the end of job %s; its lease will expire", job.name)


def _beat(session: Session, worker_id: str, mode: str, processed: int, *, stopped: bool = False) -> None:
    now = utcnow()
    values = {"heartbeat_at": now, "processed": processed, "stopped_at": now if stopped else None}
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    stmt = insert(NotifierWorker).values(
        id=worker_id, host=socket.gethostname()[:200], pid=os.getpid(), mode=mode, started_at=now, **values
    )
    session.execute(stmt.on_conflict_do_update(index_elements=["id"], set_=values))
    if stopped:
        session.execute(update(NotifierWorker).where(NotifierWorker.id == worker_id).values(stopped_at=now))
