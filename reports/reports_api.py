"""Report endpoints under /api/v1 and the staff page /reports.

- `GET /api/v1/report-categories`: `[{"id", "labels": {lang: text}}]` (public: no personal data).
- `POST /api/v1/reports` (editor; multipart `category`, `note`, `lat`+`lon` or `address`, optional
  `photo`): a report taken by phone (source `phone`); 201 with the report.
- `GET /api/v1/reports` (staff; filters `category`, `status`, `source`, `since`, `until`, `confirmed`,
  `limit`, `offset`), `GET /api/v1/reports/{id}` (with its history), `GET /api/v1/reports.geojson`,
  `GET /api/v1/reports.csv`, `GET /api/v1/reports/photos/{id}` (staff only; `?thumbnail=true`).
- `POST /api/v1/reports/{id}/status` (editor; JSON `status`, `note`, `duplicate_of`).
- `PATCH /api/v1/reports/{id}` (editor; JSON `category`, `lat`+`lon`, `address`): a correction.
- `POST /api/v1/reports/{id}/merge` and `/unmerge` (editor; JSON `duplicates`, `note`): merge other
  reports into this main report as its duplicates, or undo that.
- `POST /api/v1/reports/{id}/confirm` and `/dismiss` (editor; JSON `note`): a collected post.
Every change by staff is also an audit event (`reports.report_triage`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Depends, File, Form, HTTPException, Query, Request, UploadFile
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from app import audit
from app.auth import EDITOR_ROLES, EditorDep, OptionalStaffDep, StaffDep, sign_in_redirect
from app.deps import MAX_ROW_ID, RowId, SessionDep, SettingsDep
from app.request_limits import MAX_BODY_BYTES
from app.staff_tables import StaffUser
from app.templating import render
from reports import photo_files
from reports import report_store as store
from reports import report_triage as triage
from reports.report_kinds import CATEGORIES, SOURCES, STATUS_LABELS, STATUSES
from reports.reports_tables import DamageReport, ReportPhoto

router = APIRouter(tags=["reports"])
Since = Annotated[dt.datetime | None, Query(description="Created at or after (ISO 8601)")]
Until = Annotated[dt.datetime | None, Query(description="Created before (ISO 8601)")]
GEOJSON = "application/geo+json"
MAX_SHOWN_DUPLICATES = 100  # merged reports in a detail view (the count says how many in all)
RowIdValue = Annotated[int, Field(ge=1, le=MAX_ROW_ID)]  # a report id in a JSON body (as `RowId`)


def filter_args(
    category: Annotated[str | None, Query(max_length=32)] = None,
    status: Annotated[str | None, Query(max_length=16)] = None,
    source: Annotated[str | None, Query(max_length=16)] = None,
    since: Since = None,
    until: Until = None,
    confirmed: bool | None = None,
    limit: Annotated[int, Query(ge=1, le=store.MAX_LIST)] = store.MAX_LIST,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    duplicates: Annotated[bool, Query(description="false: leave out reports merged into another")] = True,
) -> store.Filters:
    """The filters of the list, GeoJSON and CSV (a time without a zone is UTC)."""
    aware = [t if t is None or t.tzinfo else t.replace(tzinfo=dt.UTC) for t in (since, until)]
    return store.Filters(category, status, source, aware[0], aware[1], confirmed, limit, offset, duplicates)


Filtered = Annotated[store.Filters, Depends(filter_args)]


@router.get("/api/v1/report-categories")
def report_categories() -> list[dict[str, Any]]:
    """The categories a report can have, with their labels in each language."""
    return [{"id": c.id, "labels": c.labels} for c in CATEGORIES]


@router.get("/api/v1/reports")
def list_reports(
    session: SessionDep,
    _staff: StaffDep,
    filters: Filtered,
) -> dict[str, Any]:
    """Reports, newest first, with the number of reports in each status."""
    return {"reports": store.listing(session, store.find(session, filters)), "counts": store.counts(session)}


@router.get("/api/v1/reports.geojson", response_class=Response)
def reports_geojson(
    session: SessionDep,
    _staff: StaffDep,
    filters: Filtered,
) -> Response:
    """An RFC 7946 FeatureCollection of the reports with a place (notes masked)."""
    return JSONResponse(store.geojson(store.find(session, filters)), media_type=GEOJSON)


@router.get("/api/v1/reports.csv", response_class=Response)
def reports_csv(
    session: SessionDep,
    _staff: StaffDep,
    filters: Filtered,
) -> Response:
    """The reports as UTF-8 CSV (notes masked), for spreadsheets and open data."""
    return Response(
        store.as_csv(store.find(session, filters)),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="suita-damage-reports.csv"'},
    )


@router.get("/api/v1/reports/{report_id}")
def get_report(report_id: RowId, session: SessionDep, _staff: StaffDep) -> dict[str, Any]:
    """One report with its photos and history."""
    report = session.get(DamageReport, report_id)
    if report is None:
        raise HTTPException(404, "通報が見つかりません / no such report")
    return _detail(session, report)


@router.post("/api/v1/reports", status_code=201)
async def create_report(
    request: Request,
    editor: EditorDep,
    settings: SettingsDep,
    category: Annotated[str, Form(max_length=32, description="An id of GET /api/v1/report-categories")],
    note: Annotated[str, Form(max_length=store.MAX_NOTE * 2)] = "",
    lat: Annotated[float | None, Form(ge=-90, le=90)] = None,
    lon: Annotated[float | None, Form(ge=-180, le=180)] = None,
    address: Annotated[str, Form(max_length=store.MAX_ADDRESS)] = "",
    photo: Annotated[UploadFile | None, File(description="JPEG or PNG")] = None,
) -> dict[str, Any]:
    """A report taken by phone (source `phone`): needs a place (`lat` and `lon`, or `address`)."""
    new = store.NewReport(category, "phone", note, lat, lon, address)
    try:
        store.check_place(lat, lon)
    except store.ReportError as exc:
        raise HTTPException(422, str(exc)) from None
    if lat is None and not address.strip():
        raise HTTPException(
            422, "場所(緯度・経度または住所)を指定してください / give lat and lon, or address"
        )
    stored: photo_files.StoredPhoto | None = None
    if photo is not None and photo.filename:
        cap = min(settings.report_photo_max_bytes, MAX_BODY_BYTES)
        data = await photo.read(cap + 1)
        try:
            stored = await anyio.to_thread.run_sync(photo_files.store, settings.report_media_dir, data, cap)
        except photo_files.PhotoRejected as exc:
            raise HTTPException(422, str(exc)) from None

    origin = audit.Origin.of(request)

    def save(session: Session) -> dict[str, Any]:
        report = store.create(session, new, editor.username)
        assert report is not None  # no event or external ID: never a repeat
        photos = [store.add_stored_photo(session, report.id, stored)] if stored is not None else []
        created = store.report_json(report, photos)
        summary = {"changes": audit.changes({}, triage.fields(report)), "photos": len(photos)}
        audit.record(session, audit.Actor.of(editor), origin, "report.create", "report", report.id, summary)
        return created

    try:
        created: dict[str, Any] = await request.app.state.db.run(save)
    except store.ReportError as exc:
        _discard(settings.report_media_dir, stored)
        raise HTTPException(422, str(exc)) from None
    except BaseException:
        _discard(settings.report_media_dir, stored)
        raise
    return created


def _discard(media_dir: Path, stored: photo_files.StoredPhoto | None) -> None:
    if stored is not None:
        photo_files.remove(media_dir, stored.file_name, stored.thumb_name)


async def _triage(
    request: Request, act: Callable[[Session], DamageReport], shown: int | None = None
) -> dict[str, Any]:
    """Run a staff action in one transaction; the report `shown` (default: the one acted on) in detail.
    A missing report is 404, any other refusal 422 (Japanese first)."""

    def save(session: Session) -> dict[str, Any]:
        report = act(session)
        return _detail(session, report if shown is None else session.get(DamageReport, shown) or report)

    try:
        detail: dict[str, Any] = await request.app.state.db.run(save)
    except store.ReportError as exc:
        raise HTTPException(404 if str(exc) == triage.NO_SUCH_REPORT else 422, str(exc)) from None
    return detail


def _act(request: Request, editor: StaffUser) -> triage.StaffAct:
    return triage.StaffAct(audit.Actor.of(editor), audit.Origin.of(request))


def _wake_notices(request: Request) -> None:
    """Pushes were queued: the notice worker sends them now rather than at its next poll."""
    wake = getattr(request.app.state, "report_notices_wake", None)
    if wake is not None:
        wake()


class StatusChange(BaseModel):
    status: str = Field(max_length=16, description=f"One of {', '.join(STATUSES)}")
    note: str | None = Field(default=None, max_length=store.MAX_NOTE)
    duplicate_of: int | None = Field(default=None, ge=1, le=MAX_ROW_ID)


@router.post("/api/v1/reports/{report_id}/status")
async def change_status(
    report_id: RowId, body: StatusChange, request: Request, editor: EditorDep
) -> dict[str, Any]:
    """Move a report to a status, with a note (recorded in its history and the audit log; the reporter
    on LINE, and the residents who filed its duplicates, are told when it is being checked and when it
    is handled). `duplicate` needs `duplicate_of`: the same as merging this report into that one."""
    act = _act(request, editor)
    if body.status == "duplicate":
        if body.duplicate_of is None:
            raise HTTPException(422, "重複先の通報番号を指定してください / duplicate needs duplicate_of")
        main = body.duplicate_of
        changed = await _triage(
            request, lambda s: triage.merge(s, main, [report_id], act, note=body.note), report_id
        )
    elif body.duplicate_of is not None:
        raise HTTPException(
            422, "duplicate_of は状態 duplicate のときだけ指定できます / duplicate_of needs status duplicate"
        )
    else:
        changed = await _triage(
            request, lambda s: triage.change_status(s, report_id, body.status, act, note=body.note)
        )
    _wake_notices(request)
    return changed


class ReportCorrection(BaseModel):
    category: str | None = Field(default=None, max_length=32)
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    address: str | None = Field(default=None, max_length=store.MAX_ADDRESS)


@router.patch("/api/v1/reports/{report_id}")
async def correct_report(
    report_id: RowId, body: ReportCorrection, request: Request, editor: EditorDep
) -> dict[str, Any]:
    """Correct a report's category and place (`lat`+`lon`, `address`; `""` clears the address); the
    change is recorded in its history and the audit log."""
    fix = triage.Correction(body.category, body.lat, body.lon, body.address)
    act = _act(request, editor)
    return await _triage(request, lambda s: triage.correct(s, report_id, fix, act))


class Merge(BaseModel):
    duplicates: list[RowIdValue] = Field(min_length=1, max_length=triage.MAX_MERGE)
    note: str | None = Field(default=None, max_length=store.MAX_NOTE)


@router.post("/api/v1/reports/{report_id}/merge")
async def merge_reports(report_id: RowId, body: Merge, request: Request, editor: EditorDep) -> dict[str, Any]:
    """Merge the reports `duplicates` into this main report (their status becomes `duplicate`). The
    main report must not be a duplicate; a merged report's own duplicates move here with it. Returns
    the main report with its duplicates."""
    act = _act(request, editor)
    merged = await _triage(
        request, lambda s: triage.merge(s, report_id, body.duplicates, act, note=body.note)
    )
    _wake_notices(request)
    return merged


@router.post("/api/v1/reports/{report_id}/unmerge")
async def unmerge_reports(
    report_id: RowId, body: Merge, request: Request, editor: EditorDep
) -> dict[str, Any]:
    """Undo a merge: each of `duplicates` leaves this main report and gets back its earlier status."""
    act = _act(request, editor)
    return await _triage(
        request, lambda s: triage.unmerge(s, report_id, body.duplicates, act, note=body.note)
    )


class ReportReview(BaseModel):
    note: str | None = Field(default=None, max_length=store.MAX_NOTE)


@router.post("/api/v1/reports/{report_id}/confirm")
async def confirm_report(
    report_id: RowId, body: ReportReview, request: Request, editor: EditorDep
) -> dict[str, Any]:
    """A person confirms a post collected from another network: it counts from now on."""
    act = _act(request, editor)
    return await _triage(request, lambda s: triage.confirm(s, report_id, act, note=body.note))


@router.post("/api/v1/reports/{report_id}/dismiss")
async def dismiss_report(
    report_id: RowId, body: ReportReview, request: Request, editor: EditorDep
) -> dict[str, Any]:
    """A person dismisses a collected post (status `not_actionable`)."""
    act = _act(request, editor)
    return await _triage(request, lambda s: triage.confirm(s, report_id, act, dismiss=True, note=body.note))


def _detail(session: Session, report: DamageReport) -> dict[str, Any]:
    """One report with its photos and history, and the reports merged into it (a combined view:
    their photos, notes, sources and times)."""
    merged = triage.duplicates_of(session, report.id, limit=MAX_SHOWN_DUPLICATES)
    count = store.duplicate_counts(session, [report.id]).get(report.id, 0)
    photos = store.photos_of(session, [report.id, *(d.id for d in merged)])
    history = [store.change_json(c) for c in store.history_of(session, report.id)]
    return {
        **store.report_json(report, photos[report.id], count),
        "history": history,
        "duplicates": [store.report_json(d, photos[d.id]) for d in merged],
    }


@router.get("/api/v1/reports/photos/{photo_id}", response_class=Response)
def report_photo(
    photo_id: RowId, session: SessionDep, settings: SettingsDep, _staff: StaffDep, thumbnail: bool = False
) -> Response:
    """A stored photo (or its thumbnail): staff only, never cached by shared caches."""
    photo = session.get(ReportPhoto, photo_id)
    name = (photo.thumb_name if thumbnail else photo.file_name) if photo is not None else None
    path = photo_files.path_of(settings.report_media_dir, name) if name else None
    if photo is None or path is None:
        raise HTTPException(404, "写真が見つかりません / no such photo")
    media = "image/jpeg" if thumbnail else (photo.media_type or "image/jpeg")
    return FileResponse(path, media_type=media, headers={"Cache-Control": "private, max-age=3600"})


@router.get("/reports", response_class=HTMLResponse, include_in_schema=False)
def reports_page(request: Request, settings: SettingsDep, staff: OptionalStaffDep) -> Response:
    if staff is None:
        return sign_in_redirect(request)
    context = {
        "active": "reports",
        "categories": CATEGORIES,
        "statuses": STATUS_LABELS,
        "sources": SOURCES,
        "can_edit": staff.role in EDITOR_ROLES,
        "tile_url": settings.report_map_tile_url,
        "attribution": settings.report_map_attribution,
    }
    return render(request, "pages/reports.html.j2", context)
