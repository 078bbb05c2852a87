"""The audit log for admins: `/audit` (page), `GET /api/v1/audit` (JSON, newest first) and
`GET /api/v1/audit.csv` (the same filters, as a spreadsheet).

Filters: `actor` (username), `action` (exact, or a prefix ending in "." such as `post.`), `object_type`,
`object_id`, `since` / `until` (days in Japan time, both included). The CSV neutralises cells that a
spreadsheet would run as a formula (`csv_cell`).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from app.audit_tables import AuditEvent
from app.auth import AdminDep, OptionalStaffDep
from app.deps import SessionDep
from app.staff_admin import admin_page
from app.tokyo_time import JST, to_jst

router = APIRouter(tags=["audit"])
CSV_ROWS = 10_000  # one export reads at most this many rows (narrow the filters for more)
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class AuditFilter:
    """What `/api/v1/audit` and its CSV select."""

    actor: str | None = None
    action: str | None = None
    object_type: str | None = None
    object_id: str | None = None
    since: dt.date | None = None
    until: dt.date | None = None

    def apply(self, stmt: Select[tuple[AuditEvent]]) -> Select[tuple[AuditEvent]]:
        if self.actor:
            stmt = stmt.where(AuditEvent.actor == self.actor)
        if self.action and self.action.endswith("."):
            stmt = stmt.where(AuditEvent.action.startswith(self.action, autoescape=True))
        elif self.action:
            stmt = stmt.where(AuditEvent.action == self.action)
        if self.object_type:
            stmt = stmt.where(AuditEvent.object_type == self.object_type)
        if self.object_id:
            stmt = stmt.where(AuditEvent.object_id == self.object_id)
        if self.since:
            stmt = stmt.where(AuditEvent.at >= dt.datetime.combine(self.since, dt.time(), JST))
        if self.until:
            end = dt.datetime.combine(self.until + dt.timedelta(days=1), dt.time(), JST)
            stmt = stmt.where(AuditEvent.at < end)
        return stmt


def audit_filter(
    actor: Annotated[str | None, Query(max_length=64)] = None,
    action: Annotated[str | None, Query(max_length=48)] = None,
    object_type: Annotated[str | None, Query(max_length=32)] = None,
    object_id: Annotated[str | None, Query(max_length=64)] = None,
    since: Annotated[dt.date | None, Query(description="From this day (JST)")] = None,
    until: Annotated[dt.date | None, Query(description="Until this day (JST), included")] = None,
) -> AuditFilter:
    return AuditFilter(actor, action, object_type, object_id, since, until)


FilterDep = Annotated[AuditFilter, Depends(audit_filter)]


def event_view(event: AuditEvent) -> dict[str, Any]:
    return {
        "id": event.id,
        "at": to_jst(event.at),
        "actor": event.actor,
        "actor_role": event.actor_role,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "changes": event.summary.get("changes", {}),
        "note": event.summary.get("note"),
        "request_id": event.request_id,
        "client": event.client,
        "hash": event.hash,
    }


def find(session: Session, where: AuditFilter, limit: int, before_id: int | None = None) -> list[AuditEvent]:
    stmt = where.apply(select(AuditEvent))
    if before_id:
        stmt = stmt.where(AuditEvent.id < before_id)
    return list(session.scalars(stmt.order_by(AuditEvent.id.desc()).limit(limit)))


@router.get("/api/v1/audit", summary="The audit log, newest first (admin)")
def list_events(
    admin: AdminDep,
    session: SessionDep,
    where: FilterDep,
    limit: int = Query(100, ge=1, le=500),
    before_id: int | None = Query(None, description="Page: events with a smaller id"),
) -> dict[str, Any]:
    return {"events": [event_view(e) for e in find(session, where, limit, before_id)]}


def csv_cell(value: object) -> str:
    """A cell a spreadsheet shows as text: one starting with = + - @ (or a tab or carriage return)
    gets a leading apostrophe, so it is never run as a formula (pure)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


CSV_COLUMNS = ("id", "at", "actor", "actor_role", "action", "object_type", "object_id", "changes", "note")
CSV_TAIL = ("request_id", "client", "hash")


def events_csv(events: list[AuditEvent]) -> str:
    """The events as CSV (UTF-8 with BOM for spreadsheets), every cell neutralised."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow((*CSV_COLUMNS, *CSV_TAIL))
    for event in events:
        view = event_view(event)
        view["changes"] = json.dumps(view["changes"], ensure_ascii=False) if view["changes"] else ""
        writer.writerow([csv_cell(view[c]) for c in (*CSV_COLUMNS, *CSV_TAIL)])
    return "\ufeff" + out.getvalue()


@router.get("/api/v1/audit.csv", summary="The audit log as CSV (admin)", response_class=Response)
def export_csv(admin: AdminDep, session: SessionDep, where: FilterDep) -> Response:
    body = events_csv(find(session, where, CSV_ROWS))
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="audit.csv"', "Cache-Control": "no-store"},
    )


@router.get("/audit", response_class=HTMLResponse, include_in_schema=False)
def audit_page(request: Request, staff: OptionalStaffDep) -> Response:
    return admin_page(request, staff, "pages/audit.html.j2", {"active": "audit"})
