"""Retention: a report closed longer ago than REPORT_RETENTION_DAYS loses its note and photos (files
too); open reports and recently closed ones keep theirs."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from app.settings import Settings
from reports import photo_files
from reports import report_store as store
from reports.report_jobs import ReportJobs
from reports.reports_tables import DamageReport, ReportDraft, ReportPhoto
from storage.aio import AsyncDb
from storage.base import utcnow
from storage.db import session_scope
from tests.reports.photo_samples import png


def add(s: Session, settings: Settings, status: str, days_ago: int) -> int:
    report = store.create(s, store.NewReport("fire", "phone", "メモ", address="千里山"), "kouhou")
    assert report is not None
    saved = photo_files.store(settings.report_media_dir, png(), 1_000_000)
    store.add_stored_photo(s, report.id, saved)
    at = utcnow() - dt.timedelta(days=days_ago)
    s.execute(update(DamageReport).where(DamageReport.id == report.id).values(status=status, updated_at=at))
    return report.id


def test_old_closed_reports_lose_notes_and_photos(
    settings: Settings, sessions: sessionmaker[Session]
) -> None:
    with session_scope(sessions) as s:
        s.add(
            ReportDraft(
                line_user_id="U1", step="note", answers="{}", expires_at=utcnow() - dt.timedelta(days=2)
            )
        )
        s.add(ReportDraft(line_user_id="U2", step="note", answers="{}", expires_at=utcnow()))
        old = add(s, settings, "handled", 400)
        recent = add(s, settings, "handled", 10)
        still_open = add(s, settings, "checking", 400)

    async def purge() -> int:
        db = AsyncDb(sessions)
        try:
            jobs = ReportJobs(db, lambda channel: None, settings)  # type: ignore[arg-type,return-value]
            return await jobs.purge()
        finally:
            await db.close()

    assert asyncio.run(purge()) == 2  # the photo and its thumbnail
    with sessions() as s:
        notes = dict(s.execute(select(DamageReport.id, DamageReport.note)).all())
        photos = {p.report_id for p in s.scalars(select(ReportPhoto))}
    assert notes == {old: None, recent: "メモ", still_open: "メモ"}
    assert photos == {recent, still_open}
    with sessions() as s:
        assert list(s.scalars(select(ReportDraft.line_user_id))) == ["U2"]
    assert len(list(Path(settings.report_media_dir).iterdir())) == 4
