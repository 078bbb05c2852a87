"""Reports in the database: create (once-only), list with filters, and the JSON, GeoJSON (RFC 7946)
and CSV views. Functions of a session; the caller commits. What staff change is `reports.report_triage`."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.privacy import mask_pii
from reports.photo_files import StoredPhoto
from reports.report_kinds import BY_ID, category_label
from reports.reports_tables import DamageReport, ReportChange, Reporter, ReportPhoto
from storage.base import utcnow

MAX_NOTE = 1000
MAX_ADDRESS = 200
MAX_LIST = 500


class ReportError(ValueError):
    """A request that cannot be carried out (the message says why, Japanese first)."""


@dataclass(frozen=True)
class NewReport:
    category: str
    source: str
    note: str | None = None
    lat: float | None = None
    lon: float | None = None
    address: str | None = None
    reporter_id: int | None = None
    event_id: str | None = None
    author: str | None = None
    link: str | None = None
    external_id: str | None = None
    confirmed: bool = True


def check_place(lat: float | None, lon: float | None) -> None:
    """Both coordinates or neither, within WGS 84's range; raises `ReportError`."""
    if (lat is None) != (lon is None):
        raise ReportError("緯度と経度は両方指定してください / give both lat and lon")
    if lat is not None and lon is not None and not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise ReportError("緯度・経度の範囲が正しくありません / lat or lon out of range")


def masked_note(note: str | None) -> str | None:
    """The note cut to `MAX_NOTE` characters, with personal details masked (what is stored)."""
    text = (note or "").strip()[:MAX_NOTE]
    return mask_pii(text) if text else None


def create(session: Session, new: NewReport, actor: str) -> DamageReport | None:
    """Store a report and its first history line; None when it is already stored (the same LINE event
    or the same post of another network)."""
    if new.category not in BY_ID:
        raise ReportError(f"不明な種類です / unknown category {new.category[:40]!r}")
    check_place(new.lat, new.lon)
    if new.event_id is not None and session.scalar(
        select(DamageReport.id).where(DamageReport.event_id == new.event_id)
    ):
        return None
    if new.external_id is not None and session.scalar(
        select(DamageReport.id).where(
            DamageReport.source == new.source, DamageReport.external_id == new.external_id
        )
    ):
        return None
    now = utcnow()
    report = DamageReport(
        category=new.category,
        note=masked_note(new.note),
        lat=new.lat,
        lon=new.lon,
        address=(new.address or "").strip()[:MAX_ADDRESS] or None,
        status="new",
        source=new.source,
        confirmed=new.confirmed,
        reporter_id=new.reporter_id,
        author=new.author,
        link=new.link,
        external_id=new.external_id,
        event_id=new.event_id,
        created_at=now,
        updated_at=now,
    )
    session.add(report)
    session.flush()
    session.add(ReportChange(report_id=report.id, at=now, actor=actor, from_status=None, to_status="new"))
    return report


@dataclass(frozen=True)
class Filters:
    category: str | None = None
    status: str | None = None
    source: str | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    confirmed: bool | None = None
    limit: int = 200
    offset: int = 0
    duplicates: bool = True  # False: leave out the reports merged into another


def find(session: Session, filters: Filters) -> list[DamageReport]:
    """Reports matching the filters, newest first (at most `MAX_LIST`)."""
    stmt = select(DamageReport)
    if filters.category:
        stmt = stmt.where(DamageReport.category == filters.category)
    if filters.status:
        stmt = stmt.where(DamageReport.status == filters.status)
    if filters.source:
        stmt = stmt.where(DamageReport.source == filters.source)
    if filters.since:
        stmt = stmt.where(DamageReport.created_at >= filters.since)
    if filters.until:
        stmt = stmt.where(DamageReport.created_at < filters.until)
    if filters.confirmed is not None:
        stmt = stmt.where(DamageReport.confirmed == filters.confirmed)
    if not filters.duplicates:
        stmt = stmt.where(DamageReport.status != "duplicate")
    limit = max(1, min(MAX_LIST, filters.limit))
    stmt = stmt.order_by(DamageReport.created_at.desc(), DamageReport.id.desc())
    return list(session.scalars(stmt.limit(limit).offset(max(0, filters.offset))))


def add_stored_photo(
    session: Session, report_id: int, stored: StoredPhoto, channel: str = "upload"
) -> ReportPhoto:
    """The row of a photo already written under the media directory (an upload)."""
    row = ReportPhoto(
        report_id=report_id,
        state="stored",
        channel=channel,
        file_name=stored.file_name,
        thumb_name=stored.thumb_name,
        media_type=stored.media_type,
        size=stored.size,
    )
    session.add(row)
    session.flush()
    return row


def photos_of(session: Session, ids: Sequence[int]) -> dict[int, list[ReportPhoto]]:
    found: dict[int, list[ReportPhoto]] = {i: [] for i in ids}
    if ids:
        stmt = select(ReportPhoto).where(ReportPhoto.report_id.in_(ids)).order_by(ReportPhoto.id)
        for photo in session.scalars(stmt):
            found[photo.report_id].append(photo)
    return found


def duplicate_counts(session: Session, ids: Sequence[int]) -> dict[int, int]:
    """How many reports are merged into each of `ids` (main reports)."""
    if not ids:
        return {}
    stmt = (
        select(DamageReport.duplicate_of, func.count())
        .where(DamageReport.duplicate_of.in_(ids))
        .group_by(DamageReport.duplicate_of)
    )
    return {int(main): int(n) for main, n in session.execute(stmt) if main is not None}


def history_of(session: Session, report_id: int) -> list[ReportChange]:
    stmt = select(ReportChange).where(ReportChange.report_id == report_id).order_by(ReportChange.id)
    return list(session.scalars(stmt))


def counts(session: Session) -> dict[str, int]:
    rows = session.execute(select(DamageReport.status, func.count()).group_by(DamageReport.status))
    return {status: int(n) for status, n in rows}


def photo_json(photo: ReportPhoto) -> dict[str, Any]:
    stored = photo.state == "stored"
    return {
        "id": photo.id,
        "state": photo.state,
        "url": f"/api/v1/reports/photos/{photo.id}" if stored else None,
        "thumbnail_url": f"/api/v1/reports/photos/{photo.id}?thumbnail=true" if stored else None,
    }


def report_json(
    report: DamageReport, photos: Sequence[ReportPhoto] = (), duplicate_count: int = 0
) -> dict[str, Any]:
    """A report as staff see it: the reporter only as an opaque number; `duplicate_count`: the
    reports merged into it."""
    return {
        "id": report.id,
        "category": report.category,
        "category_label": category_label(report.category, "ja"),
        "status": report.status,
        "source": report.source,
        "confirmed": report.confirmed,
        "note": report.note,
        "lat": report.lat,
        "lon": report.lon,
        "address": report.address,
        "reporter": report.reporter_id,
        "author": report.author,
        "link": report.link,
        "duplicate_of": report.duplicate_of,
        "duplicate_count": duplicate_count,
        "created_at": report.created_at.isoformat(),
        "updated_at": report.updated_at.isoformat(),
        "photos": [photo_json(p) for p in photos],
    }


def listing(session: Session, reports: Sequence[DamageReport]) -> list[dict[str, Any]]:
    """The reports' JSON with their photos and how many reports are merged into each."""
    ids = [r.id for r in reports]
    photos, merged = photos_of(session, ids), duplicate_counts(session, ids)
    return [report_json(r, photos[r.id], merged.get(r.id, 0)) for r in reports]


def change_json(change: ReportChange) -> dict[str, Any]:
    return {
        "at": change.at.isoformat(),
        "actor": change.actor,
        "from": change.from_status,
        "to": change.to_status,
        "note": change.note,
    }


def geojson(reports: Sequence[DamageReport]) -> dict[str, Any]:
    """An RFC 7946 FeatureCollection of the reports with coordinates ([lon, lat], WGS 84)."""
    features = [
        {
            "type": "Feature",
            "id": r.id,
            "geometry": {"type": "Point", "coordinates": [r.lon, r.lat]},
            "properties": {
                "id": r.id,
                "category": r.category,
                "status": r.status,
                "source": r.source,
                "created_at": r.created_at.isoformat(),
                "note": mask_pii(r.note) if r.note else None,
            },
        }
        for r in reports
        if r.lat is not None and r.lon is not None
    ]
    return {"type": "FeatureCollection", "features": features}


CSV_COLUMNS = (
    "id", "created_at", "category", "category_label", "status", "source", "confirmed", "lat", "lon",
    "address", "note", "duplicate_of", "link",
)  # fmt: skip


def as_csv(reports: Sequence[DamageReport]) -> str:
    """UTF-8 CSV (with a BOM, for spreadsheet software) of the reports, one per row."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for r in reports:
        writer.writerow(
            [
                r.id, r.created_at.isoformat(), r.category, category_label(r.category, "ja"), r.status,
                r.source, "true" if r.confirmed else "false", _num(r.lat), _num(r.lon), _cell(r.address),
                _cell(mask_pii(r.note) if r.note else ""), r.duplicate_of or "", r.link or "",
            ]
        )  # fmt: skip
    return out.getvalue()


def _num(value: float | None) -> str:
    return "" if value is None else f"{value:.6f}"


def _cell(value: str | None) -> str:
    """A cell a spreadsheet will not run as a formula."""
    text = value or ""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def reporter_for(session: Session, line_user_id: str, channel: str, lang: str) -> Reporter:
    """The resident's reporter row (created on their first report)."""
    reporter = session.scalar(select(Reporter).where(Reporter.line_user_id == line_user_id))
    if reporter is None:
        reporter = Reporter(line_user_id=line_user_id, channel=channel, lang=lang)
        session.add(reporter)
        session.flush()
    else:
        reporter.lang = lang
    return reporter
