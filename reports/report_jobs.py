"""The reports area's background work in the app process: fetching residents' photos from LINE's content
endpoint, pushing status changes to reporters, and removing notes and photos past their retention.

Each photo and each push is a row (`report_photos`, `report_notices`) claimed with a short lease, so a
process killed in the middle loses nothing: the row is still pending and is claimed again once the
lease runs out (a file written before the kill is replaced; files are written atomically). A LINE
outage (5xx, 429, a timeout) is retried with growing delays; content LINE no longer has (404) or bytes
that are not a photo mark the photo `failed` with the reason, and the report keeps its other parts.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import anyio
from sqlalchemy import delete, exists, or_, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, aliased

from app.settings import Settings
from bot.conversation.line_messages import Message
from platforms.line_api import LineApi, LineApiError, LineClientError
from reports import line_flow, photo_files
from reports.reports_tables import DamageReport, ReportDraft, Reporter, ReportNotice, ReportPhoto
from storage.aio import AsyncDb
from storage.base import utcnow

log = logging.getLogger(__name__)
ApiFor = Callable[[str], Awaitable[LineApi]]


@dataclass(frozen=True)
class JobTuning:
    poll: float = 0.5  # seconds between looks for due photos and pushes
    lease: float = 120.0  # seconds a claimed row is ours
    batch: int = 8
    retry_delays: tuple[float, ...] = (5.0, 30.0, 120.0, 600.0)  # the last one repeats
    purge_every: float = 3600.0


def retry_delay(delays: Sequence[float], attempts: int) -> float:
    return delays[min(attempts, len(delays)) - 1] if attempts > 0 else delays[0]


def claim(
    session: Session, model: type[ReportPhoto] | type[ReportNotice], lease: float, batch: int
) -> list[int]:
    """Lease up to `batch` due pending rows; their IDs. A report's status pushes go one at a time, in
    the order they were queued: a push waits while an earlier one of its report is pending (in flight
    or waiting for a retry), so a resident never hears "handled" before "being checked"."""
    now = utcnow()
    due = (
        select(model.id)
        .where(
            model.state == "pending",
            or_(model.next_try_at.is_(None), model.next_try_at <= now),
            or_(model.lease_until.is_(None), model.lease_until < now),
        )
        .order_by(model.id)
        .limit(batch)
    )
    if model is ReportNotice:
        earlier = aliased(ReportNotice)
        due = due.where(
            ~exists().where(
                earlier.report_id == ReportNotice.report_id,
                earlier.state == "pending",
                earlier.id < ReportNotice.id,
            )
        )
    taken = []
    for row_id in session.scalars(due).all():
        result = session.execute(
            update(model)
            .where(model.id == row_id, or_(model.lease_until.is_(None), model.lease_until < now))
            .values(lease_until=now + dt.timedelta(seconds=lease))
        )
        if getattr(result, "rowcount", 0):
            taken.append(row_id)
    return taken


def settle(
    session: Session,
    *,
    model: type[ReportPhoto] | type[ReportNotice],
    row_id: int,
    state: str | None = None,
    error: str | None = None,
    retry_in: float | None = None,
    **values: object,
) -> None:
    """Record a row's outcome: a final `state`, or another try in `retry_in` seconds."""
    changes: dict[str, object] = {"lease_until": None, "error": error[:300] if error else None, **values}
    if retry_in is not None:
        changes |= {"attempts": model.attempts + 1, "next_try_at": utcnow() + dt.timedelta(seconds=retry_in)}
    if state is not None:
        changes["state"] = state
    session.execute(update(model).where(model.id == row_id).values(changes))


class ReportJobs:
    """One per app process: started and stopped by the reports area's lifespan."""

    def __init__(
        self, db: AsyncDb, api_for: ApiFor, settings: Settings, tuning: JobTuning | None = None
    ) -> None:
        self.db = db
        self.api_for = api_for
        self.media_dir: Path = settings.report_media_dir
        self.max_bytes = settings.report_photo_max_bytes
        self.retention = dt.timedelta(days=settings.report_retention_days)
        self.tuning = tuning or JobTuning()
        self._wake = asyncio.Event()
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def wake(self) -> None:
        """Look for due work now (called on the event loop)."""
        self._wake.set()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="report-jobs")

    async def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait_for(self._task, timeout=5.0)

    async def _loop(self) -> None:
        last_purge = float("-inf")
        loop = asyncio.get_running_loop()
        while not self._stop.is_set():
            try:
                busy = await self.run_once()
                if loop.time() - last_purge > self.tuning.purge_every:
                    last_purge = loop.time()
                    await self.purge()
            except SQLAlchemyError as exc:
                log.warning("report jobs: database error (%s)", type(exc).__name__)
                busy = False
            if busy:
                continue
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.tuning.poll)

    async def run_once(self) -> bool:
        """Fetch the due photos and send the due pushes of one batch; True when there was work."""
        photos = await self.db.write(claim, ReportPhoto, self.tuning.lease, self.tuning.batch)
        notices = await self.db.write(claim, ReportNotice, self.tuning.lease, self.tuning.batch)
        await asyncio.gather(*(self.fetch(p) for p in photos), *(self.push(n) for n in notices))
        return bool(photos or notices)

    async def _settle(
        self, model: type[ReportPhoto] | type[ReportNotice], row_id: int, **values: object
    ) -> None:
        await self.db.write(partial(settle, model=model, row_id=row_id, **values))  # type: ignore[arg-type]

    # ---- photos ----

    async def fetch(self, photo_id: int) -> None:
        row = await self.db.read(lambda s: s.get(ReportPhoto, photo_id))
        if row is None or row.message_id is None:
            return
        try:
            api = await self.api_for(row.channel)
            data = await api.content(row.message_id)
            stored = await anyio.to_thread.run_sync(photo_files.store, self.media_dir, data, self.max_bytes)
        except photo_files.PhotoRejected as exc:
            await self._settle(ReportPhoto, photo_id, state="failed", error=str(exc))
            return
        except LineClientError as exc:  # 404: LINE no longer has it; 400/401/403: it never will
            log.warning(
                "report photo not available from LINE", extra={"photo": photo_id, "error": str(exc)[:200]}
            )
            await self._settle(ReportPhoto, photo_id, state="failed", error=str(exc))
            return
        except LineApiError as exc:  # an outage or a rate limit: later
            delay = retry_delay(self.tuning.retry_delays, row.attempts + 1)
            log.info("report photo: LINE unavailable, retrying", extra={"photo": photo_id, "in": delay})
            await self._settle(ReportPhoto, photo_id, error=str(exc), retry_in=delay)
            return
        await self._settle(
            ReportPhoto,
            photo_id,
            state="stored",
            file_name=stored.file_name,
            thumb_name=stored.thumb_name,
            media_type=stored.media_type,
            size=stored.size,
        )

    # ---- pushes ----

    async def push(self, notice_id: int) -> None:
        found = await self.db.read(_notice_target, notice_id)
        if found is None:
            await self._settle(ReportNotice, notice_id, state="dropped", error="no LINE reporter")
            return
        user, channel, message, retry_key, attempts = found
        try:
            api = await self.api_for(channel)
            await api.push(user, [_sdk(message)], retry_key)
        except LineClientError as exc:
            await self._settle(ReportNotice, notice_id, state="failed", error=str(exc))
            return
        except LineApiError as exc:
            delay = retry_delay(self.tuning.retry_delays, attempts + 1)
            await self._settle(ReportNotice, notice_id, error=str(exc), retry_in=delay)
            return
        await self._settle(ReportNotice, notice_id, state="sent")

    # ---- retention ----

    async def purge(self) -> int:
        """Remove the notes and photos of reports handled (or closed) longer ago than the retention, and
        drafts that expired more than a day ago."""
        names: list[str] = await self.db.write(_expire, utcnow() - self.retention)
        photo_files.remove(self.media_dir, *names)
        return len(names)


def _notice_target(session: Session, notice_id: int) -> tuple[str, str, Message, str, int] | None:
    """(LINE user, channel, message, retry key, attempts) of a push, or None when the reporter left."""
    row = session.execute(
        select(ReportNotice, DamageReport.id, Reporter)
        .join(DamageReport, DamageReport.id == ReportNotice.report_id)
        .join(Reporter, Reporter.id == DamageReport.reporter_id)
        .where(ReportNotice.id == notice_id)
    ).first()
    if row is None:
        return None
    notice, report_id, reporter = row
    if reporter.line_user_id is None:
        return None
    message = line_flow.status_message(line_flow.report_number(report_id), notice.status, reporter.lang)
    return reporter.line_user_id, reporter.channel, message, notice.retry_key, notice.attempts


def _sdk(message: Message) -> object:
    from linebot.v3 import messaging as lm

    return lm.Message.from_dict(message)


def _expire(session: Session, before: dt.datetime) -> list[str]:
    closed = ("handled", "duplicate", "not_actionable")
    old = select(DamageReport.id).where(DamageReport.status.in_(closed), DamageReport.updated_at < before)
    photos = session.scalars(select(ReportPhoto).where(ReportPhoto.report_id.in_(old))).all()
    names = [n for p in photos for n in (p.file_name, p.thumb_name) if n]
    for photo in photos:
        session.delete(photo)
    session.execute(update(DamageReport).where(DamageReport.id.in_(old)).values(note=None))
    # drafts nobody finished: kept a day after they expire, so an old button still says "expired"
    session.execute(delete(ReportDraft).where(ReportDraft.expires_at < utcnow() - dt.timedelta(days=1)))
    return names
