"""KPI endpoints: JSON report, CSV export, PNG/SVG chart under /api/v1/kpi, and the staff page /kpi.

Staff only (any role). The follower counts themselves are public, but the report also shows why
fetches failed (operational details of the city's accounts), and drawing a chart costs CPU, which a
public endpoint would expose to anyone. Staff publish the figures through the city's own channels
with the CSV and PNG exports.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from app.auth import OptionalStaffDep, StaffDep, sign_in_redirect
from app.deps import SessionDep, SettingsDep
from app.settings import Settings
from app.templating import render
from kpi.fetch_log import recent_problems
from kpi.jst_dates import jst_date
from kpi.kpi_channels import CHANNEL_LABELS
from kpi.report import Report
from kpi.report_export import report_csv, report_json
from kpi.report_loader import Options, RangeError, latest_snapshots, load_report
from storage.base import utcnow

router = APIRouter(tags=["kpi"])
__all__ = ["router"]  # this module is the KPI area in `app.main.AREAS` (collection: `job`)
From = Annotated[dt.date | None, Query(alias="from", description="First date (JST), YYYY-MM-DD")]
To = Annotated[dt.date | None, Query(alias="to", description="Last date (JST), YYYY-MM-DD; default today")]
MEDIA = {"png": "image/png", "svg": "image/svg+xml"}


def _report(session: Session, settings: Settings, start: dt.date | None, end: dt.date | None) -> Report:
    try:
        return load_report(
            session, start, end, today=jst_date(utcnow()), options=Options.from_settings(settings)
        )
    except RangeError as exc:
        raise HTTPException(422, f"{exc} / 期間の指定が正しくありません") from None


@router.get("/api/v1/kpi/report")
def kpi_report(
    session: SessionDep, settings: SettingsDep, _staff: StaffDep, start: From = None, end: To = None
) -> dict[str, Any]:
    """Total and per-channel followers, targets, monthly growth, the projection and data gaps."""
    return report_json(_report(session, settings, start, end))


@router.get("/api/v1/kpi/report.csv", response_class=Response)
def kpi_csv(
    session: SessionDep, settings: SettingsDep, _staff: StaffDep, start: From = None, end: To = None
) -> Response:
    """One row per date: total, estimated flag, each channel and the target (empty cells: unknown)."""
    report = _report(session, settings, start, end)
    name = f"suita-sns-followers_{report.start}_{report.end}.csv"
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
) -> Response:
    """Actual total (and each channel) against the targets, with the projection."""
    from kpi.chart import render_chart  # matplotlib (~40 MB): only loaded when drawing

    report = _report(session, settings, start, end)
    return Response(
        render_chart(report, fmt, channels=channels),
        media_type=MEDIA[fmt],
        headers={"Cache-Control": "private, max-age=60"},
    )


@router.get("/kpi", response_class=HTMLResponse, include_in_schema=False)
def kpi_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    staff: OptionalStaffDep,
    start: From = None,
    end: To = None,
) -> Response:
    if staff is None:
        return sign_in_redirect(request)
    try:
        report = load_report(
            session, start, end, today=jst_date(utcnow()), options=Options.from_settings(settings)
        )
    except RangeError as exc:
        return render(request, "pages/kpi.html.j2", {"error": str(exc), "report": None}, status_code=422)
    query = urlencode({"from": report.start.isoformat(), "to": report.end.isoformat()})
    context = {
        "error": None,
        "report": report,
        "data": report_json(report),
        "query": query,
        "labels": CHANNEL_LABELS,
        "channel_months": {
            name: {m.month: m.followers for m in months} for name, months in report.channel_monthly.items()
        },
        "accounts": latest_snapshots(session, report.end),
        "problems": recent_problems(session, report.end - dt.timedelta(days=30)),
        "carry_days": settings.kpi_carry_days,
    }
    return render(request, "pages/kpi.html.j2", context)
