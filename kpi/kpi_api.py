"""KPI endpoints: JSON report, CSV export, PNG/SVG chart and history import under /api/v1/kpi, and the
staff page /kpi.

Staff only (any role to read, the editor role to import). The follower counts themselves are public,
but the report also shows why fetches failed (operational details of the city's accounts), and drawing
a chart costs CPU, which a public endpoint would expose to anyone. Staff publish the figures through
the city's own channels with the CSV and PNG exports.

Each channel is one account (the configured one). Figures of demo mode (channels bound to the app's
fakes) are a report of their own, `?demo=true`, labelled as demo and never added to real history.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, File, Form, HTTPException, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from app import audit
from app.auth import EDITOR_ROLES, EditorDep, OptionalStaffDep, StaffDep, sign_in_redirect
from app.deps import SessionDep, SettingsDep
from app.settings import Settings
from app.templating import render
from kpi.fetch_log import recent_problems
from kpi.follower_sources import configured_accounts
from kpi.history_import import CsvImportError, ImportResult, decode, import_csv
from kpi.jst_dates import jst_date
from kpi.kpi_channels import CHANNEL_LABELS
from kpi.report import Report
from kpi.report_export import report_csv, report_json
from kpi.report_loader import Options, RangeError, latest_snapshots, load_report
from kpi.snapshot_store import snapshot_span
from kpi.targets import load_targets
from storage.base import utcnow
from storage.db import begin_immediate

router = APIRouter(tags=["kpi"])
__all__ = ["router"]  # this module is the KPI area in `app.main.AREAS` (collection: `job`)
From = Annotated[dt.date | None, Query(alias="from", description="First date (JST), YYYY-MM-DD")]
To = Annotated[dt.date | None, Query(alias="to", description="Last date (JST), YYYY-MM-DD; default today")]
Demo = Annotated[bool, Query(description="The demo-mode figures (the app's fakes) instead of the real ones")]
MEDIA = {"png": "image/png", "svg": "image/svg+xml"}
MAX_UPLOAD_BYTES = 2 * 1024 * 1024


def _load(
    session: Session, settings: Settings, start: dt.date | None, end: dt.date | None, demo: bool
) -> Report:
    return load_report(
        session,
        start,
        end,
        today=jst_date(utcnow()),
        options=Options.from_settings(settings),
        demo=demo,
        names={} if demo else configured_accounts(settings),
    )


def _report(
    session: Session, settings: Settings, start: dt.date | None, end: dt.date | None, demo: bool = False
) -> Report:
    try:
        return _load(session, settings, start, end, demo)
    except RangeError as exc:
        raise HTTPException(422, f"期間の指定が正しくありません / {exc}") from None


@router.get("/api/v1/kpi/report")
def kpi_report(
    session: SessionDep,
    settings: SettingsDep,
    _staff: StaffDep,
    start: From = None,
    end: To = None,
    demo: Demo = False,
) -> dict[str, Any]:
    """Total and per-channel followers, targets, monthly growth, the projection and data gaps."""
    return {**report_json(_report(session, settings, start, end, demo)), "demo": demo}


@router.get("/api/v1/kpi/report.csv", response_class=Response)
def kpi_csv(
    session: SessionDep,
    settings: SettingsDep,
    _staff: StaffDep,
    start: From = None,
    end: To = None,
    demo: Demo = False,
) -> Response:
    """One row per date: total, estimated flag, each channel and the target (empty cells: unknown)."""
    report = _report(session, settings, start, end, demo)
    name = f"suita-sns-followers{'_DEMO' if demo else ''}_{report.start}_{report.end}.csv"
    return Response(
        report_csv(report),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/api/v1/kpi/chart.{fmt}", response_class=Response)
def kpi_chart(
    fmt: Literal["png", "svg"],
    session: SessionDep,
    settings: SettingsDep,
    _staff: StaffDep,
    start: From = None,
    end: To = None,
    channels: bool = True,
    demo: Demo = False,
) -> Response:
    """Actual total (and each channel) against the targets, with the projection."""
    from kpi.chart import render_chart  # matplotlib (~40 MB): only loaded when drawing

    report = _report(session, settings, start, end, demo)
    return Response(
        render_chart(report, fmt, channels=channels),
        media_type=MEDIA[fmt],
        headers={"Cache-Control": "private, max-age=60"},
    )


def import_counts(result: ImportResult) -> dict[str, Any]:
    return {"note": f"{result.added} added, {result.replaced} replaced, {result.unchanged} unchanged"}


def kpi_audited(
    session: Session,
    actor: audit.Actor,
    origin: audit.Origin,
    action: str,
    object_id: str,
    summary: dict[str, Any],
) -> None:
    """Record a KPI import or target change in the audit log (same transaction)."""
    audit.record(session, actor, origin, action, "kpi", object_id, summary)


@router.post("/api/v1/kpi/import", responses={422: {"description": "`detail.errors`: every bad line"}})
async def kpi_import(
    request: Request,
    staff: EditorDep,
    settings: SettingsDep,
    file: Annotated[UploadFile, File(description="CSV: date,channel,followers[,account]")],
    replace: Annotated[bool, Form(description="Overwrite figures already stored for the same dates")] = False,
) -> dict[str, int]:
    """Import follower history (UTF-8 or Shift_JIS CSV) all or nothing: `{"added", "replaced",
    "unchanged"}`, or 422 listing every bad line (Japanese first) with nothing stored."""
    data = await file.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        raise HTTPException(413, "ファイルが大きすぎます(2 MB まで)/ file larger than 2 MB")
    accounts = configured_accounts(settings)
    actor, origin = audit.Actor.of(staff), audit.Origin.of(request)

    def store(session: Session) -> dict[str, int]:
        begin_immediate(session)  # validated against stored rows, then written: one lock
        result = import_csv(
            session, decode(data), today=jst_date(utcnow()), replace=replace, accounts=accounts
        )
        kpi_audited(session, actor, origin, "kpi.import", "history", import_counts(result))
        return {"added": result.added, "replaced": result.replaced, "unchanged": result.unchanged}

    try:
        done: dict[str, int] = await request.app.state.db.run(store)
    except CsvImportError as exc:
        raise HTTPException(422, {"errors": exc.errors}) from None
    return done


def follows(before: str, month: str) -> bool:
    """Whether month `before` (YYYY-MM) is the calendar month just before `month`."""
    (y0, m0), (y1, m1) = (map(int, before.split("-")), map(int, month.split("-")))
    return y1 * 12 + m1 - (y0 * 12 + m0) == 1


def _show_demo(session: Session, asked: bool | None) -> bool:
    """The demo figures when asked for, or by default when there are demo figures and no real ones."""
    if asked is not None:
        return asked
    return snapshot_span(session) is None and snapshot_span(session, demo=True) is not None


@router.get("/kpi", response_class=HTMLResponse, include_in_schema=False)
def kpi_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    staff: OptionalStaffDep,
    start: From = None,
    end: To = None,
    demo: bool | None = None,
) -> Response:
    if staff is None:
        return sign_in_redirect(request)
    show_demo = _show_demo(session, demo)
    base: dict[str, Any] = {
        "demo": show_demo,
        "has_demo": snapshot_span(session, demo=True) is not None,
        "can_import": staff.role in EDITOR_ROLES,
        "targets": load_targets(session),
        "labels": CHANNEL_LABELS,
        "active": "kpi",
    }
    try:
        report = _load(session, settings, start, end, show_demo)
    except RangeError as exc:
        context = {**base, "error": str(exc), "report": None}
        return render(request, "pages/kpi.html.j2", context, status_code=422)
    query = urlencode(
        {
            "from": report.start.isoformat(),
            "to": report.end.isoformat(),
            **({"demo": "true"} if show_demo else {}),
        }
    )
    context = {
        **base,
        "error": None,
        "report": report,
        "data": report_json(report),
        "query": query,
        "channel_months": {
            name: {m.month: m.followers for m in months} for name, months in report.channel_monthly.items()
        },
        "accounts": latest_snapshots(session, report.end, demo=show_demo),
        "after_gap": {m.month for m in report.monthly if m.since and not follows(m.since, m.month)},
        "problems": recent_problems(session, report.end - dt.timedelta(days=30), demo=show_demo),
        "carry_days": settings.kpi_carry_days,
    }
    return render(request, "pages/kpi.html.j2", context)
