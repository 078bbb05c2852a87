"""What staff do to reports: change a status, correct category and place, merge duplicates into a main
report (and undo it), confirm or dismiss a post collected from another network. Each action writes a
line of the report's history (`report_history`, what the detail view shows, also for residents' and
the system's actions) and one audit event (`app.audit.record`, the tamper-evident log of staff
actions, changed fields masked) in the caller's transaction. Raises `ReportError`; the caller commits.

Duplicates stay flat: a duplicate's main report is never itself a duplicate. Merging a report that has
duplicates of its own moves them to the new main report, so merges can never form a cycle.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import audit
from reports.line_flow import report_number
from reports.report_kinds import BY_ID, PUSHED_STATUSES, STATUSES, category_label
from reports.report_store import MAX_ADDRESS, MAX_NOTE, ReportError, check_place
from reports.reports_tables import DamageReport, ReportChange, ReportNotice
from storage.base import utcnow

MAX_MERGE = 50  # reports merged (or un-merged) in one action: bounded work per request
NO_SUCH_REPORT = "通報が見つかりません / no such report"


@dataclass(frozen=True)
class StaffAct:
    """Who acts (for the history and the audit log) and where from."""

    actor: audit.Actor
    origin: audit.Origin


def fields(report: DamageReport) -> dict[str, Any]:
    """The fields staff change, as the audit log compares them."""
    return {
        "status": report.status,
        "duplicate_of": report.duplicate_of,
        "confirmed": report.confirmed,
        "category": report.category,
        "lat": report.lat,
        "lon": report.lon,
        "address": report.address,
    }


def _clean(note: str | None) -> str | None:
    return (note or "").strip()[:MAX_NOTE] or None


def _joined(*parts: str | None) -> str | None:
    return " — ".join(p for p in parts if p)[:MAX_NOTE] or None


def _locked(session: Session, report_id: int) -> DamageReport:
    report = session.get(DamageReport, report_id, with_for_update=True)
    if report is None:
        raise ReportError(NO_SUCH_REPORT)
    return report


def _history(
    session: Session, report: DamageReport, actor: str, previous: str | None, note: str | None
) -> None:
    now = utcnow()
    report.updated_at = now
    change = ReportChange(
        report_id=report.id, at=now, actor=actor, from_status=previous, to_status=report.status, note=note
    )
    session.add(change)


def _notify(session: Session, report: DamageReport, status: str) -> bool:
    """Queue the reporter's push about `status` (on LINE, for the pushed statuses); True if queued."""
    if status not in PUSHED_STATUSES or report.reporter_id is None:
        return False
    session.add(ReportNotice(report_id=report.id, status=status, retry_key=str(uuid.uuid4())))
    return True


def duplicates_of(
    session: Session, main_id: int, *, lock: bool = False, limit: int | None = None
) -> list[DamageReport]:
    """The reports merged into `main_id`, oldest first (the first `limit`)."""
    stmt = select(DamageReport).where(DamageReport.duplicate_of == main_id).order_by(DamageReport.id)
    return list(session.scalars((stmt.with_for_update() if lock else stmt).limit(limit)))


def change_status(
    session: Session, report_id: int, status: str, act: StaffAct, *, note: str | None = None
) -> DamageReport:
    """Move a report to `status` (not `duplicate`: that is `merge`). The reporter's push is queued, and
    for `checking`/`handled` also the pushes to the residents who filed its duplicates (they reported
    the same thing). A duplicate moved to another status leaves its main report."""
    if status not in STATUSES:
        raise ReportError(f"不明な状態です / unknown status {status[:40]!r}")
    if status == "duplicate":
        raise ReportError("重複の統合には統合先が必要です / merging needs the main report (duplicate_of)")
    report = _locked(session, report_id)
    if report.status == status:
        raise ReportError("すでにその状態です / the report already has that status")
    before, previous = fields(report), report.status
    report.status, report.duplicate_of = status, None
    report.confirmed = True  # a person looked at it
    text = _clean(note)
    _history(session, report, act.actor.name, previous, text)
    _notify(session, report, status)
    told = [d.id for d in duplicates_of(session, report.id) if _notify(session, d, status)]
    summary: dict[str, Any] = {"changes": audit.changes(before, fields(report)), "note": text}
    if told:
        summary["notified_duplicates"] = told
    audit.record(session, act.actor, act.origin, "report.status", "report", report.id, summary)
    return report


@dataclass(frozen=True)
class Correction:
    """What staff correct: the category, the point (both coordinates), the typed place. A field left
    None is kept; `address=""` clears the typed place."""

    category: str | None = None
    lat: float | None = None
    lon: float | None = None
    address: str | None = None


def _place_text(lat: float | None, lon: float | None, address: str | None) -> str:
    point = f"{lat:.6f}, {lon:.6f}" if lat is not None and lon is not None else "—"
    return f"{point} {address}" if address else point


def correct(session: Session, report_id: int, fix: Correction, act: StaffAct) -> DamageReport:
    """Correct a report's category and place; the change (old → new) is a line of its history and an
    audit event. Raises `ReportError` for an unknown category, a bad point, or nothing to change."""
    if fix.category is not None and fix.category not in BY_ID:
        raise ReportError(f"不明な種類です / unknown category {fix.category[:40]!r}")
    check_place(fix.lat, fix.lon)
    report = _locked(session, report_id)
    before = fields(report)
    changes = []
    if fix.category is not None and fix.category != report.category:
        old, new = category_label(report.category, "ja"), category_label(fix.category, "ja")
        changes.append(f"種類 / category: {old} → {new}")
        report.category = fix.category
    lat, lon = (fix.lat, fix.lon) if fix.lat is not None else (report.lat, report.lon)
    address = report.address if fix.address is None else (fix.address.strip()[:MAX_ADDRESS] or None)
    if (lat, lon, address) != (report.lat, report.lon, report.address):
        old_place = _place_text(report.lat, report.lon, report.address)
        changes.append(f"場所 / place: {old_place} → {_place_text(lat, lon, address)}")
        report.lat, report.lon, report.address = lat, lon, address
    if not changes:
        raise ReportError("変更する内容がありません / nothing to change")
    _history(session, report, act.actor.name, report.status, ("訂正 / corrected: " + "; ".join(changes)))
    summary = {"changes": audit.changes(before, fields(report))}
    audit.record(session, act.actor, act.origin, "report.correct", "report", report.id, summary)
    return report


def _merge_ids(main_id: int, ids: Sequence[int]) -> list[int]:
    unique = list(dict.fromkeys(ids))
    if not 1 <= len(unique) <= MAX_MERGE:
        raise ReportError(f"重複は 1〜{MAX_MERGE} 件で指定してください / give 1 to {MAX_MERGE} duplicates")
    if main_id in unique:
        raise ReportError("通報を自分自身に統合することはできません / a report cannot be merged into itself")
    return unique


def _others(session: Session, ids: Sequence[int]) -> list[DamageReport]:
    stmt = select(DamageReport).where(DamageReport.id.in_(ids)).order_by(DamageReport.id).with_for_update()
    found = list(session.scalars(stmt))
    missing = sorted(set(ids) - {r.id for r in found})
    if missing:
        names = ", ".join(report_number(i) for i in missing[:5])
        raise ReportError(f"通報が見つかりません: {names} / no such report(s): {names}")
    return found


def merge(
    session: Session, main_id: int, duplicate_ids: Sequence[int], act: StaffAct, *, note: str | None = None
) -> DamageReport:
    """Mark `duplicate_ids` as duplicates of the main report `main_id` in one action. The main report
    must not be a duplicate itself; a report merged into it that had duplicates of its own hands them
    over (flat: no chains, no cycles). A report already merged into this main report is refused. When
    the main report is being checked or handled, the residents who filed the duplicates are told so."""
    ids = _merge_ids(main_id, duplicate_ids)
    main = _locked(session, main_id)
    if main.status == "duplicate":
        target = report_number(main.duplicate_of) if main.duplicate_of else "?"
        raise ReportError(
            f"{report_number(main.id)} は重複({target} に統合済み)なので統合先にできません / "
            f"{report_number(main.id)} is itself a duplicate (of {target}): merge into {target} instead"
        )
    others = _others(session, ids)
    already = [report_number(r.id) for r in others if r.duplicate_of == main.id]
    if already:
        raise ReportError(f"すでに統合済みです / already merged: {', '.join(already)}")
    text = _clean(note)
    changes: dict[str, Any] = {}
    moved: list[int] = []
    for other in others:
        before, previous = fields(other), other.status
        other.status, other.duplicate_of, other.confirmed = "duplicate", main.id, True
        _history(
            session,
            other,
            act.actor.name,
            previous,
            _joined(f"{report_number(main.id)} に統合 / merged into", text),
        )
        _notify(session, other, main.status)
        changes[report_number(other.id)] = audit.changes(before, fields(other))
        for child in duplicates_of(session, other.id, lock=True):
            child.duplicate_of = main.id
            moved.append(child.id)
            via, into = report_number(other.id), report_number(main.id)
            _history(
                session, child, act.actor.name, child.status, f"{via} とともに {into} へ / moved with {via}"
            )
    names = ", ".join(report_number(r.id) for r in others)
    _history(
        session, main, act.actor.name, main.status, _joined(f"重複を統合 / merged duplicates: {names}", text)
    )
    summary = {"duplicates": ids, "moved": moved, "changes": changes, "note": text}
    audit.record(session, act.actor, act.origin, "report.merge", "report", main.id, summary)
    return main


def _status_before_merge(session: Session, report_id: int) -> str:
    """The status a duplicate had before it was merged (its history says), `new` when unknown."""
    stmt = (
        select(ReportChange.from_status)
        .where(ReportChange.report_id == report_id, ReportChange.to_status == "duplicate")
        .where(ReportChange.from_status.is_not(None), ReportChange.from_status != "duplicate")
        .order_by(ReportChange.id.desc())
        .limit(1)
    )
    return session.scalar(stmt) or "new"


def unmerge(
    session: Session, main_id: int, duplicate_ids: Sequence[int], act: StaffAct, *, note: str | None = None
) -> DamageReport:
    """Undo a merge: each of `duplicate_ids` (merged into `main_id`) gets back the status it had
    before it was merged and no longer counts as a duplicate."""
    ids = _merge_ids(main_id, duplicate_ids)
    main = _locked(session, main_id)
    others = _others(session, ids)
    stray = [report_number(r.id) for r in others if r.duplicate_of != main.id]
    if stray:
        raise ReportError(
            f"{report_number(main.id)} に統合されていません / not merged into {report_number(main.id)}: "
            + ", ".join(stray)
        )
    text = _clean(note)
    changes: dict[str, Any] = {}
    for other in others:
        before = fields(other)
        other.status, other.duplicate_of = _status_before_merge(session, other.id), None
        _history(
            session,
            other,
            act.actor.name,
            "duplicate",
            _joined(f"{report_number(main.id)} から分離 / unmerged", text),
        )
        changes[report_number(other.id)] = audit.changes(before, fields(other))
    names = ", ".join(report_number(r.id) for r in others)
    _history(session, main, act.actor.name, main.status, _joined(f"統合を解除 / unmerged: {names}", text))
    summary = {"duplicates": ids, "changes": changes, "note": text}
    audit.record(session, act.actor, act.origin, "report.unmerge", "report", main.id, summary)
    return main


def confirm(
    session: Session, report_id: int, act: StaffAct, *, dismiss: bool = False, note: str | None = None
) -> DamageReport:
    """A person confirms a collected post (it counts from now on), or dismisses it (`not_actionable`)."""
    report = _locked(session, report_id)
    if report.confirmed:
        raise ReportError("すでに確認済みです / the report is already confirmed")
    before, previous = fields(report), report.status
    report.confirmed = True
    if dismiss:
        report.status = "not_actionable"
    text = _joined("却下 / dismissed" if dismiss else "確認 / confirmed", _clean(note))
    _history(session, report, act.actor.name, previous, text)
    summary = {"changes": audit.changes(before, fields(report)), "note": _clean(note)}
    action = "report.dismiss" if dismiss else "report.confirm"
    audit.record(session, act.actor, act.origin, action, "report", report.id, summary)
    return report
