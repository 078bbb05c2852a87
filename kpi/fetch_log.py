"""Fetch bookkeeping: one row per (channel, account, date) that says whether its figure was stored,
is being fetched (a lease), or failed and why, and when to try again. Claims are single atomic
statements so two workers never call a platform for the same account and date at once."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ColumnElement, or_, select, update
from sqlalchemy.orm import Session

from kpi.kpi_tables import FollowerFetch
from notifier.channels.channel_base import DEMO_ACCOUNT
from storage.leases import Lease, acquire

LEASE = dt.timedelta(minutes=2)
FETCH_LEASE = Lease(until=FollowerFetch.lease_until)
UNREADY_RETRY = dt.timedelta(hours=1)  # LINE: insight "usually takes about a day"; ask hourly
ERROR_RETRY = dt.timedelta(minutes=15)
MAX_ERROR_RETRY = dt.timedelta(hours=6)


def _key(channel: str, account: str, date: dt.date) -> tuple[ColumnElement[bool], ...]:
    f = FollowerFetch
    return (f.channel == channel, f.account == account, f.date == date)


def claim(
    session: Session, channel: str, account: str, date: dt.date, now: dt.datetime, *, force: bool
) -> bool:
    """Take the lease on fetching this figure; False when it is stored, leased by another worker, or
    (unless `force`) its next attempt is not due yet. The caller commits."""
    f = FollowerFetch
    conditions: list[ColumnElement[bool]] = [f.status != "ok"]
    if not force:
        conditions.append(or_(f.next_attempt_at.is_(None), f.next_attempt_at <= now))
    return acquire(
        session,
        f,
        {"channel": channel, "account": account, "date": date},
        FETCH_LEASE,
        owner=None,
        now=now,
        seconds=LEASE.total_seconds(),
        when=conditions,
        new_row={"status": "pending", "attempts": 0},
        also={"updated_at": now},
    )


def release(session: Session, channel: str, account: str, date: dt.date, now: dt.datetime) -> None:
    """Give the lease back without an attempt (e.g. no rate budget left). The caller commits."""
    session.execute(
        update(FollowerFetch)
        .where(*_key(channel, account, date))
        .values(**FETCH_LEASE.cleared(), updated_at=now)
    )


def finish(
    session: Session,
    channel: str,
    account: str,
    date: dt.date,
    now: dt.datetime,
    status: str,
    reason: str | None,
) -> None:
    """Record an attempt's outcome (ok, unready or error) and when to try again. The caller commits."""
    f = FollowerFetch
    attempts = session.scalar(select(f.attempts).where(*_key(channel, account, date))) or 0
    retry: dt.datetime | None = None
    if status == "unready":
        retry = now + UNREADY_RETRY
    elif status == "error":
        retry = now + min(ERROR_RETRY * 2**attempts, MAX_ERROR_RETRY)
    session.execute(
        update(f)
        .where(*_key(channel, account, date))
        .values(
            status=status,
            reason=reason[:500] if reason else None,
            attempts=attempts + 1,
            **FETCH_LEASE.cleared(),
            next_attempt_at=retry,
            updated_at=now,
        )
    )


def retry_dates(session: Session, channel: str, account: str, since: dt.date) -> list[dt.date]:
    """Dates since `since` whose fetch has not succeeded yet (unready, error, or interrupted)."""
    f = FollowerFetch
    stmt = select(f.date).where(f.channel == channel, f.account == account, f.date >= since, f.status != "ok")
    return list(session.scalars(stmt.order_by(f.date)))


def recent_problems(
    session: Session, since: dt.date, limit: int = 50, *, demo: bool = False
) -> list[FollowerFetch]:
    """Fetches since `since` that have no figure yet, newest first (for the staff page); of the real
    accounts, or with `demo` of the demo ones."""
    f = FollowerFetch
    real = f.account == DEMO_ACCOUNT if demo else f.account != DEMO_ACCOUNT
    stmt = select(f).where(f.date >= since, f.status.in_(("unready", "error")), real)
    return list(session.scalars(stmt.order_by(f.date.desc(), f.channel).limit(limit)))
