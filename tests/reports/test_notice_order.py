"""A report's status pushes are claimed one at a time, in the order they were queued: a push waits
while an earlier one of the same report is pending (leased, or waiting for a retry)."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from reports import report_store as store
from reports.report_jobs import claim, settle
from reports.reports_tables import ReportNotice
from storage.base import utcnow
from storage.db import session_scope


def queue(s: Session, report_id: int, *statuses: str) -> list[int]:
    rows = [ReportNotice(report_id=report_id, status=st, retry_key=str(uuid.uuid4())) for st in statuses]
    s.add_all(rows)
    s.flush()
    return [r.id for r in rows]


def new_report(s: Session) -> int:
    report = store.create(s, store.NewReport("fire", "phone", "メモ", address="千里山"), "kouhou")
    assert report is not None
    return report.id


def test_one_reports_pushes_go_in_order_and_others_in_parallel(sessions: sessionmaker[Session]) -> None:
    with session_scope(sessions) as s:
        first, second = new_report(s), new_report(s)
        checking, handled = queue(s, first, "checking", "handled")
        (other,) = queue(s, second, "checking")
    with session_scope(sessions) as s:
        assert claim(s, ReportNotice, lease=60, batch=10) == [checking, other]
    with session_scope(sessions) as s:  # still leased: nothing else of that report
        assert claim(s, ReportNotice, lease=60, batch=10) == []
    with session_scope(sessions) as s:  # the first push waits for a retry: the second still waits
        settle(s, model=ReportNotice, row_id=checking, error="LINE 503", retry_in=300)
        assert claim(s, ReportNotice, lease=60, batch=10) == []
    with session_scope(sessions) as s:
        s.execute(
            update(ReportNotice)
            .where(ReportNotice.id == checking)
            .values(next_try_at=utcnow() - dt.timedelta(seconds=1))
        )
        assert claim(s, ReportNotice, lease=60, batch=10) == [checking]
    with session_scope(sessions) as s:
        settle(s, model=ReportNotice, row_id=checking, state="sent")
        assert claim(s, ReportNotice, lease=60, batch=10) == [handled]


def test_a_failed_push_does_not_hold_the_next_one(sessions: sessionmaker[Session]) -> None:
    with session_scope(sessions) as s:
        report = new_report(s)
        checking, handled = queue(s, report, "checking", "handled")
    with session_scope(sessions) as s:
        assert claim(s, ReportNotice, lease=60, batch=10) == [checking]
        settle(s, model=ReportNotice, row_id=checking, state="failed", error="LINE 400")
    with session_scope(sessions) as s:
        assert claim(s, ReportNotice, lease=60, batch=10) == [handled]
